package org.buildhook.benchmarks.scripts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code summary.py} prints, under the paced answer p99 goal, the p99 without each of the 4 senders' first request
 * (their connections' set-up and the load generator's own start), read from the kept {@code LABEL-paced*.lat} files
 * and averaged over the rounds (docs/BENCHMARKS.md, thirty-first pass). The goal's own row is unchanged.
 */
class SummaryPacedFirstRequestsTest {

    private static final Path SUMMARY = Path.of("scripts", "summary.py").toAbsolutePath();

    @Test
    void thePacedP99WithoutEachSendersFirstRequestIsPrintedBesideTheGoalsOwn(@TempDir Path run) throws Exception {
        // round 1: the 4 first requests (earliest sends, written in another order) are slow, the rest 1..196 ms/10;
        // round 2: the same shape with the rest twice as slow
        lat(run.resolve("buildhook-sqlite-paced-r1.lat"), 1.0);
        lat(run.resolve("buildhook-sqlite-paced-r2.lat"), 2.0);
        lat(run.resolve("adnanh-paced-r1.lat"), 0.5);
        result(run.resolve("buildhook-sqlite-paced-r1.out"), "buildhook-sqlite-paced", "p99_ms=40.00");
        result(run.resolve("buildhook-sqlite-paced-r2.out"), "buildhook-sqlite-paced", "p99_ms=50.00");
        result(run.resolve("adnanh-paced-r1.out"), "adnanh-paced", "p99_ms=30.00");
        result(run.resolve("buildhook-sqlite-r1.out"), "buildhook-sqlite", "accepted_per_s=900.0");

        String out = summary(run);

        assertThat(out).containsPattern("buildhook-sqlite: paced answer p99 +45\\.0 ms +adnanh: 30\\.0 ms .*MISSED");
        // nearest rank over 196 answers: the 195th, 19.5 ms in round 1 and 39.0 ms in round 2; adnanh 9.75 ms
        assertThat(out).containsPattern(
                "buildhook-sqlite: paced answer p99 after each sender's first request +29\\.2 ms +adnanh, the same: "
                        + "9\\.75 ms +x3\\.00 +\\(context\\)");
    }

    /** 200 answers: the 4 earliest sends take 100 ms, then {@code i * scale / 10} ms for i = 1..196, shuffled. */
    private static void lat(Path file, double scale) throws IOException {
        List<String> lines = new ArrayList<>();
        long t0 = 1_796_440_304_560_614L;
        for (int i = 1; i <= 196; i++) {
            lines.add((5_000_003 + i) + " " + (t0 + 1_000_000L + i * 100_000L) + " " + String.format(
                    java.util.Locale.ROOT, "%.3f", i * scale / 10));
        }
        for (int i = 0; i < 4; i++) {
            lines.add(i % 2 == 0 ? lines.size() / 2 : lines.size(), (5_000_000 + i) + " " + (t0 + i * 900) + " 100.000");
        }
        Files.write(file, lines);
    }

    private static void result(Path file, String label, String fields) throws IOException {
        Files.writeString(file, "RESULT label=" + label + " requests=200 " + fields + "\n");
    }

    private static String summary(Path run) throws Exception {
        Process p = new ProcessBuilder("python3", SUMMARY.toString(), run.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
