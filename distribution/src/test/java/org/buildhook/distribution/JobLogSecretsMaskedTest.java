package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's secret values are masked in its own log (mask36): a rule whose job prints its secret variable with
 * {@code printf} in two writes, with a pause the test drives (the job reads a FIFO) between the halves, and its
 * {@code set -x} trace of an argument buildhook knows to be a credential. The log file, {@code GET
 * /api/jobs/{id}/log} and the status page's log view all show {@code ***}; while the job waits, the live log holds
 * back only the secret's beginning.
 */
class JobLogSecretsMaskedTest {

    private static final String SECRET = "db-Pa55word-36";
    private static final String BEARER = "argv-bearer-9f";

    @TempDir
    Path dir;

    private AdminServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theLogFileTheApiAndTheStatusPageShowTheJobsSecretsAsStars() throws Exception {
        Path fifo = dir.resolve("go.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor(60, TimeUnit.SECONDS) && mkfifo.exitValue() == 0).isTrue();
        String script = "printf 'before\\n%s' \"$(printf %s \"$DB_PASSWORD\" | cut -c1-7)\"; read go < \"$GO_FIFO\";"
                + " printf '%s after\\n' \"$(printf %s \"$DB_PASSWORD\" | cut -c8-)\"; set -x; : \"$1\"";
        server = AdminServer.withRunner(dir, "");
        server.replaceRules("rules:\n  - name: prints-secrets\n    run:\n"
                + "      command: [/bin/sh, -c, '" + script.replace("'", "''") + "', sh, 'Authorization: Bearer " + BEARER
                + "']\n      env: {DB_PASSWORD: '" + SECRET + "', GO_FIFO: '" + fifo + "'}\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("prints-secrets");

        String delivery = server.deliver("build-67-passed.json");
        AtomicReference<String> jobId = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            JsonNode jobs = server.getJson("deliveries/" + delivery).path("jobs");
            jobId.set(jobs.path(0).path("id").asText());
            return jobs.size() == 1 && server.get("jobs/" + jobId.get() + "/log?attempt=1").body().startsWith("before\n");
        });
        String id = jobId.get();
        assertThat(server.get("jobs/" + id + "/log?attempt=1").body()).as("the secret's beginning is held back")
                .isEqualTo("before\n");

        CompletableFuture<Void> go = CompletableFuture.runAsync(() -> {
            try {
                Files.writeString(fifo, "go\n"); // waits until the job opens the FIFO
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        await().atMost(Duration.ofMinutes(2)).until(() ->
                server.getJson("jobs/" + id).path("job").path("state").asText().matches("SUCCEEDED|FAILED\\w*"));
        go.get(60, TimeUnit.SECONDS);
        assertThat(server.getJson("jobs/" + id).path("job").path("state").asText()).isEqualTo("SUCCEEDED");

        String served = server.get("jobs/" + id + "/log?attempt=1").body();
        // The trace's quoting is the shell's (dash: none; bash: '…').
        assertThat(served).startsWith("before\n*** after\n+ : ").contains("Authorization: Bearer ***")
                .doesNotContain(SECRET.substring(7)).doesNotContain(BEARER);
        Path file;
        try (Stream<Path> files = Files.walk(dir.resolve("data"))) {
            List<Path> logs = files.filter(p -> p.getFileName().toString().equals("attempt-1.log")
                    && p.getParent().getFileName().toString().equals(id)).toList();
            assertThat(logs).hasSize(1);
            file = logs.get(0);
        }
        assertThat(Files.readString(file)).isEqualTo(served);
        String page = server.page("?job=" + id, server.signIn()).body();
        assertThat(page).contains("*** after").doesNotContain(SECRET.substring(7)).doesNotContain(BEARER);
    }

    /**
     * tryout39 F8: {@code AUTH_ENABLED: "true"} hid every {@code true} of the job's log. A boolean word under a secret
     * name is printed as it is in the log the API and the status page serve, and still shown as {@code ***} under its
     * own name in the job the API shows; a setting's other value and a secret stay masked.
     */
    @Test
    void aBooleanUnderASecretNameIsShownInTheLogAndStaysStarsUnderItsName() throws Exception {
        server = AdminServer.withRunner(dir, "");
        server.replaceRules("rules:\n  - name: prints-settings\n    run:\n"
                + "      command: [/bin/sh, -c, 'echo \"verified: true, format: json, secret: $DB_PASSWORD\"']\n"
                + "      env: {AUTH_ENABLED: \"true\", WEBHOOK_FORMAT: json, DB_PASSWORD: '" + SECRET + "'}\n");
        String id = succeededJob("prints-settings");
        JsonNode job = server.getJson("jobs/" + id).path("job");

        assertThat(server.get("jobs/" + id + "/log?attempt=1").body())
                .isEqualTo("verified: true, format: ***, secret: ***\n");
        assertThat(server.page("?job=" + id, server.signIn()).body()).contains("verified: true, format: ***");
        assertThat(job.path("env").path("AUTH_ENABLED").asText()).as("under its own name").isEqualTo("***");
        assertThat(job.path("env").path("WEBHOOK_FORMAT").asText()).isEqualTo("***");
    }

    /** The id of the job of the rules in force, {@code rule} alone, for a delivery, once it ended: it succeeded. */
    private String succeededJob(String rule) throws Exception {
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly(rule);
        String delivery = server.deliver("build-67-passed.json");
        AtomicReference<String> jobId = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            JsonNode jobs = server.getJson("deliveries/" + delivery).path("jobs");
            jobId.set(jobs.path(0).path("id").asText());
            return jobs.size() == 1 && server.getJson("jobs/" + jobId.get()).path("job").path("state").asText()
                    .matches("SUCCEEDED|FAILED\\w*");
        });
        assertThat(server.getJson("jobs/" + jobId.get()).path("job").path("state").asText()).isEqualTo("SUCCEEDED");
        return jobId.get();
    }

    /**
     * mask38: passwords these programs take after their own flags (redis-cli -a, openssl enc -k, keytool -storepass)
     * and after a long flag whose last word is pass (--db-pass) were shown in clear by the API, the status page (the
     * job and the rules in force) and the job's rule snapshot, and so printed in clear to the job's log.
     */
    @Test
    void passwordsAfterAProgramsOwnFlagAreStarsInTheLogTheApiAndTheStatusPage() throws Exception {
        List<String> passwords = List.of("redis-Pa55-38", "openssl-Pa55-38", "ks-Pa55-38", "db-Pa55-38");
        server = AdminServer.withRunner(dir, "");
        server.replaceRules("rules:\n  - name: prints-passwords\n    run:\n"
                + "      command: [/bin/sh, -c, 'set -x; : \"$@\"', sh, redis-cli, -a, " + passwords.get(0)
                + ", openssl, enc, -k, " + passwords.get(1) + ", keytool, -storepass, " + passwords.get(2)
                + ", deploy, --db-pass, " + passwords.get(3) + "]\n");
        String id = succeededJob("prints-passwords");
        JsonNode job = server.getJson("jobs/" + id).path("job");

        String log = server.get("jobs/" + id + "/log?attempt=1").body();
        assertThat(log).contains("redis-cli -a *** openssl enc -k *** keytool -storepass *** deploy --db-pass ***");
        assertThat(job.path("argv").toString()).contains("\"-a\",\"***\"", "\"-k\",\"***\"",
                "\"-storepass\",\"***\"", "\"--db-pass\",\"***\"");
        String cookie = server.signIn();
        for (String shown : List.of(log, server.get("jobs/" + id).body(), server.page("?job=" + id, cookie).body(),
                server.page("", cookie).body())) {
            for (String password : passwords) {
                assertThat(shown).doesNotContain(password);
            }
        }
    }
}
