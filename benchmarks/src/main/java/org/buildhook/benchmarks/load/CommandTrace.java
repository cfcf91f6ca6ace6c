package org.buildhook.benchmarks.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;

/**
 * The lines the benchmarked command appends, one per run: {@code <start> <end> <build id>}, the
 * times as bash's {@code $EPOCHREALTIME} (seconds with six decimals) — when the command started
 * and when it was about to exit.
 */
public final class CommandTrace {

    private final Map<Long, Entry> byBuildId;

    private CommandTrace(Map<Long, Entry> byBuildId) {
        this.byBuildId = Map.copyOf(byBuildId);
    }

    /** The trace in {@code file} as it is now (an absent file is an empty trace; a torn last line is skipped). */
    public static CommandTrace read(Path file) throws IOException {
        Map<Long, Entry> entries = new HashMap<>();
        if (!Files.exists(file)) {
            return new CommandTrace(entries);
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (String line : lines) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length != 3) {
                continue;
            }
            try {
                long buildId = Long.parseLong(fields[2]);
                entries.put(buildId, new Entry(micros(fields[0]), micros(fields[1])));
            } catch (NumberFormatException torn) {
                // a line still being written; the next read sees it whole
            }
        }
        return new CommandTrace(entries);
    }

    /**
     * Reads {@code file} every 5 ms until it holds {@code expected} build ids that {@code counted}
     * accepts, or {@code timeout} passes; returns the last read.
     */
    public static CommandTrace await(Path file, LongPredicate counted, int expected, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            CommandTrace trace = read(file);
            if (trace.count(counted) >= expected || System.nanoTime() > deadline) {
                return trace;
            }
            Thread.sleep(5); // polling a file another process appends to; nothing to wait on
        }
    }

    /** How many build ids of the trace {@code counted} accepts. */
    public int count(LongPredicate counted) {
        return (int) byBuildId.keySet().stream().filter(counted::test).count();
    }

    /** When the command for {@code buildId} started and ended, or null if it left no line. */
    public Entry entry(long buildId) {
        return byBuildId.get(buildId);
    }

    /** One command's start and end, in microseconds since the epoch. */
    public record Entry(long startMicros, long endMicros) {
    }

    private static long micros(String epochRealtime) {
        String[] parts = epochRealtime.replace(',', '.').split("\\.");
        long seconds = Long.parseLong(parts[0]);
        String fraction = parts.length > 1 ? (parts[1] + "000000").substring(0, 6) : "000000";
        return seconds * 1_000_000L + Long.parseLong(fraction);
    }
}
