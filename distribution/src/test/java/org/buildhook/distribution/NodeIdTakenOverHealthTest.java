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

    private static HttpResponse<String> health(AdminServer node) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(node.uri()
                .resolve("/healthz")).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
