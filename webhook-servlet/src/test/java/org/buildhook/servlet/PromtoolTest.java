package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.buildhook.core.Verification;
import org.buildhook.runner.engine.JobEvents;
import org.junit.jupiter.api.Test;

/**
 * What {@code /metrics} serves, JVM metrics included, passes Prometheus' own linter ({@code promtool
 * check metrics}, Debian package {@code prometheus}, installed by {@code .ci/run}): names, units,
 * {@code _total} suffixes, help texts. Without promtool the test is skipped locally and fails on CI.
 */
class PromtoolTest {

    static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    @Test
    void everyMetricPassesPromtoolCheckMetrics() throws Exception {
        if (!Files.isExecutable(PROMTOOL)) {
            assertThat(System.getenv("CI")).as("promtool is required on CI (apt-get install prometheus)")
                    .isNotEqualTo("true");
            assumeTrue(false, "promtool is not installed (apt-get install prometheus)");
        }
        String scrape;
        try (BuildhookMetrics metrics = BuildhookMetrics.create(Set.of("default"), true)) {
            metrics.delivery("default", BuildhookMetrics.DeliveryOutcome.ACCEPTED);
            metrics.signatureFailure("default", Verification.Failure.values()[0]);
            metrics.accepted("default", Duration.ofMillis(3));
            metrics.queueDepth(() -> 1);
            metrics.runningJobs(() -> 0);
            metrics.storeCommits(() -> 3, () -> 5);
            metrics.unknownPath("POST");
            metrics.jobEvents().attemptEnded("deploy", JobEvents.Ending.FAILED, Duration.ofSeconds(2));
            metrics.jobEvents().jobEnded("deploy", JobEvents.Ending.FAILED);
            System.gc(); // the GC pause series appear after a collection
            scrape = metrics.scrape();
        }

        Process promtool = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = promtool.getOutputStream()) {
            in.write(scrape.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(out).as("promtool's findings").isEmpty();
        assertThat(promtool.exitValue()).isZero();
    }
}
