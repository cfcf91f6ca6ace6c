package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buildhook status} against a real server (tryout43 F4: it was "Did you mean: buildhook test or buildhook
 * refused-builds?"): healthy, with a job running; degraded (a file where its payload folder goes), exit 1; and a server
 * that does not listen, as every admin command says it.
 */
class StatusCommandTest {

    @TempDir
    Path dir;

    private AdminServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close(); // lets the waiting job end
        }
    }

    @Test
    void statusSaysTheServersHealthNodesAndJobsAndExitsOneUnlessItIsOk() throws Exception {
        server = AdminServer.start(dir);
        String delivery = server.deliver("build-68-failed.json"); // the 'wait' rule: runs until the file 'go' exists
        JsonNode running = server.awaitJob(delivery, "RUNNING");
        AdminCli cli = new AdminCli(server);

        assertThat(cli.run("status")).as(cli.err()).isZero();
        String fingerprint = org.buildhook.runner.rules.RulesFingerprint.of(server.app().rules().current()).hex();
        assertThat(cli.out().lines()).containsExactly(
                "server   " + server.uri(),
                "health   ok",
                "nodes    1 running (sqlite store; buildhook nodes lists them)",
                "rules    ok (fingerprint " + fingerprint.substring(0, 12) + ")",
                "jobs     1 running, 0 queued, 0 waiting, 0 awaiting approval (buildhook jobs --state STATE lists them)");
        assertThat(cli.run("status", "--json")).isZero();
        JsonNode json = AdminServer.json(cli.out());
        assertThat(json.path("health").path("status").asText()).isEqualTo("ok");
        assertThat(json.path("httpStatus").asInt()).isEqualTo(200);
        assertThat(json.path("nodes").path("running").asInt()).isEqualTo(1);
        assertThat(json.path("jobs").path("running").asInt()).as(running.toString()).isEqualTo(1);
        assertThat(json.path("jobs").path("queued").asInt()).isZero();
        assertThat(json.path("rules").path("fingerprint").asText()).isEqualTo(fingerprint);
        assertThat(json.path("rules").path("refused").isNull()).as(json.toString()).isTrue();

        // A node that cannot write its payload folder stores deliveries and starts no job: /healthz says degraded.
        JobsPausedHealthTest.fileWhereTheFolderGoes(dir.resolve("data/payloads"));
        server.deliver("build-67-passed.json");
        await().atMost(Duration.ofMinutes(1)).until(() -> server.app().jobsPaused().isPresent());
        assertThat(cli.run("status")).as(cli.out() + cli.err()).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.out()).contains("health   degraded: jobs do not start on this node")
                .contains("nodes    1 running");

        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        picocli.CommandLine cl = BuildhookCommand.commandLine();
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setErr(new java.io.PrintWriter(err, true));
        assertThat(cl.execute("status", "--url", "http://127.0.0.1:" + port + "/", "--token-file",
                dir.resolve("admin-token").toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).startsWith("buildhook: cannot reach http://127.0.0.1:" + port + "/ (")
                .contains("is 'buildhook serve' running there?");
    }

    /**
     * tryout47b F2: a rules file edited into a mistake is refused and the rules before stay in force; {@code status}
     * said {@code health ok} and nothing of it (only the status page, {@code buildhook_rules_refused} and the log did).
     * It says it now, in its {@code rules} line and {@code --json}; the exit code stays {@code /healthz}'s (0: the
     * server is healthy, it runs the rules last loaded), as docs/operations.md has documented it.
     */
    @Test
    void statusSaysARefusedRulesFileWhereItIsSinceWhenAndWhichRulesStayInForce() throws Exception {
        server = AdminServer.start(dir);
        var before = server.app().rules().current();
        String fingerprint = org.buildhook.runner.rules.RulesFingerprint.of(before).hex();
        server.replaceRules("rules:\n  - name: echo\n    when: {status: PASSED}\n    run:\n"
                + "      command: [/bin/echo, '${build.id}']\n      timeout: 2 minutes\n");
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            server.app().rules().checkNow();
            return server.app().rules().lastError().isPresent();
        });
        AdminCli cli = new AdminCli(server);

        assertThat(cli.run("status")).as(cli.err()).isZero();
        String file = server.app().rules().current().source().toString();
        String since = "since (\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z)";
        assertThat(cli.out().lines()).as(cli.out()).anySatisfy(line -> assertThat(line).matches(
                java.util.regex.Pattern.quote("rules    REFUSED " + file + " ") + since + java.util.regex.Pattern.quote(
                ": " + file + ":6:16: " + server.app().rules().lastError().orElseThrow().problems().get(0).message()
                + "; the rules loaded at " + before.loadedAt().truncatedTo(java.time.temporal.ChronoUnit.MILLIS)
                + " (fingerprint " + fingerprint.substring(0, 12) + ") stay in force (buildhook check --rules FILE"
                + " lists every problem)")));
        assertThat(cli.out()).contains("health   ok");

        assertThat(cli.run("status", "--json")).isZero();
        JsonNode refused = AdminServer.json(cli.out()).path("rules").path("refused");
        assertThat(refused.path("file").asText()).isEqualTo(file);
        assertThat(refused.path("problems").get(0).asText()).startsWith(file + ":6:16: ").contains("2 minutes");
        assertThat(refused.path("inForceLoadedAt").asText()).isNotEmpty();
        assertThat("since " + refused.path("since").asText()).matches(since);

        // Fixed: the line says ok again.
        server.writeRules(false);
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            server.app().rules().checkNow();
            return server.app().rules().lastError().isEmpty();
        });
        assertThat(cli.run("status")).isZero();
        assertThat(cli.out()).contains("rules    ok (fingerprint ");
    }
}
