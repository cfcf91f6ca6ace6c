package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

/**
 * tryout33 F9 (b): on SQLite, a job picked by a node id that is not this node's (the data folder moved, a restore
 * onto another host, an earlier run under another {@code runner.node-id}), with no attempt started, waited out the
 * whole dead-node limit after the start before it ran, and the newer build's job that superseded it waited for it
 * meanwhile. This JVM holds the store's lock: no other node can be alive on it, so the start puts such a pick back
 * at once. The dead-node limit here is 10 minutes and the tests wait 1: only the start's release can run the jobs.
 */
class SqliteOtherNodesPickTest extends AbstractWorkflowTest {

    /** A dead-node limit of 3000 × 200 ms = 10 minutes. */
    private static EngineConfig nodeNew() {
        return new EngineConfig("node-new", 4, Duration.ofMillis(200), Duration.ofMillis(200), 3000,
                Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100));
    }

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Test
    void aJobPickedByAnotherNodeIdWithoutAnAttemptRunsAtTheStartNotAfterTheDeadNodeLimit() throws Exception {
        Path ran = dir.resolve("ran");
        RuleSet rules = rules("resources:\n  target: 1\n"
                + "rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo $1 >> " + ran) + "\","
                        + " \"${build.id}\"], concurrency: 1,"
                        + " resources: {target: 1}}\n");
        openStore();
        String job = deliver(rules, 108).jobIds().get(0);
        // As node-old left it when it was killed between its pick, its slot and units, and its attempt's start.
        pickedBy(job, "node-old");
        hold("INSERT INTO rule_slots (rule_name, slot, job_id, node, acquired_at) VALUES ('deploy', 0, ?, ?, ?)", job);
        hold("INSERT INTO resource_holds (job_id, resource, units, node, acquired_at, unit_numbers)"
                + " VALUES (?, 'target', 1, ?, ?, '1')",
                job);

        startEngine(nodeNew());

        await().atMost(Duration.ofMinutes(1)).until(() -> job(job).state().isFinal());
        assertState(job(job), JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("108");
        assertThat(holders("rule_slots")).doesNotContain("node-old");
        assertThat(holders("resource_holds")).doesNotContain("node-old");
    }

    @Test
    void theNewerBuildsJobThatSupersededItRunsAtTheStartNotAfterTheDeadNodeLimit() throws Exception {
        Path ran = dir.resolve("ran");
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy\n"
                + "    supersede: {key: \"${build.project}/${build.trigger}\", running: cancel}\n"
                + "    run: {command: [/bin/sh, \"" + script("deploy.sh", "echo $1 >> " + ran) + "\","
                        + " \"${build.id}\"], concurrency: 1}\n");
        openStore();
        String job108 = deliver(rules, 108).jobIds().get(0);
        pickedBy(job108, "node-old");
        String job109 = deliver(rules, 109).jobIds().get(0);
        assertThat(job(job108).supersededBy()).isEqualTo(job109);

        startEngine(nodeNew());

        await().atMost(Duration.ofMinutes(1)).until(() -> job(job109).state().isFinal());
        assertState(job(job109), JobState.SUCCEEDED);
        assertState(job(job108), JobState.SUPERSEDED);
        assertThat(job(job108).attempts()).isZero();
        assertThat(Files.readAllLines(ran)).containsExactly("109");
    }

    /** As db-scheduler's pick leaves the row: picked by {@code node}, a fresh heartbeat, the version raised. */
    private void pickedBy(String jobId, String node) throws SQLException {
        try (Connection c = store.schedulerDataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = ?, last_heartbeat = ?, version = version + 1"
                        + " WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, node);
            JobQueue.customization(store.dialect()).setInstant(p, 3, Instant.now());
            p.setString(4, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    private void hold(String insert, String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(insert)) {
            p.setString(1, jobId);
            p.setString(2, "node-old");
            p.setLong(3, System.currentTimeMillis());
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    private List<String> holders(String table) throws SQLException {
        List<String> nodes = new ArrayList<>();
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("SELECT node FROM " + table);
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                nodes.add(rs.getString(1));
            }
        }
        return nodes;
    }
}
