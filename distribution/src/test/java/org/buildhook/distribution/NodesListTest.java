package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.servlet.BuildInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * cluster27 F3: the cluster's nodes on a real server: {@code GET /api/nodes}, {@code buildhook nodes} (table and
 * {@code --json}) and the status page's Nodes panel. On SQLite the server lists itself alone, with its build, rules
 * and running job; on PostgreSQL two real nodes list each other, each itself first, and a node stopped leaves the
 * list. (A node silent past the dead-node limit, with its jobs taken over: PostgresClusterNodesTest, real node
 * JVMs.) The PostgreSQL test needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI where it fails.
 */
class NodesListTest {

    private static final String RULES = "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
            + "    run: {command: [/bin/true]}\n";

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    @Test
    void aSqliteServerListsItselfAloneWithItsBuildRulesAndRunningJob() throws Exception {
        AdminServer server = AdminServer.start(dir);
        open.add(server);
        String id = server.app().config().engine().nodeId();
        String rules = RulesFingerprint.of(server.app().rules().current()).hex();
        server.deliver("build-68-failed.json"); // the rule 'wait': runs until the file 'go' exists
        await().atMost(Duration.ofMinutes(2)).until(() -> server.getJson("nodes").path("items").path(0)
                .path("runningJobs").asInt() == 1);

        JsonNode answer = server.getJson("nodes");
        assertThat(answer.path("store").asText()).isEqualTo("SQLITE");
        assertThat(answer.path("node").asText()).isEqualTo(id);
        assertThat(answer.path("items")).hasSize(1);
        JsonNode self = answer.path("items").path(0);
        assertThat(self.path("id").asText()).isEqualTo(id);
        assertThat(self.path("self").asBoolean()).isTrue();
        assertThat(self.path("state").asText()).isEqualTo("running");
        assertThat(self.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        assertThat(self.path("host").asText()).isNotBlank();
        assertThat(self.path("version").asText()).isEqualTo(BuildInfo.describe());
        assertThat(self.path("rules").asText()).isEqualTo(rules);
        assertThat(self.path("heartbeatAgeMillis").isNull()).isTrue();
        assertThat(self.path("message").asText()).isEqualTo("this node, the only one (a SQLite store has one node)");
        // Same door as every other list: the admin token, the same words.
        assertThat(server.getWithAuthorization("nodes", null).statusCode()).isEqualTo(401);
        assertThat(server.post("nodes").statusCode()).isEqualTo(405);

        StringWriter out = new StringWriter();
        assertThat(cli(server, out, "nodes")).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains("NODE", "HOST", "PID", "VERSION", "HEARD", "JOBS", "RULES", "STATE",
                id + " *", BuildInfo.describe(), rules.substring(0, 12), "this node, the only one");
        out = new StringWriter();
        assertThat(cli(server, out, "nodes", "--json")).isEqualTo(ExitCodes.OK);
        assertThat(AdminServer.json(out.toString()).path("items").path(0).path("id").asText()).isEqualTo(id);
        // tryout51 F1: one node's list of refused builds is said so only where there are other nodes.
        assertThat(server.getJson("refused-builds").path("store").asText()).isEqualTo("SQLITE");
        StringWriter refusedErr = new StringWriter();
        assertThat(cli(server, new StringWriter(), refusedErr, "refused-builds")).isEqualTo(ExitCodes.OK);
        assertThat(refusedErr.toString()).doesNotContain("each node");

        // nodes29: the gauge, and forgetting: never this node; an id no node claims is not found; the same door.
        assertThat(server.page("metrics", null).body()).contains("buildhook_cluster_nodes{state=\"running\"} 1.0",
                "buildhook_cluster_nodes{state=\"silent\"} 0.0", "buildhook_cluster_nodes{state=\"gone\"} 0.0");
        HttpResponse<String> forgetSelf = server.delete("nodes/" + id);
        // review37 F8: the ids quoted ("node node a is the node answering" read as a typo).
        assertThat(forgetSelf.statusCode()).isEqualTo(409);
        assertThat(AdminServer.json(forgetSelf.body()).path("error").asText()).isEqualTo("node '" + id + "' is the node"
                + " answering this request: it runs, so it is not forgotten. Forget a node that is silent (GET"
                + " /api/nodes, \"state\": \"silent\"), from any other node");
        HttpResponse<String> unknown = server.delete("nodes/node-9");
        assertThat(unknown.statusCode()).isEqualTo(404);
        // tryout29 F6: true, and now why: an earlier run's id is no node to forget on SQLite.
        assertThat(AdminServer.json(unknown.body()).path("error").asText()).isEqualTo("no node 'node-9' is known to the"
                + " store: a SQLite store has one node, this one ('" + id + "'), and keeps no claim of any other, so"
                + " there is no node to forget (the id of an earlier run of this server is none)");
        assertThat(server.delete("nodes/" + "x".repeat(51)).statusCode()).isEqualTo(404);
        assertThat(server.getWithAuthorization("nodes/node-9", null).statusCode()).isEqualTo(401);
        HttpResponse<String> get = server.get("nodes/node-9");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).contains("DELETE");
        assertThat(server.delete("nodes").statusCode()).isEqualTo(405);
        assertThat(server.get("nope").body()).contains("/api/nodes");
        StringWriter err = new StringWriter();
        assertThat(cli(server, new StringWriter(), err, "nodes", "forget", "node-9")).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains("no node 'node-9' is known to the store", "(404)")
                .contains("a SQLite store has one node, this one ('" + id + "'), and keeps no claim of any other, so"
                        + " there is no node to forget"); // tryout29 F6

        String page = server.page("", server.signIn()).body();
        assertThat(page).contains("<table id=\"nodes\">", "data-node=\"" + id + "\" data-state=\"running\"",
                "<small>this node</small>", "a SQLite store has one node", "this node, the only one");
        Files.createFile(server.dir.resolve("go"));
    }

