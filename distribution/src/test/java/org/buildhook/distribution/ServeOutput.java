package org.buildhook.distribution;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Follows the output of a {@code bin/buildhook serve} process that a test started. */
final class ServeOutput {

    /** The reader thread of each process {@link #awaitListening} follows, for {@link #awaitEnd}. */
    private static final java.util.Map<Process, Thread> READERS =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /** The line {@code serve} prints once it listens; group 1 is its base URL. */
    static final Pattern LISTENING = Pattern.compile(
            "buildhook listening on (?:all interfaces, port \\d+ \\(from this host: )?(http://[^\\s;]+/)[ ;]");

    private ServeOutput() {
    }

    /**
     * The lines read so far, one per line: joined under {@code lines}' own lock, since the reader
     * thread of {@link #awaitListening} may still be appending (iterating a synchronized list without
     * it throws {@code ConcurrentModificationException}).
     */
    static String text(List<String> lines) {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    /**
     * Reads {@code server}'s output on a daemon thread named {@code threadName}, adding every line
     * to {@code lines} (which must be safe to read from another thread if the test does), and
     * returns the base URL once {@code serve} says it listens. Fails when {@code serve} ends first,
     * or after 2 minutes: an upper bound only a hung start reaches, however loaded the machine.
     */
    static String awaitListening(Process server, List<String> lines, String threadName) throws Exception {
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
                url.completeExceptionally(new IllegalStateException("serve ended: " + lines));
            } catch (IOException e) {
                url.completeExceptionally(e);
            }
        }, threadName);
        reader.setDaemon(true);
        READERS.put(server, reader);
        reader.start();
        return url.get(2, TimeUnit.MINUTES);
    }

    /**
     * Waits until the reader of {@link #awaitListening} has read {@code server}'s output to its end, every
     * line the process and its children wrote, once it has exited (stop it with {@code toHandle().destroy()}:
     * {@link Process#destroy()} also closes the output, and the last lines are lost). At most 2 minutes.
     */
    static void awaitEnd(Process server) throws InterruptedException {
        Thread reader = READERS.get(server);
        if (reader == null) {
            throw new IllegalStateException("no reader follows this process's output");
        }
        reader.join(TimeUnit.MINUTES.toMillis(2));
        if (reader.isAlive()) {
            throw new AssertionError("the output of process " + server.pid() + " did not end within 2 minutes");
        }
    }
}
