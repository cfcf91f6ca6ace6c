package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * A real job that prints its secret values: what reaches its log file has them as {@code ***} (mask36), even when
 * the job writes a secret in two pieces with a pause between them, which the test drives through a FIFO.
 */
class SecretsMaskedInTheLogTest extends LauncherTest {

    private static final String SECRET = "s3cr3t-Pa55word";

    @Test
    void aSecretTheJobPrintsInTwoPiecesIsMaskedAndItsBeginningWaitsForTheRest() throws Exception {
        Path fifo = dir.resolve("go.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor(60, TimeUnit.SECONDS) && mkfifo.exitValue() == 0).isTrue();
        // One write: the line and the secret's first half reach the output pump together.
        Path script = fixtures.script("split.sh", "printf 'before\\n%s' \"$(printf %s \"$DB_PASSWORD\" | cut -c1-8)\"\n"
                + "read go < '" + fifo + "'\n"
                + "printf '%s after\\n' \"$(printf %s \"$DB_PASSWORD\" | cut -c9-)\"");
        JobRequest request = new JobRequest(Fixtures.jobId("split-secret"), 1, List.of(script.toString()),
                Map.of("DB_PASSWORD", SECRET), null, null, Duration.ofMinutes(2));

        RunningJob job = launcher.start(request);
        Path log = dir.resolve("logs").resolve(Fixtures.jobId("split-secret")).resolve("attempt-1.log");
        await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(log) && Files.readString(log).startsWith("before\n"));
        assertThat(Files.readString(log)).as("the secret's first half is held back").isEqualTo("before\n");
        CompletableFuture<Void> go = CompletableFuture.runAsync(() -> {
            try {
                Files.writeString(fifo, "go\n"); // blocks until the job opens the FIFO
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        JobOutcome outcome = job.outcome().get(90, TimeUnit.SECONDS);
        go.get(10, TimeUnit.SECONDS);

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        String kept = Files.readString(outcome.logFile(), StandardCharsets.UTF_8);
        assertThat(kept).isEqualTo("before\n*** after\n");
    }

    @Test
    void theValuesOfSecretNamedVariablesOfTheRequestAndOfTheInheritedEnvironmentAndTheRequestsOwnAreMasked()
            throws Exception {
        launcher.close();
        Map<String, String> base = new java.util.HashMap<>(Fixtures.BASE_ENV);
        base.put("DEPLOY_TOKEN", "inherited-token-1");
        launcher = fixtures.launcher(fixtures.config().withBaseEnvironment(base));
        Path script = fixtures.script("print.sh", "set -x\n: \"$DB_PASSWORD\" \"$DEPLOY_TOKEN\" \"$1\" \"$SHORT_KEY\" \"$PLAIN\"");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("print-secrets"), 1,
                List.of(script.toString(), "Authorization: Bearer bearer-value-7"),
                Map.of("DB_PASSWORD", SECRET, "SHORT_KEY", "abc", "PLAIN", "plain-value"), null, null,
                Duration.ofMinutes(1), Set.of("bearer-value-7")));

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        String kept = Files.readString(outcome.logFile(), StandardCharsets.UTF_8);
        assertThat(kept).contains("***").contains("Authorization: Bearer ***").contains("abc").contains("plain-value")
                .doesNotContain(SECRET).doesNotContain("inherited-token-1").doesNotContain("bearer-value-7");
    }
}
