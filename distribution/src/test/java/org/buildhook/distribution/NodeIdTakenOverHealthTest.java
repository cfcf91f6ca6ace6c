package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout29 F1: a node whose {@code runner.node-id} another node took over takes no job for good (it logs an ERROR),
 * and its {@code /healthz} answered a plain {@code 200 {"status":"ok"}}. It now answers {@code 200} {@code "degraded"}
 * saying so (still 200: it stores deliveries, as a node paused for its folders does), and {@code
 * buildhook_jobs_paused} is 1. A real server on its own PostgreSQL schema; the takeover is the claim's row changed as
 * a node started with the id writes it.
 */
class NodeIdTakenOverHealthTest {

    @TempDir
    Path dir;

    @Test
    void aNodeWhoseIdWasTakenOverSaysDegradedForGood() throws Exception {
        try (TestSchema pg = TestSchema.create("takenover_");
                AdminServer node = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), pg.storeUrl,
                        "node-a")) {
            await().atMost(Duration.ofMinutes(2)).until(() -> health(node).body().contains("\"ok\""));

            try (Connection c = DriverManager.getConnection(pg.storeUrl); PreparedStatement p = c.prepareStatement(
                    "UPDATE node_leases SET instance = 'another-instance' WHERE node_id = 'node-a'")) {
                assertThat(p.executeUpdate()).isEqualTo(1);
            }

            await().atMost(Duration.ofMinutes(2)).until(() -> health(node).body().contains("degraded"));
            HttpResponse<String> answer = health(node);
            assertThat(answer.statusCode()).isEqualTo(200);
            assertThat(answer.body()).contains("\"status\":\"degraded\"").contains("jobs do not start on this node,"
                    + " for good: its runner.node-id was taken over by another node")
                    .contains("give each node its own runner.node-id and restart this one");
            assertThat(node.app().jobsPaused()).get().asString().contains("node-a was taken over by another node");
        }
    }

    /**
     * tryout49 F2: a node whose id was taken over (by a node started with it while this one was stopped) listed the
     * other JVM's row as "this node" ({@code *}, with this node's own build put on it) and itself nowhere, so {@code
     * status} counted one node fewer than answer. Now its own row is this JVM (its pid, its build), {@code "state":
     * "fenced"} with who holds its id and what to do, and the holder is listed after it, running, as the id's holder;
     * {@code status} says how many JVMs answer. A real server on its own PostgreSQL schema; the holder is a real process
     * of this host (its claim written as a node started with the id writes it).
     */
    @Test
    void aNodeWhoseIdWasTakenOverListsItselfFencedAndTheHolderAfterIt() throws Exception {
        Process holder = new ProcessBuilder("sleep", "600").start();
        try (TestSchema pg = TestSchema.create("takenoverlist_");
                AdminServer node = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), pg.storeUrl,
                        "node-a")) {
            await().atMost(Duration.ofMinutes(2)).until(() -> health(node).body().contains("\"ok\""));
            org.buildhook.runner.exec.ProcessIdentity other = org.buildhook.runner.exec.ProcessIdentity.of(holder.pid());
            try (Connection c = DriverManager.getConnection(pg.storeUrl); PreparedStatement p = c.prepareStatement(
                    "UPDATE node_leases SET instance = 'another-instance', node_pid = ?, node_started = ?,"
                            + " host = 'other-host' WHERE node_id = 'node-a'")) {
                p.setLong(1, holder.pid());
                p.setLong(2, other.startTicks());
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
            await().atMost(Duration.ofMinutes(2)).until(() -> health(node).body().contains("degraded"));

            com.fasterxml.jackson.databind.JsonNode answer = node.getJson("nodes");
            assertThat(answer.path("answeringJvms").asInt()).isEqualTo(2);
            assertThat(answer.path("items")).hasSize(2);
            com.fasterxml.jackson.databind.JsonNode self = answer.path("items").path(0);
            assertThat(self.path("self").asBoolean()).isTrue();
            assertThat(self.path("id").asText()).isEqualTo("node-a");
            assertThat(self.path("pid").asLong()).as("the JVM that answered").isEqualTo(ProcessHandle.current().pid());
            assertThat(self.path("state").asText()).isEqualTo("fenced");
            assertThat(self.path("version").asText()).isEqualTo(org.buildhook.servlet.BuildInfo.describe());
            assertThat(self.path("idHeldBy").path("pid").asLong()).isEqualTo(holder.pid());
            assertThat(self.path("idHeldBy").path("host").asText()).isEqualTo("other-host");
            assertThat(self.path("holdsThisNodesId").asBoolean()).isFalse();
            assertThat(self.path("message").asText()).startsWith("this node (pid " + ProcessHandle.current().pid()
                    + "), fenced: its node id node-a was taken over by another node (host other-host, pid "
                    + holder.pid() + ", listed as node-a)").contains("Stop this JVM, or give it its own runner.node-id");
            com.fasterxml.jackson.databind.JsonNode by = answer.path("items").path(1);
            assertThat(by.path("self").asBoolean()).isFalse();
            assertThat(by.path("id").asText()).isEqualTo("node-a");
            assertThat(by.path("pid").asLong()).isEqualTo(holder.pid());
            assertThat(by.path("state").asText()).isEqualTo("running");
            assertThat(by.path("version").isNull()).as("not this node's build").isTrue();
            assertThat(by.path("holdsThisNodesId").asBoolean()).isTrue();
            assertThat(by.path("idHeldBy").isNull()).isTrue();
            assertThat(by.path("message").asText()).isEqualTo("running; it holds the node id of the node that answered"
                    + " (pid " + ProcessHandle.current().pid() + "), which it took over: the id's jobs run here");

            java.io.StringWriter out = new java.io.StringWriter();
            cli(node, out, "status");
            assertThat(out.toString()).contains("1 running, 1 fenced (2 JVMs answer; postgresql store;");
            out = new java.io.StringWriter();
            cli(node, out, "nodes");
            assertThat(out.toString()).contains("node-a *", Long.toString(ProcessHandle.current().pid()),
                    Long.toString(holder.pid()), "fenced: its node id node-a was taken over");
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }

    private static int cli(AdminServer server, java.io.StringWriter out, String... args) {
        picocli.CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(new java.io.StringWriter(), true));
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(args));
        all.addAll(java.util.List.of("--url", server.uri().toString(), "--token-file",
                server.dir.resolve("admin-token").toString()));
        return cl.execute(all.toArray(String[]::new));
    }

    private static HttpResponse<String> health(AdminServer node) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(node.uri()
                .resolve("/healthz")).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