    @Test
    void twoPostgresNodesListEachOtherAndANodeStoppedLeavesTheList() throws Exception {
        TestSchema pg = TestSchema.create("nodes_");
        open.add(pg);
        AdminServer a = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), pg.storeUrl, "node-a", RULES);
        open.add(a);
        AdminServer b = AdminServer.clusterNode(Files.createDirectories(dir.resolve("b")), pg.storeUrl, "node-b", RULES);
        open.add(b);
        String rules = RulesFingerprint.of(a.app().rules().current()).hex();
        // Each records its rules with its claim once started: both known to node-a.
        await().atMost(Duration.ofMinutes(2)).until(() -> a.getJson("nodes").path("items").findValues("rules")
                .stream().filter(r -> r.asText().equals(rules)).count() == 2);

        JsonNode answer = a.getJson("nodes");
        assertThat(answer.path("store").asText()).isEqualTo("POSTGRESQL");
        assertThat(answer.path("deadNodeLimit").asText()).isEqualTo("1m");
        assertThat(answer.path("items").findValuesAsText("id")).containsExactly("node-a", "node-b");
        JsonNode other = answer.path("items").path(1);
        assertThat(other.path("self").asBoolean()).isFalse();
        assertThat(other.path("state").asText()).isEqualTo("running");
        assertThat(other.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        assertThat(other.path("version").isNull()).as("not recorded where another node reads it").isTrue();
        assertThat(other.path("heartbeatAgeMillis").asLong()).isNotNegative();
        assertThat(other.path("message").asText()).isEqualTo("running");
        assertThat(answer.path("items").path(0).path("message").asText()).isEqualTo("this node");
        assertThat(answer.path("items").path(0).path("heartbeatAgeMillis").asLong()).isNotNegative();
        // node-b lists itself first.
        assertThat(b.getJson("nodes").path("items").findValuesAsText("id")).containsExactly("node-b", "node-a");

        StringWriter out = new StringWriter();
        assertThat(cli(a, out, "nodes")).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains("node-a *", "node-b ", "(not known here)", "running", " ago");
        // tryout51 F1: behind a load balancer, refused-builds is one node's list: said, with which node and what to do.
        assertThat(b.getJson("refused-builds").path("store").asText()).isEqualTo("POSTGRESQL");
        StringWriter refusedErr = new StringWriter();
        assertThat(cli(b, new StringWriter(), refusedErr, "refused-builds")).isEqualTo(ExitCodes.OK);
        assertThat(refusedErr.toString()).contains("(the builds node node-b refused: each node of a cluster keeps its"
                + " own list, in its memory; ask every node for its own (buildhook nodes lists them; --url names one))");
        assertThat(a.page("", a.signIn()).body()).contains("data-node=\"node-a\" data-state=\"running\"",
                "data-node=\"node-b\" data-state=\"running\"", "heard from by the database's clock");

        // nodes29: a running node is not forgotten.
        HttpResponse<String> running = b.delete("nodes/node-a");
        assertThat(running.statusCode()).isEqualTo(409);
        assertThat(AdminServer.json(running.body()).path("error").asText()).startsWith("node 'node-a' is running: it was"
                + " heard from ").contains("ago, within the dead-node limit (1m). Only a node silent for longer than"
                + " that is forgotten; stop it first").endsWith("If it was killed, try again once it has been silent"
                + " for the dead-node limit (GET /api/nodes, \"state\": \"silent\")"); // tryout29 F6

        // A stop gives the node's id back: it is no longer a node of the cluster.
        open.remove(b);
        b.close();
        assertThat(a.getJson("nodes").path("items").findValuesAsText("id")).containsExactly("node-a");

        // A node of another host killed two hours ago with a job not yet taken over: counted silent, not forgotten
        // until its job is taken over; then forgotten, out of the list, the counts and into the audit trail.
        claimWithAPickedJob(pg, "node-c", "host-c", "other-boot", 4242,
                System.currentTimeMillis() - Duration.ofHours(2).toMillis());
        // Read from the store every 5 s in the background (tryout32 F3): the gauge follows within a round.
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(a.page("metrics", null).body())
                .contains("buildhook_cluster_nodes{state=\"running\"} 1.0", "buildhook_cluster_nodes{state=\"silent\"} 1.0"));
        HttpResponse<String> holds = a.delete("nodes/node-c");
        assertThat(holds.statusCode()).isEqualTo(409);
        assertThat(AdminServer.json(holds.body()).path("error").asText()).startsWith("node 'node-c' is silent (for 2h")
                .contains("but still holds 1 job(s) and 0 unit(s) of shared resources that no other node has taken"
                        + " over yet", "try again then");
        try (Connection c = DriverManager.getConnection(pg.storeUrl);
                PreparedStatement p = c.prepareStatement("DELETE FROM scheduled_tasks WHERE task_instance = 'job-c'")) {
            p.executeUpdate(); // taken over
        }
        out = new StringWriter();
        assertThat(cli(a, out, "nodes", "forget", "node-c")).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).startsWith("forgot node node-c (host host-c, pid 4242), silent for 2h")
                .contains("no longer listed");
        assertThat(a.getJson("nodes").path("items").findValuesAsText("id")).containsExactly("node-a");
        // Read from the store every 5 s in the background (tryout32 F3): the gauge follows within a round.
        await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(a.page("metrics", null).body())
                .contains("buildhook_cluster_nodes{state=\"running\"} 1.0", "buildhook_cluster_nodes{state=\"silent\"} 0.0"));
        JsonNode action = a.getJson("actions").path("items").path(0);
        assertThat(action.path("action").asText()).isEqualTo("forget-node");
        assertThat(action.path("detail").asText()).startsWith("node node-c (host host-c, pid 4242), silent for 2h");
        assertThat(a.delete("nodes/node-c").statusCode()).isEqualTo(404);

        // tryout29 F6: a node of this host whose process ended, heard from just now: "gone", not "silent for 0s".
        Process ended = new ProcessBuilder("true").start();
        assertThat(ended.waitFor()).isZero();
        org.buildhook.runner.exec.NodeIdentity here = org.buildhook.runner.exec.NodeIdentity.current();
        claimWithAPickedJob(pg, "node-g", here.host(), here.bootId(), ended.pid(), System.currentTimeMillis());
        HttpResponse<String> goneHolds = a.delete("nodes/node-g");
        assertThat(goneHolds.statusCode()).isEqualTo(409);
        assertThat(AdminServer.json(goneHolds.body()).path("error").asText()).startsWith("node 'node-g' is gone (its"
                + " process on this host has ended; heard from ").contains(" ago) but still holds 1 job(s)");
        try (Connection c = DriverManager.getConnection(pg.storeUrl);
                PreparedStatement p = c.prepareStatement("DELETE FROM scheduled_tasks WHERE task_instance = 'job-g'")) {
            p.executeUpdate(); // taken over
        }
        out = new StringWriter();
        assertThat(cli(a, out, "nodes", "forget", "node-g")).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).startsWith("forgot node node-g (host " + here.host() + ", pid " + ended.pid()
                + "), gone: its process on this host had ended (heard from ").doesNotContain("silent for");
        assertThat(a.getJson("actions").path("items").path(0).path("detail").asText())
                .contains("gone: its process on this host had ended");
    }

    /**
     * lock30 (nodes29): the audit row of a forget is written in the forget's own transaction. When the store fails to
     * write it (a trigger refuses it: a real failure of PostgreSQL), the answer is an error and the node is still
     * listed: the answer says what happened. It was written after the transaction, and such a failure answered an
     * error for a node that was forgotten all the same, with no trace of it in the audit trail.
     */
    @Test
    void aForgetWhoseAuditRowFailsForgetsNothing() throws Exception {
        TestSchema pg = TestSchema.create("forget_");
        open.add(pg);
        AdminServer a = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), pg.storeUrl, "node-a", RULES);
        open.add(a);
        claimWithAPickedJob(pg, "node-c", "host-c", "other-boot", 4242,
                System.currentTimeMillis() - Duration.ofHours(2).toMillis());
        try (Connection c = DriverManager.getConnection(pg.storeUrl); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM scheduled_tasks WHERE task_instance = 'job-c'"); // taken over
            st.execute("CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS"
                    + " $$BEGIN RAISE EXCEPTION 'audit rows refused by the test'; END$$");
            st.execute("CREATE TRIGGER refuse_audit BEFORE INSERT ON admin_actions FOR EACH ROW"
                    + " EXECUTE FUNCTION refuse_audit()");
        }
        HttpResponse<String> failed = a.delete("nodes/node-c");
        assertThat(failed.statusCode()).as(failed.body()).isNotEqualTo(200);
        assertThat(a.getJson("nodes").path("items").findValuesAsText("id")).as("not forgotten")
                .containsExactly("node-a", "node-c");
        try (Connection c = DriverManager.getConnection(pg.storeUrl); java.sql.Statement st = c.createStatement()) {
            st.execute("DROP TRIGGER refuse_audit ON admin_actions");
        }
        HttpResponse<String> forgotten = a.delete("nodes/node-c");
        assertThat(forgotten.statusCode()).as(forgotten.body()).isEqualTo(200);
        assertThat(a.getJson("nodes").path("items").findValuesAsText("id")).containsExactly("node-a");
        JsonNode actions = a.getJson("actions").path("items");
        assertThat(actions.findValuesAsText("action")).containsExactly("forget-node");
        assertThat(actions.path(0).path("detail").asText()).startsWith("node node-c (host host-c, pid 4242), silent"
                + " for 2h");
    }

    /**
     * Writes a claim of {@code node} as a node of {@code host} (boot {@code bootId}, JVM {@code pid}) renewed at {@code
     * renewedAt} would have, and a job it picked ({@code job-} and the id's last letter) that no node took over yet.
     */
    static void claimWithAPickedJob(TestSchema pg, String node, String host, String bootId, long pid,
            long renewedAt) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.storeUrl);
                PreparedStatement claim = c.prepareStatement("INSERT INTO node_leases (node_id, instance, host,"
                        + " boot_id, node_pid, node_started, acquired_at, renewed_at) VALUES (?, ?, ?, ?, ?, 7, ?, ?)");
                PreparedStatement job = c.prepareStatement("INSERT INTO scheduled_tasks (task_name, task_instance,"
                        + " execution_time, picked, picked_by, version) VALUES ('buildhook-job', ?, now(), true, ?, 1)")) {
            String letter = node.substring(node.length() - 1);
            claim.setString(1, node);
            claim.setString(2, "instance-" + letter);
            claim.setString(3, host);
            claim.setString(4, bootId);
            claim.setLong(5, pid);
            claim.setLong(6, renewedAt);
            claim.setLong(7, renewedAt);
            claim.executeUpdate();
            job.setString(1, "job-" + letter);
            job.setString(2, node);
            job.executeUpdate();
        }
    }

    private static int cli(AdminServer server, StringWriter out, String... args) {
        return cli(server, out, new StringWriter(), args);
    }

    private static int cli(AdminServer server, StringWriter out, StringWriter err, String... args) {
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", server.uri().toString(), "--token-file", server.dir.resolve("admin-token").toString()));
        return cl.execute(all.toArray(String[]::new));
    }
}
