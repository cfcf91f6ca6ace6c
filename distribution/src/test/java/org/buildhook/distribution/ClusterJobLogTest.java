package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Two real nodes on one PostgreSQL schema, each with its own data and log directory (as the compose
 * cluster's per-node volumes): the node that did not run an attempt says which node has its log, in
 * the admin API (421), {@code buildhook logs} and the status page, never "removed by retention".
 * Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI where it fails.
 */
class ClusterJobLogTest {

    @TempDir
    Path dir;

    private TestSchema pg;
    private AdminServer nodeA;
    private AdminServer nodeB;

    @BeforeEach
    void twoNodes() throws Exception {
        pg = TestSchema.create("logs_");
        String store = pg.storeUrl;
        nodeA = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), store, "node-a");
        nodeB = AdminServer.clusterNode(Files.createDirectories(dir.resolve("b")), store, "node-b");
    }

    @AfterEach
    void stop() throws Exception {
        for (AdminServer node : new AdminServer[] {nodeA, nodeB}) {
            if (node != null) {
                node.close();
            }
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** Delivers build 67 to node A and waits until its one job has succeeded, on either node; its id. */
    private String succeededJob() throws Exception {
        String delivery = nodeA.deliver("build-67-passed.json");
        AtomicReference<JsonNode> job = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            JsonNode jobs = nodeA.getJson("deliveries/" + delivery).path("jobs");
            job.set(jobs.path(0));
            return jobs.path(0).path("state").asText().equals("SUCCEEDED");
        });
        return job.get().path("id").asText();
    }

    /** The node that ran the first attempt of {@code jobId}. */
    private AdminServer ranTheFirstAttempt(String jobId) throws Exception {
        String ranOn = nodeA.getJson("jobs/" + jobId).path("attempts").path(0).path("node").asText();
        assertThat(ranOn).isIn("node-a", "node-b");
        return ranOn.equals("node-a") ? nodeA : nodeB;
    }

    @Test
    void theNodeThatDidNotRunAnAttemptNamesTheNodeThatHasItsLog() throws Exception {
        String jobId = succeededJob();
        AdminServer runner = ranTheFirstAttempt(jobId);
        String ranOn = runner == nodeA ? "node-a" : "node-b";
        AdminServer other = runner == nodeA ? nodeB : nodeA;
        String otherId = runner == nodeA ? "node-b" : "node-a";

        assertThat(runner.get("jobs/" + jobId + "/log").body()).isEqualTo("line one\nline two 67\n");
        // Both nodes share this machine's disk: moving the runner's log directory away makes the path the
        // attempt recorded absent for the other node, as it is on another machine or in another volume.
        Files.move(runner.dir.resolve("data/logs"), runner.dir.resolve("logs-on-another-disk"));
        HttpResponse<String> elsewhere = other.get("jobs/" + jobId + "/log");
        assertThat(elsewhere.statusCode()).isEqualTo(421);
        // Where the node wrote it, as the attempt recorded it: a node id alone may name a node no longer running under
        // it (cluster27 F9), and the path names the host's data folder.
        assertThat(AdminServer.json(elsewhere.body()).path("error").asText()).isEqualTo("the log of attempt 1 is on node "
                + ranOn + ", which ran it, not on this node (" + otherId + "): ask node " + ranOn
                + " (buildhook logs --url <its address>; 'buildhook nodes' lists the nodes with their hosts), where it was"
                + " written to " + runner.dir.resolve("data/logs/" + jobId + "/attempt-1.log")
                + ", or share the log directory between the nodes");
        assertThat(elsewhere.body()).doesNotContain("retention");
        assertThat(other.get("jobs/" + jobId + "/log?follow=1").body()).startsWith("[buildhook] the log of attempt 1 is on node "
                + ranOn + ", which ran it");

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = BuildhookCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute("logs", jobId, "--url", other.uri().toString(), "--token-file",
                other.dir.resolve("admin-token").toString());
        assertThat(exit).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains("the log of attempt 1 is on node " + ranOn + ", which ran it", "(421)")
                .doesNotContain("retention");

        String page = other.page("?job=" + jobId, other.signIn()).body();
        assertThat(page).contains("(no log on this node: the log of attempt 1 is on node " + ranOn);
    }

    @Test
    void aLogFileMissingOnTheNodeThatRanItIsNotBlamedOnRetentionOrAnotherNode() throws Exception {
        String jobId = succeededJob();
        AdminServer runner = ranTheFirstAttempt(jobId);
        Files.delete(Path.of(runner.app().store().job(jobId).orElseThrow().attempts().get(0).logPath()));

        HttpResponse<String> answer = runner.get("jobs/" + jobId + "/log");

        assertThat(answer.statusCode()).isEqualTo(404);
        assertThat(AdminServer.json(answer.body()).path("error").asText())
                .startsWith("the log file of attempt 1 is missing on this node").doesNotContain("retention");
    }
}
