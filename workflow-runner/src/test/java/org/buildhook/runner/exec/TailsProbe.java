package org.buildhook.runner.exec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Run in a child JVM with a small heap by {@link LogCapOverHeapTest}: several jobs' logs past a cap
 * larger than that heap at once (as {@code runner.threads} jobs flooding their logs), then prints
 * {@code TAILS <bytes the tails hold> OF <max heap>} and whether the rest of the server could still
 * allocate a delivery's worth of memory ({@code SERVER OK} or {@code SERVER OUT OF MEMORY}).
 *
 * <p>Arguments: the log cap in bytes, how many logs, the bytes the server then allocates.
 */
public final class TailsProbe {

    private static final Pattern SHORTENED = Pattern.compile("tail shortened to (\\d+) bytes");

    private TailsProbe() {
    }

    public static void main(String[] args) {
        long cap = Long.parseLong(args[0]);
        int count = Integer.parseInt(args[1]);
        int server = Integer.parseInt(args[2]);
        byte[] chunk = new byte[1 << 20];
        List<CappedLog> logs = new ArrayList<>();
        long tails = 0;
        for (int i = 0; i < count; i++) {
            // No file: only the tail in memory matters here.
            CappedLog log = new CappedLog(null, cap, new IOException("no file in this probe"));
            for (long written = 0; written <= cap; written += chunk.length) {
                log.write(chunk, 0, chunk.length);
            }
            logs.add(log);
            String shortened = log.tailShortened();
            Matcher m = SHORTENED.matcher(shortened == null ? "" : shortened);
            tails += m.find() ? Long.parseLong(m.group(1)) : cap;
        }
        System.out.println("TAILS " + tails + " OF " + Runtime.getRuntime().maxMemory());
        try {
            byte[] delivery = new byte[server];
            System.out.println("SERVER OK " + delivery.length);
        } catch (OutOfMemoryError e) {
            System.out.println("SERVER OUT OF MEMORY");
        }
        logs.forEach(CappedLog::close);
    }
}
