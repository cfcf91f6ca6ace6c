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
        assertThat(cli.out().lines()).containsExactly(
                "server   " + server.uri(),
                "health   ok",
                "nodes    1 running (sqlite store; buildhook nodes lists them)",
                "jobs     1 running, 0 queued, 0 waiting, 0 awaiting approval (buildhook jobs --state STATE lists them)");
        assertThat(cli.run("status", "--json")).isZero();
        JsonNode json = AdminServer.json(cli.out());
        assertThat(json.path("health").path("status").asText()).isEqualTo("ok");
        assertThat(json.path("httpStatus").asInt()).isEqualTo(200);
        assertThat(json.path("nodes").path("running").asInt()).isEqualTo(1);
        assertThat(json.path("jobs").path("running").asInt()).as(running.toString()).isEqualTo(1);
        assertThat(json.path("jobs").path("queued").asInt()).isZero();

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
}
