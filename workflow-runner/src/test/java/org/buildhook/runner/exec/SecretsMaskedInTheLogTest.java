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
        Path script = fixtures.script("print.sh", "set -x\n: \"$DB_PASSWORD\" \"$DEPLOY_TOKEN\" \"$1\" \"$SHORT_KEY\" \"$PLAIN\""
                + " \"$SIGN_KEY_ID\"");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("print-secrets"), 1,
                List.of(script.toString(), "Authorization: Bearer bearer-value-7"),
                Map.of("DB_PASSWORD", SECRET, "SHORT_KEY", "abc", "PLAIN", "plain-value", "SIGN_KEY_ID", "main"), null,
                null,
                Duration.ofMinutes(1), Set.of("bearer-value-7")));

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        String kept = Files.readString(outcome.logFile(), StandardCharsets.UTF_8);
        // An identifier's value (SIGN_KEY_ID: a name ending in _ID) is no secret to mask everywhere (mask36 L4).
        assertThat(kept).contains("***").contains("Authorization: Bearer ***").contains("abc").contains("plain-value main")
                .doesNotContain(SECRET).doesNotContain("inherited-token-1").doesNotContain("bearer-value-7");
    }

    /**
     * tryout47b F13: a proxy password inherited through {@code runner.inherit-env: [HTTPS_PROXY]} (the docs' own
     * example) was printed in clear in the job's log, while the same URL in a rule's {@code env} was masked: the
     * inherited environment's values are masked as a rule's are, the password of a URL too, not only secret-named ones.
     */
    @Test
    void aPasswordInAnInheritedUrlIsMaskedAsInARulesEnv() throws Exception {
        launcher.close();
        Map<String, String> base = new java.util.HashMap<>(Fixtures.BASE_ENV);
        base.put("HTTPS_PROXY", "http://ci:pa55w0rd-proxy@proxy.lan:3128");
        launcher = fixtures.launcher(fixtures.config().withBaseEnvironment(base));
        Path script = fixtures.script("proxy.sh", "echo \"proxy $HTTPS_PROXY mirror $MIRROR\"");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("print-proxy"), 1, List.of(script.toString()),
                Map.of("MIRROR", "http://ci:mirrorpass-55@mirror.lan:8080/debian"), null, null, Duration.ofMinutes(1),
                org.buildhook.runner.store.Redaction.hiddenIn(List.of(script.toString()),
                        Map.of("MIRROR", "http://ci:mirrorpass-55@mirror.lan:8080/debian"))));

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        assertThat(Files.readString(outcome.logFile(), StandardCharsets.UTF_8))
                .isEqualTo("proxy http://ci:***@proxy.lan:3128 mirror http://ci:***@mirror.lan:8080/debian\n");
    }

    /**
     * tryout39 F8: {@code AUTH_ENABLED: "true"} hid every {@code true} the job printed. A boolean word under a secret
     * name is no longer masked in the log, in any case; a setting's other value (a number, a word) still is, and so is
     * a secret.
     */
    @Test
    void aBooleanWordUnderASecretNameIsPrintedAsItIsAndOtherValuesAreStillMasked() throws Exception {
        Path script = fixtures.script("settings.sh", "echo \"verified: true, cached: FALSE, format: json, pin: 12345,"
                + " secret: $DB_PASSWORD\"");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("print-settings"), 1, List.of(script.toString()),
                Map.of("AUTH_ENABLED", "true", "COOKIE_SECURE", "FALSE", "WEBHOOK_FORMAT", "json", "SIGN_KEY_PIN",
                        "12345", "DB_PASSWORD", SECRET), null, null, Duration.ofMinutes(1)));

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        assertThat(Files.readString(outcome.logFile(), StandardCharsets.UTF_8))
                .isEqualTo("verified: true, cached: FALSE, format: ***, pin: ***, secret: ***\n");
    }

    /**
     * mask36 L2: the output is given up while a process outside the job holds its pipe (PipeHolderEscapeTest), with
     * the beginning of a secret held back. The attempt writes *** for what was held back before its end (review38:
     * as it was, it showed the secret's first 8 characters, whose rest may still have been in the pipe), and nothing
     * the pipe gives after that. Run
     * with the JDK's pipes (no session of its own), whose reader is not woken when the attempt lets the pipe go: it
     * reads on until the holder ends, which is after the attempt has closed its log.
     */
    @Test
    void theBeginningOfASecretHeldBackWhenTheOutputIsGivenUpIsWrittenMaskedBeforeTheAttemptsEnd() throws Exception {
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withNewSession(false).withKillGrace(Duration.ofSeconds(5)));
        Path socket = dir.resolve("fd.sock");
        Path ready = dir.resolve("receiver.out");
        Process receiver = new ProcessBuilder("/usr/bin/python3", "-c", String.join("\n",
                "import socket, sys, time",
                "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
                "s.bind(sys.argv[1]); s.listen(1)",
                "print('ready', flush=True)",
                "c, _ = s.accept()",
                "msg, fds, flags, addr = socket.recv_fds(c, 16, 4)",
                "print('got', len(fds), flush=True)",
                "time.sleep(600)"), socket.toString())
                .redirectErrorStream(true).redirectOutput(ready.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(ready).contains("ready"));
            // Prints a line and the secret's first 8 characters, hands its output to the receiver, then waits.
            JobRequest request = new JobRequest(Fixtures.jobId("given-up"), 1, List.of("/usr/bin/python3", "-c",
                    "import os, socket, sys\n"
                            + "os.write(1, b'before\\n' + os.environb[b'DB_PASSWORD'][:8])\n"
                            + "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])\n"
                            + "socket.send_fds(s, [b'x'], [1])\n"
                            + "s.recv(1)\n",
                    socket.toString()), Map.of("DB_PASSWORD", SECRET), null, null, Duration.ofHours(1));
            RunningJob job = launcher.start(request);
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(ready).contains("got 1"));
            ProcessIdentity root = job.process().get(60, TimeUnit.SECONDS);
            ProcessHandle.of(root.pid()).ifPresent(ProcessHandle::destroy); // exits with 143 by itself

            JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);
            assertThat(outcome.message()).contains("its output after that is not in the log");
            receiver.destroyForcibly(); // the pipe's last holder: the output ends now, after the attempt's end
            receiver.waitFor(60, TimeUnit.SECONDS);

            // Masked (review38): the attempt cannot know whether the rest of the secret was still in the pipe.
            assertThat(Files.readString(outcome.logFile(), StandardCharsets.UTF_8)).isEqualTo("before\n***");
        } finally {
            receiver.destroyForcibly();
        }
    }
}
