package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

/**
 * pgcrash31 (tryout31 F1): when the store has no record of this node's own attempt (lost, not taken by another
 * node: a PostgreSQL that lost acknowledged commits in a crash, a database restored from a backup), the node said
 * "another node started a later attempt" on a one-node installation, and later took its own pick for a dead node's
 * ("its node node-a is taken for dead"). Now it says the store lost the attempt's record and what follows, and that
 * the job picked by this node is one it does not run now.
 *
 * <p>The loss is made as the store would show it after such a crash: while the command runs, the attempt's row is
 * removed and the job is queued again with no attempt, behind the engine's back (a second connection to the file).
 */
class LostAttemptRecordWordingTest extends SqliteEngineFixture {

    @Override
    EngineConfig engineConfig() {
        return AbstractEngineTest.steady("node-a");
    }

    @Test
    void anAttemptWhoseStartTheStoreLostIsSaidToBeLostNotTakenByAnotherNode() throws Exception {
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("lost", List.of("/bin/sh",
                "-c", "echo start >> " + started + "; while [ ! -e " + go + " ]; do sleep 0.05; done")))).jobIds()
                .get(0);
        engine.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(started));

        try (Connection c = DriverManager.getConnection(TestStores.sqlite(dir.resolve("data")).url())) {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 10000");
            }
            try (PreparedStatement delete = c.prepareStatement("DELETE FROM job_attempts WHERE job_id = ?");
                    PreparedStatement queue = c.prepareStatement("UPDATE jobs SET state = 'QUEUED', attempts = 0,"
                            + " started_at = NULL, node = NULL WHERE id = ?")) {
                delete.setString(1, jobId);
                delete.executeUpdate();
                queue.setString(1, jobId);
                queue.executeUpdate();
            }
        }
        Files.createFile(go);

        await().atMost(Duration.ofMinutes(1)).until(() -> !lines("the store has no record of attempt").isEmpty());
        assertThat(lines("the store has no record of attempt")).singleElement().isEqualTo("job " + jobId
                + ": the store has no record of attempt 1, which this node (node-a) started and whose command ran"
                + " here: the store lost it (a database server that crashed and lost commits it had acknowledged, or a"
                + " database restored from a backup); no other node took it from this node. What the command came to"
                + " is not recorded; the job goes on as the store has it: QUEUED with 0 attempt(s) recorded, and runs"
                + " again");
        // Its execution, picked by this node with no attempt in the store, is put back in the queue: said as either
        // cause; the job runs again (the node can do no better: what the command came to is not in the store).
        // Awaited with the run: the look puts the picks back in the queue, then says so; the next pick can start
        // the command between the two.
        await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
            assertThat(Files.readAllLines(started)).hasSize(2);
            assertThat(lines("were picked by this node")).singleElement().asString().contains(jobId)
                    .endsWith("have no attempt started in the store and do not run here (a pick whose answer was lost,"
                            + " or an attempt's start the store lost); put back in the queue");
        });
        assertThat(lines("another node")).filteredOn(l -> l.startsWith("job ")).isEmpty();
    }

    /**
     * The attempt's end (and the execution's removal) lost: the job is RUNNING again in the store, its execution
     * picked by this node, which does not run it. Once its heartbeat is old (10 s here) the execution is put back in
     * the queue, said of this node, not of a dead one ("its node node-a is taken for dead"); the job runs again.
     */
    @Test
    void anAttemptWhoseEndTheStoreLostIsNotSaidToBeADeadNodes() throws Exception {
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("lost-end", List.of("/bin/sh",
                "-c", "echo start >> " + started + "; while [ ! -e " + go + " ]; do sleep 0.05; done")))).jobIds()
                .get(0);
        engine.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(started));
        // As the store had it while the command ran.
        sql("CREATE TABLE saved_jobs AS SELECT * FROM jobs WHERE id = '" + jobId + "'",
                "CREATE TABLE saved_attempts AS SELECT * FROM job_attempts WHERE job_id = '" + jobId + "'",
                "CREATE TABLE saved_tasks AS SELECT * FROM scheduled_tasks WHERE task_instance = '" + jobId + "'");
        Files.createFile(go);
        await().atMost(Duration.ofMinutes(1)).until(() -> store.job(jobId).orElseThrow().job().state()
                == org.buildhook.runner.store.JobState.SUCCEEDED);
        // The end lost: back as it was while the command ran.
        sql("INSERT OR REPLACE INTO jobs SELECT * FROM saved_jobs",
                "INSERT OR REPLACE INTO job_attempts SELECT * FROM saved_attempts",
                "INSERT OR REPLACE INTO scheduled_tasks SELECT * FROM saved_tasks");

        await().atMost(Duration.ofMinutes(2)).until(() -> !lines("picked by this node (node-a)").isEmpty());
        assertThat(lines("picked by this node (node-a)").get(0)).startsWith("job " + jobId + ": picked by this node"
                + " (node-a) with no heartbeat since ").endsWith(", but this node does not run it now (picked by an"
                + " earlier run of this node, or the store lost what this node recorded of it since); put back in the"
                + " queue in its place");
        await().atMost(Duration.ofMinutes(2)).until(() -> store.job(jobId).orElseThrow().attempts().size() == 2
                && store.job(jobId).orElseThrow().job().state() == org.buildhook.runner.store.JobState.SUCCEEDED);
        assertThat(lines("taken for dead")).isEmpty();
        assertThat(lines("another node")).filteredOn(l -> l.startsWith("job ")).isEmpty();
        // The attempt whose end was lost, as the run again recorded it (fence32): not "its node stopped heart-beating"
        // and no death of its node (runner.deaths-in-a-row), but what the evidence says: the very process that
        // started it ran the job again, so its end's record was lost.
        org.buildhook.runner.store.JobAttempt first = store.job(jobId).orElseThrow().attempts().get(0);
        assertThat(first.outcome()).isEqualTo(org.buildhook.runner.store.AttemptOutcome.INTERRUPTED);
        assertThat(first.message()).isEqualTo("its end is not in the store, yet the very process of its node that"
                + " started it runs the job again now, which it does only once it has recorded that end: the store lost"
                + " that record (a database server that crashed and lost commits it had acknowledged, a database"
                + " restored from a backup, or a failover to a copy that had not received it); its node did not stop"
                + " heart-beating. What the command came to is not known here; run again on node-a");
        try (Connection c = DriverManager.getConnection(TestStores.sqlite(dir.resolve("data")).url());
                PreparedStatement q = c.prepareStatement("SELECT node_died FROM job_attempts WHERE job_id = ?"
                        + " AND attempt = 1")) {
            q.setString(1, jobId);
            try (java.sql.ResultSet rs = q.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).as("not a death of its node").isZero();
            }
        }
    }

    private void sql(String... statements) throws java.sql.SQLException {
        try (Connection c = DriverManager.getConnection(TestStores.sqlite(dir.resolve("data")).url());
                Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 10000");
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    private List<String> lines(String containing) {
        synchronized (log) { // AppenderBase appends under its own lock
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m != null
                    && m.contains(containing)).toList();
        }
    }
}
