package org.buildhook.runner.exec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Run in a child JVM with a small heap by {@link LogCapOverHeapTest}: launches one job that writes
 * more than the log cap, a cap larger than that heap, and prints the outcome
 * ({@code RESULT truncated=… message}) and the log's last line on stdout, or {@code NO OUTCOME}.
 *
 * <p>Arguments: the folder to work in, the log cap in bytes, how many bytes the job writes.
 */
public final class FloodProbe {

    private FloodProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long cap = Long.parseLong(args[1]);
        LauncherConfig config = LauncherConfig.defaults(dir.resolve("logs")).withDefaultWorkdir(dir)
                .withBaseEnvironment(Map.of("PATH", "/usr/bin:/bin")).withLogCapBytes(cap)
                .withKillGrace(Duration.ofSeconds(1));
        try (CommonsExecLauncher launcher = CommonsExecLauncher.create(config)) {
            JobRequest request = new JobRequest(Fixtures.jobId("flood"), 1,
                    List.of("/bin/sh", "-c", "yes 0123456789abcdef | head -c \"$1\"; echo; echo the-end", "sh", args[2]),
                    Map.of(), dir, null, Duration.ofMinutes(3));
            JobOutcome outcome;
            try {
                outcome = launcher.start(request).outcome().get(4, TimeUnit.MINUTES);
            } catch (TimeoutException e) {
                System.out.println("NO OUTCOME");
                return;
            }
            System.out.println(outcome.result() + " truncated=" + outcome.logTruncated() + " " + outcome.message());
            // Line by line: the log is larger than this JVM's heap allows to read at once.
            try (var lines = Files.lines(outcome.logFile(), StandardCharsets.ISO_8859_1)) {
                lines.filter(l -> l.startsWith("the-end") || l.contains("[buildhook]"))
                        .forEach(l -> System.out.println("LOG " + l));
            }
        }
    }
}
