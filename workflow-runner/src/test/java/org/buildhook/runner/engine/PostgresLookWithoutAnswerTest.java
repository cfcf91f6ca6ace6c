package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A look of the node's background thread ({@code buildhook-stale-picks}) whose PostgreSQL call is never answered: the
 * thread must come back after {@link org.buildhook.runner.store.Store#lookBound()} and its looks go on (tryout46 F7, H:
 * a connection left open by a backend stopped with SIGSTOP, a frozen database host or a silent network drop held the
 * thread until TCP's keepalive, two hours and more; the same-host take-over of a crashed node's job and the approvals'
 * expiry stopped, while {@code /healthz} said ok). The call that never answers is a real one: a trigger on {@code jobs}
 * sleeps in the first approval expiry's UPDATE, on PostgreSQL's side of the connection.
 */
class PostgresLookWithoutAnswerTest extends AbstractWorkflowTest {

    private final String sleeper = "sleep-" + java.util.UUID.randomUUID().toString().substring(0, 8);

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @AfterEach
    void endTheSleep() throws SQLException {
        if (store != null) {
            terminateSleeper();
        }
    }

    private int terminateSleeper() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        + " WHERE application_name = '" + sleeper + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private boolean sleeping() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                        + sleeper + "' AND wait_event = 'PgSleep'")) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }

    /** Whether the engine's thread named {@code thread} is inside a method of class {@code simpleName} now. */
    private static boolean threadIn(String thread, String simpleName) {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().equals(thread))
                .anyMatch(e -> Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().endsWith("." + simpleName)));
    }

    private static boolean lookThreadInTheExpiry() {
        return threadIn("buildhook-stale-picks", "Approvals");
    }

    /** Makes the first UPDATE of {@code table} whose row meets {@code when} (plpgsql, on OLD and NEW) sleep, once. */
    private void sleepOnce(String table, String when) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            // A sequence is not rolled back; named so that it can be found and ended.
            s.execute("CREATE SEQUENCE sleep_once");
            s.execute("CREATE FUNCTION sleep_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF (" + when + ") AND nextval('sleep_once') = 1 THEN"
                    + " PERFORM set_config('application_name', '" + sleeper + "', true); PERFORM pg_sleep(3600);"
                    + " END IF; RETURN NEW; END $$");
            s.execute("CREATE TRIGGER sleep_once BEFORE UPDATE ON " + table
                    + " FOR EACH ROW EXECUTE FUNCTION sleep_once()");
        }
    }

    @Test
    void aLookWhoseCallPostgresNeverAnswersEndsAfterItsBoundAndTheLooksGoOn() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy-prod\n"
                + "    approval: {expires: 1s}\n"
                + "    run: {command: [/bin/true]}\n");
        openStore();
        sleepOnce("jobs", "NEW.state = 'EXPIRED'");
        startEngine();
        String first = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> sleeping() && lookThreadInTheExpiry());
        String second = deliver(rules, 68).jobIds().get(0);

        // Bounded by the look's bound (30 s here) and a hung test's margin, not by TCP's keepalive.
        assertThat(store.lookBound()).isEqualTo(Duration.ofSeconds(30));
        await().atMost(Duration.ofMinutes(2)).until(() -> !lookThreadInTheExpiry());
        // PostgreSQL's side still sleeps with the first job's row locked (it learns of the closed connection only when
        // it writes to it): ended here, as a database that answers again would end it.
        assertThat(terminateSleeper()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(60)).until(() -> job(second).state() == JobState.EXPIRED
                && job(first).state() == JobState.EXPIRED);
    }

    /**
     * The same for the renewal of the node's id ({@code buildhook-node-id}): held for good, it never saw its id taken
     * over, and a second JVM started with the id ran jobs beside the first (tryout46 F12, H).
     */
    @Test
    void aRenewalOfTheNodeIdThatPostgresNeverAnswersEndsAfterItsBoundAndTheRenewalsGoOn() throws Exception {
        openStore();
        startEngine();
        // After the start: its claim of the id must not be the one that sleeps.
        sleepOnce("node_leases", "NEW.renewed_at IS DISTINCT FROM OLD.renewed_at");
        await().atMost(Duration.ofSeconds(60)).until(() -> sleeping() && threadIn("buildhook-node-id", "NodeLeases"));
        long before = renewedAt();

        await().atMost(Duration.ofMinutes(2)).until(() -> !threadIn("buildhook-node-id", "NodeLeases"));
        assertThat(terminateSleeper()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(60)).until(() -> renewedAt() > before);
    }

    private long renewedAt() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT max(renewed_at) FROM node_leases")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Whether a thread of db-scheduler waits for PostgreSQL's answer now. */
    private static boolean schedulerThreadInACall() {
        return Thread.getAllStackTraces().values().stream().anyMatch(frames -> Arrays.stream(frames)
                .anyMatch(f -> f.getClassName().startsWith("org.postgresql.core.")) && Arrays.stream(frames)
                .anyMatch(f -> f.getClassName().startsWith("com.github.kagkarlsson.scheduler.")));
    }

    /**
     * The same for db-scheduler's own statements (its pick, its heartbeats): a thread of it held for good stopped the
     * node's picks, or fenced every job of the node from then on, without a word.
     */
    @Test
    void aSchedulerStatementThatPostgresNeverAnswersEndsAfterItsBoundAndJobsRunAgain() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: quick\n"
                + "    run: {command: [/bin/true]}\n");
        openStore();
        startEngine();
        // db-scheduler's pick and heartbeats set last_heartbeat; the first such UPDATE sleeps.
        sleepOnce("scheduled_tasks", "NEW.last_heartbeat IS DISTINCT FROM OLD.last_heartbeat");
        String first = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> sleeping() && schedulerThreadInACall());

        await().atMost(Duration.ofMinutes(2)).until(() -> !schedulerThreadInACall());
        assertThat(terminateSleeper()).isEqualTo(1);

        String second = deliver(rules, 68).jobIds().get(0);
        assertState(awaitFinal(second).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(first).job(), JobState.SUCCEEDED);
    }

    /** Whether a thread is inside {@code JobTask}'s {@code method} now, and waiting for PostgreSQL there ({@code inACall}). */
    private static boolean jobThreadIn(String method, boolean inACall) {
        return Thread.getAllStackTraces().values().stream().anyMatch(frames -> Arrays.stream(frames)
                .anyMatch(f -> f.getClassName().endsWith(".JobTask") && f.getMethodName().equals(method))
                && (inACall ? Arrays.stream(frames).anyMatch(f -> f.getClassName().startsWith("org.postgresql.core."))
                        : Arrays.stream(frames).noneMatch(f -> f.getClassName().startsWith("org.postgresql."))
                                && Arrays.stream(frames).anyMatch(f -> f.getClassName().endsWith(".StoreOutageWait"))));
    }

    /**
     * The same for a job's own bookkeeping, on its thread (db-scheduler's): the statement that records its outcome is
     * never answered. Held for good, the job never ended, its concurrency slot stayed held (the rule's next job never
     * started), and {@code /healthz} said ok. Now the answer that did not come is a cut connection: the job's thread
     * waits the outage out and tries again, and once the store answers (the sleeping session ended, its transaction
     * rolled back) the outcome is recorded, once, and the slot freed: the next job of the rule runs, after the first.
     */
    @Test
    void aJobWhoseOutcomePostgresNeverAnswersIsRecordedAfterTheBoundAndItsSlotFreed() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: one-at-a-time\n"
                + "    run: {command: [/bin/true], concurrency: 1}\n");
        openStore();
        sleepOnce("jobs", "NEW.state = 'SUCCEEDED' AND OLD.state IS DISTINCT FROM 'SUCCEEDED'");
        startEngine();
        String first = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> sleeping() && jobThreadIn("finish", true));
        String second = deliver(rules, 68).jobIds().get(0);

        // The job's thread left the call that got no answer (after the bound, 30 s here, not TCP's keepalive) and waits
        // for the store to answer again, between its tries (each refused the row the sleeping session still holds).
        assertThat(store.lookBound()).isEqualTo(Duration.ofSeconds(30));
        await().atMost(Duration.ofMinutes(2)).until(() -> jobThreadIn("finish", false));
        assertThat(terminateSleeper()).isEqualTo(1);

        JobDetail ended = awaitFinal(first);
        assertState(ended.job(), JobState.SUCCEEDED);
        JobDetail next = awaitFinal(second);
        assertState(next.job(), JobState.SUCCEEDED);
        assertThat(ended.attempts()).as("the command ran once").hasSize(1);
        assertThat(next.attempts()).hasSize(1);
        // One at a time: the next job started in the slot the first one's recorded end gave back.
        assertThat(next.attempts().get(0).startedAt()).isAfterOrEqualTo(ended.attempts().get(0).endedAt());
    }

    /**
     * The outcome's commit goes through, but its answer is lost (bound47 F3): a trigger deferred to the commit waits
     * (on PostgreSQL's side) for an advisory lock this test holds, past the bound; the job's thread takes the call for a
     * cut connection and tries again, while PostgreSQL, once the lock is given, commits what it was sent (the job ended,
     * its queue entry removed with it). The try again finds the outcome recorded and the queue entry gone. Before, it
     * then logged that another node had removed the queue entry and ended the job there (there is no other node).
     * Now it says what is known, and the job's record and its queue entry are right: ended once, no entry left.
     */
    @Test
    void aJobWhoseOutcomeCommittedButWhoseAnswerWasLostIsSaidSoAndLeftEnded() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: quick\n"
                + "    run: {command: [/bin/true]}\n");
        openStore();
        long key = new java.util.Random().nextLong();
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SEQUENCE commit_waits_once");
            s.execute("CREATE FUNCTION commit_waits_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF nextval('commit_waits_once') = 1 THEN"
                    + " PERFORM set_config('application_name', '" + sleeper + "', true);"
                    + " PERFORM set_config('lock_timeout', '0', true);"
                    + " PERFORM pg_advisory_xact_lock(" + key + "); END IF; RETURN NULL; END $$");
            s.execute("CREATE CONSTRAINT TRIGGER commit_waits_once AFTER UPDATE ON jobs DEFERRABLE INITIALLY DEFERRED"
                    + " FOR EACH ROW WHEN (NEW.state = 'SUCCEEDED' AND OLD.state IS DISTINCT FROM 'SUCCEEDED')"
                    + " EXECUTE FUNCTION commit_waits_once()");
        }
        try (StopLog log = new StopLog(); Connection holder = store.dataSource().getConnection();
                Statement hold = holder.createStatement()) {
            hold.execute("SELECT pg_advisory_lock(" + key + ")");
            startEngine();
            String id = deliver(rules, 67).jobIds().get(0);
            await().atMost(Duration.ofSeconds(60)).until(() -> waitingForTheLock() && jobThreadIn("finish", true));
            // Past the bound the job's thread gave the call up and waits for the store between its tries.
            await().atMost(Duration.ofMinutes(2)).until(() -> jobThreadIn("finish", false));
            // The commit the job's thread no longer waits for goes through now.
            hold.execute("SELECT pg_advisory_unlock(" + key + ")");

            JobDetail ended = awaitFinal(id);
            assertState(ended.job(), JobState.SUCCEEDED);
            assertThat(ended.attempts()).as("the command ran once").hasSize(1);
            await().atMost(Duration.ofSeconds(60)).until(() -> log.said().stream()
                    .anyMatch(m -> m.startsWith("job " + id + ": its outcome is recorded")));
            assertThat(queueEntries(id)).as("no queue entry left").isZero();
            assertThat(log.said()).filteredOn(m -> m.contains(id))
                    .noneMatch(m -> m.contains("another node") || m.contains("taken over"))
                    .anyMatch(m -> m.contains("its answer was lost"));
        }
    }

    private boolean waitingForTheLock() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                        + sleeper + "' AND wait_event = 'advisory'")) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }

    private int queueEntries(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM scheduled_tasks WHERE task_instance = '"
                        + jobId + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
