package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.exec.ProcessIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which executions a node frees at once after a crash: only those of a JVM of this host and boot
 * that is provably dead, and only once the sweep has recorded its attempt (its leftovers killed).
 * The dead JVM is a real process that has exited.
 */
class DeadNodeReleaseTest {

    @TempDir
    Path dir;
    Store store;
    String jobId;

    @BeforeEach
    void aJobHeldByNodeDeadWithItsSlot() {
        aJobHeldByNodeDeadWithItsSlot(TestStores.sqlite(dir));
    }

    private void aJobHeldByNodeDeadWithItsSlot(StoreConfig config) {
        store = Store.open(config);
        jobId = store.accept(Plans.delivery("{\"build_id\": 1}"),
                List.of(Plans.job("solo", List.of("/bin/true"), java.util.Map.of(), 0, java.time.Duration.ZERO, 1)))
                .jobIds().get(0);
        assertThat(store.ledger().tryAcquireSlot("solo", 1, jobId, "dead", -1)).isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(jobId, "dead")).isEqualTo(1);
        sql("UPDATE scheduled_tasks SET picked = TRUE, picked_by = 'dead' WHERE task_instance = ?", jobId);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void freesTheJobAndItsSlotOfAJvmOfThisHostThatHasExitedOnceItsAttemptIsSwept() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);

        assertThat(store.deadNodes().release(NodeIdentity.current()))
                .containsExactly(new DeadNodeRelease.Released(jobId, "dead", exited.pid(), "run again"));
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked = 0"
                + " AND picked_by IS NULL")).isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isZero();
        assertThat(store.ledger().tryAcquireSlot("solo", 1, "another-job", "live", -1))
                .isEqualTo(ExecutionLedger.Take.TAKEN);
    }

    /**
     * tryout33 F9 (b): at a SQLite start, another node id's pick on which no attempt runs is over (this JVM holds the
     * store's lock); one whose attempt is still marked running is left to the sweeps (it may have left processes), and
     * this node's own id's picks to its look for stale picks.
     */
    @Test
    void atASqliteStartAnotherNodeIdsPickIsFreedOnlyWhenNoAttemptOfItsJobIsMarkedRunning() {
        assertThat(store.deadNodes().releaseOtherNodesPicks("node-new")).as("attempt 1 is marked running").isEmpty();
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked_by = 'dead'"))
                .isEqualTo(1);

        sql("UPDATE job_attempts SET outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);
        assertThat(store.deadNodes().releaseOtherNodesPicks("dead")).as("this node's own id").isEmpty();
        List<DeadNodeRelease.OtherNodesPick> released = store.deadNodes().releaseOtherNodesPicks("node-new");

        assertThat(released).containsExactly(new DeadNodeRelease.OtherNodesPick(jobId, "dead", false));
        assertThat(released.get(0).describe(java.time.Duration.ofMinutes(3))).startsWith("picked by node dead, which"
                + " no longer runs (this server holds the SQLite database's lock").endsWith("; put back in the queue"
                + " now, in its place, to run instead of after the dead-node limit (3m)");
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked = 0"
                + " AND picked_by IS NULL")).isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isZero();
    }

    /** PostgreSQL: other nodes are real there; their picks are never taken so. */
    @Test
    void onPostgresqlAnotherNodeIdsPickIsNeverFreedAsOver() {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(TestStores.postgres(dir.resolve("pg")));
        sql("UPDATE job_attempts SET outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);

        org.assertj.core.api.Assertions.assertThatIllegalStateException()
                .isThrownBy(() -> store.deadNodes().releaseOtherNodesPicks("node-new"));
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked_by = 'dead'"))
                .isEqualTo(1);
    }

    /**
     * tryout13 F2: the release of a job that a newer build superseded while its node died said "the job is
     * put back in the queue now", of a job that never runs again. It says what becomes of the job.
     */
    @Test
    void theReleaseOfASupersededJobSaysItIsNotRunAgainAndOfAnotherThatItRunsAgain() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);
        sql("UPDATE jobs SET cancel_requested = 1, superseded_by = 'newer-job' WHERE id = ?", jobId);

        List<DeadNodeRelease.Released> released = store.deadNodes().release(NodeIdentity.current());

        assertThat(released).hasSize(1);
        assertThat(released.get(0).next()).isEqualTo("not run again: it was superseded by job newer-job");
        assertThat(released.get(0).describe(java.time.Duration.ofMinutes(3))).isEqualTo("its node dead (pid "
                + exited.pid() + " on this host) was gone before the job's end was recorded, and what it left was killed; not run again:"
                + " it was"
                + " superseded by job newer-job (its end is recorded now instead of after the dead-node limit, 3m)");
        assertThat(new DeadNodeRelease.Released(jobId, "dead", 7, "run again").describe(java.time.Duration.ofMinutes(3)))
                .isEqualTo("its node dead (pid 7 on this host) was gone before the job's end was recorded, and what it"
                        + " left was killed; the job is put"
                        + " back in the queue now, to run again, instead of after the dead-node limit (3m)");
    }

    /**
     * tryout23 F5: one kill -9, two stories in one start: the sweep recorded "none of its processes was left" and the
     * release said "and what it left was killed" of the same job. The release says what the sweep found.
     */
    @Test
    void theReleaseSaysWhatTheSweepFoundOfWhatTheNodeLeft() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED', message = 'its node dead was gone before the attempt''s end was recorded; "
                + ExecutionLedger.NONE_LEFT + "; run again' WHERE job_id = ?", jobId);

        List<DeadNodeRelease.Released> released = store.deadNodes().release(NodeIdentity.current());

        assertThat(released).singleElement().satisfies(r -> assertThat(r.describe(java.time.Duration.ofMinutes(3)))
                .isEqualTo("its node dead (pid " + exited.pid() + " on this host) was gone before the job's end was"
                        + " recorded, and nothing of it was found; the job is put back in the queue now, to run again,"
                        + " instead of after the dead-node limit (3m)"));
    }

    @Test
    void neverFreesTheJobOfALiveJvm() {
        // startAttempt recorded this very JVM, which runs.
        sql("UPDATE job_attempts SET outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);

        assertThat(store.deadNodes().release(NodeIdentity.current())).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked = 1")).isEqualTo(1);
    }

    @Test
    void freesTheJobOfAJvmWhosePidBelongsToAnotherProcessNow() {
        // Pid 1 runs, but it started at another time than the JVM recorded: that JVM is gone.
        ProcessIdentity init = ProcessIdentity.of(1);
        sql("UPDATE job_attempts SET node_pid = 1, node_started = " + (init.startTicks() + 1)
                + ", outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);
        assertThat(store.deadNodes().release(NodeIdentity.current())).hasSize(1);
    }

    /**
     * A JVM recorded without its start time, whose pid is in use: that proves nothing (it may be the very
     * node, alive), so nothing is released. Its NULL start time was read as 0, and the job released.
     */
    @Test
    void neverFreesTheJobOfAJvmRecordedWithoutItsStartTimeWhosePidIsInUse() {
        sql("UPDATE job_attempts SET node_pid = 1, node_started = NULL, outcome = 'INTERRUPTED' WHERE job_id = ?",
                jobId);

        assertThat(store.deadNodes().release(NodeIdentity.current())).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked = 1")).isEqualTo(1);
    }

    @Test
    void neverFreesTheJobBeforeTheSweepHasKilledWhatItsAttemptLeft() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + " WHERE job_id = ?", jobId);

        assertThat(store.deadNodes().release(NodeIdentity.current())).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);
    }

    @Test
    void neverFreesTheJobOfANodeOfAnotherBoot() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED', boot_id = 'another-boot' WHERE job_id = ?", jobId);
        assertThat(store.deadNodes().release(NodeIdentity.current())).isEmpty();
    }

    /**
     * tryout16 F7: a container re-created on the same SQLite volume (after a {@code podman kill}, or by a
     * unit that runs it with {@code --rm}) has another host name, its id. Its job waited the whole dead-node
     * limit (3 minutes), though only one node can open a SQLite database (the store lock): the node that
     * picked the job is dead once this one runs, and the sweep had already recorded its attempt.
     */
    @Test
    void onSqliteFreesTheJobOfADeadJvmOfThisBootRecordedUnderAnotherHostName() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED', host = 'a-container-removed-since' WHERE job_id = ?", jobId);

        assertThat(store.deadNodes().release(NodeIdentity.current()))
                .containsExactly(new DeadNodeRelease.Released(jobId, "dead", exited.pid(), "run again"));
    }

    /**
     * On PostgreSQL other nodes may be alive, and a host name that differs on the same boot id and PID
     * namespace is a machine cloned from another's running image (a VM snapshot keeps the kernel's boot id):
     * its JVM's pid means nothing here, so nothing is freed.
     */
    @Test
    void onPostgresqlNeverFreesTheJobOfANodeOfAnotherHostName() throws Exception {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(TestStores.postgres(dir.resolve("pg")));
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED', host = 'another-host' WHERE job_id = ?", jobId);
        assertThat(store.deadNodes().release(NodeIdentity.current())).isEmpty();

        sql("UPDATE job_attempts SET host = '" + NodeIdentity.current().host() + "' WHERE job_id = ?", jobId);
        assertThat(store.deadNodes().release(NodeIdentity.current()))
                .containsExactly(new DeadNodeRelease.Released(jobId, "dead", exited.pid(), "run again"));
    }

    /**
     * chaos31 F1: a node started again with the same id (always so on SQLite) picks a job whose latest attempt its
     * dead predecessor made and recorded (a failed attempt whose retry is due, or one the sweep ended): the pick is
     * this JVM's own, made since it started. It was released as the dead JVM's: the live pick's thread lost it (its
     * reschedule failed with db-scheduler's ERROR "Expected one execution to be updated ... Indicates a bug"), and
     * the slot it held was freed under it. Only a pick older than this JVM's start is the predecessor's.
     */
    @Test
    void neverFreesThisJvmsOwnPickOfAJobWhoseLatestAttemptItsDeadPredecessorMade() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'FAILED' WHERE job_id = ?", jobId);
        java.time.Instant started = java.time.Instant.now().minusSeconds(5);
        pickedAt(started.plusSeconds(2)); // picked by this JVM, under its id 'dead', after it started

        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "dead", started))
                .isEmpty();
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked = 1"
                + " AND picked_by = 'dead'")).isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);

        pickedAt(started.minusSeconds(2)); // the predecessor's pick, left when it died
        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "dead", started))
                .extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isZero();
    }

    /**
     * chaos31 F1 on PostgreSQL, seen from another node of the host: node id 'dead' started again (its lease in
     * node_leases names the live JVM) and picked the job; a pick made since that JVM took the id is its own.
     */
    @Test
    void onPostgresqlNeverFreesThePickOfTheLiveJvmThatHoldsTheNodeIdNow() throws Exception {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(TestStores.postgres(dir.resolve("pg")));
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'FAILED', host = '" + NodeIdentity.current().host() + "' WHERE job_id = ?", jobId);
        java.time.Instant acquired = java.time.Instant.now().minusSeconds(5);
        ProcessIdentity live = NodeIdentity.current().process();
        sql("INSERT INTO node_leases (node_id, instance, host, boot_id, node_pid, node_started, acquired_at, renewed_at)"
                + " VALUES (?, 'live-instance', '" + NodeIdentity.current().host() + "', '"
                + NodeIdentity.current().bootId() + "', " + live.pid() + ", " + live.startTicks() + ", "
                + acquired.toEpochMilli() + ", " + acquired.toEpochMilli() + ")", "dead");
        pickedAt(acquired.plusSeconds(2));

        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now())).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);

        pickedAt(acquired.minusSeconds(2)); // picked before the live JVM took the id: the dead one's
        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now())).extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);
    }

    /**
     * review31 L3, the database's clock ahead of this host's: node id 'dead' started again on this host and took its
     * id (node_leases.acquired_at: the database's clock, as NodeLeases writes it), and its JVM picked the job at once,
     * stamping the pick with this host's clock, 3 s behind. Another node of the host compared the two as they were:
     * the live pick looked older than the claim, and it was released, its slot freed under it (chaos31 F1 again).
     * The claim written by this build (its time by this host's clock too, V19) and one written before V19 (none).
     */
    @Test
    void onPostgresqlNeverFreesTheLivePickOfTheNodeIdsHolderWhenThisHostsClockIsBehindTheDatabases() throws Exception {
        hostBehindTheDatabase(false);
    }

    @Test
    void onPostgresqlNeverFreesTheLivePickOfAClaimWrittenBeforeV19WhenThisHostsClockIsBehindTheDatabases()
            throws Exception {
        hostBehindTheDatabase(true);
    }

    private void hostBehindTheDatabase(boolean claimBeforeV19) throws Exception {
        java.time.Clock host = java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofSeconds(-3));
        deadAttemptOnPostgresql();
        assertThat(store.nodeLeases(host).claim("dead", "live-instance", NodeIdentity.current(),
                java.time.Duration.ofMinutes(3), true)).isEmpty();
        if (claimBeforeV19) {
            sql("UPDATE node_leases SET acquired_host_at = NULL, acquired_host_instance = NULL WHERE node_id = ?", "dead");
        }
        pickedAt(host.instant()); // the live JVM's pick, just after its claim, by this host's clock

        assertThat(store.deadNodes(host).release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT,
                "another-node", java.time.Instant.now(), java.time.Duration.ofMinutes(3))).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked = TRUE"
                + " AND picked_by = 'dead'")).isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);

        pickedAt(host.instant().minusSeconds(10)); // the dead JVM's pick, made before the claim: released at once
        assertThat(store.deadNodes(host).release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT,
                "another-node", java.time.Instant.now(), java.time.Duration.ofMinutes(3)))
                .extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isZero();
    }

    /**
     * review31 L3, the database's clock behind this host's (30 s): the dead JVM's last heartbeat, 10 s before the
     * node id was taken again, looked newer than the claim and was left to the dead-node limit; it is released at once.
     * The claim written by this build and one written before V19.
     */
    @Test
    void onPostgresqlFreesAtOnceTheDeadPickMadeBeforeTheClaimWhenThisHostsClockIsAheadOfTheDatabases() throws Exception {
        hostAheadOfTheDatabase(false);
    }

    @Test
    void onPostgresqlFreesAtOnceTheDeadPickMadeBeforeAClaimWrittenBeforeV19WhenThisHostsClockIsAhead()
            throws Exception {
        hostAheadOfTheDatabase(true);
    }

    private void hostAheadOfTheDatabase(boolean claimBeforeV19) throws Exception {
        java.time.Clock host = java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofSeconds(30));
        deadAttemptOnPostgresql();
        pickedAt(host.instant().minusSeconds(10)); // its last heartbeat, by this host's clock
        assertThat(store.nodeLeases(host).claim("dead", "live-instance", NodeIdentity.current(),
                java.time.Duration.ofMinutes(3), true)).isEmpty();
        if (claimBeforeV19) {
            sql("UPDATE node_leases SET acquired_host_at = NULL, acquired_host_instance = NULL WHERE node_id = ?", "dead");
        }

        assertThat(store.deadNodes(host).release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT,
                "another-node", java.time.Instant.now(), java.time.Duration.ofMinutes(3)))
                .extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);
    }

    /**
     * review32 F2: this host's clock set forward 5 s after the live JVM's pick (0.2 s after its claim), before another
     * node of the host looked at it. The offset between the clocks was read at the release, not at the claim: the
     * claim moved 5 s later on this host's clock, the pick did not, and the live pick was released, its slot freed
     * under it. The claim's own time by this host's clock (V19) does not move. On PostgreSQL (the claim's acquired_at
     * is the database's clock); on SQLite every time is this host's and stored, as it was.
     */
    @Test
    void onPostgresqlNeverFreesTheLivePickWhenThisHostsClockIsSetForwardAfterIt() throws Exception {
        deadAttemptOnPostgresql();
        clockSetForwardAfterTheLivePick();
    }

    @Test
    void onSqliteNeverFreesTheLivePickWhenThisHostsClockIsSetForwardAfterIt() throws Exception {
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'FAILED', host = '" + NodeIdentity.current().host() + "' WHERE job_id = ?", jobId);
        clockSetForwardAfterTheLivePick();
    }

    private void clockSetForwardAfterTheLivePick() {
        assertThat(store.nodeLeases().claim("dead", "live-instance", NodeIdentity.current(),
                java.time.Duration.ofMinutes(3), true)).isEmpty();
        pickedAt(java.time.Instant.now().plusMillis(200)); // the live JVM's pick, by this host's clock
        java.time.Clock setForward = java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofSeconds(5));

        assertThat(store.deadNodes(setForward).release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT,
                "another-node", java.time.Instant.now(), java.time.Duration.ofMinutes(3))).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ? AND picked_by = 'dead'"))
                .isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);

        pickedAt(java.time.Instant.now().minusSeconds(10)); // the dead JVM's pick, before the claim: released at once
        assertThat(store.deadNodes(setForward).release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT,
                "another-node", java.time.Instant.now(), java.time.Duration.ofMinutes(3)))
                .extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isZero();
    }

    /**
     * A claim rewritten by a node of a version before V19 (it takes the id over and leaves acquired_host_at as the
     * claim before it wrote it): that time is another claim's, here of a host whose clock was a minute ahead, and is
     * not taken for this one's; the claim is compared by the offset read at the release, as before V19.
     */
    @Test
    void onPostgresqlTheHostTimeOfAnotherInstancesClaimIsNotTakenForTheClaimOfTheNodeIdsHolder() throws Exception {
        deadAttemptOnPostgresql();
        assertThat(store.nodeLeases().claim("dead", "live-instance", NodeIdentity.current(),
                java.time.Duration.ofMinutes(3), true)).isEmpty();
        sql("UPDATE node_leases SET acquired_host_at = acquired_host_at + 60000,"
                + " acquired_host_instance = 'an-earlier-claim' WHERE node_id = ?", "dead");
        pickedAt(java.time.Instant.now()); // the live JVM's pick

        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now(), java.time.Duration.ofMinutes(3))).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);
    }

    /**
     * The node id held by a JVM of another host, whose claim (V19) carries its own host's clock, the one its picks are
     * stamped with: its pick just after its claim is left alone whatever the database's clock says, and the dead JVM's
     * pick made before the claim is released at once instead of after the dead-node limit.
     */
    @Test
    void onPostgresqlComparesThePickWithTheClaimOfAJvmOfAnotherHostOnThatHostsClock() throws Exception {
        deadAttemptOnPostgresql();
        java.time.Clock elsewhere = java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofSeconds(-40));
        NodeIdentity other = new NodeIdentity("another-host", "another-boot", NodeIdentity.current().process());
        assertThat(store.nodeLeases(elsewhere).claim("dead", "live-instance", other, java.time.Duration.ofMinutes(3),
                true)).isEmpty();
        pickedAt(elsewhere.instant().plusMillis(200)); // its pick, by its host's clock

        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now(), java.time.Duration.ofMinutes(3))).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);

        pickedAt(elsewhere.instant().minusSeconds(10)); // made 10 s before the claim: the dead JVM's
        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now(), java.time.Duration.ofMinutes(3)))
                .extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);
    }

    /**
     * review31 L3, the node id taken by a JVM of another host, whose clock this node cannot read (30 s behind the
     * database's there): its pick made just after its claim was released as older than the claim. A pick is now
     * released only when it is older than the claim by more than the dead-node limit, db-scheduler's own bound.
     */
    @Test
    void onPostgresqlLeavesThePickOfANodeIdHeldOnAnotherHostToTheDeadNodeLimit() throws Exception {
        deadAttemptOnPostgresql();
        ProcessIdentity live = NodeIdentity.current().process();
        sql("INSERT INTO node_leases (node_id, instance, host, boot_id, node_pid, node_started, acquired_at, renewed_at)"
                + " VALUES (?, 'live-instance', 'another-host', 'b', " + live.pid() + ", " + live.startTicks()
                + ", CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT),"
                + " CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT))", "dead");
        pickedAt(java.time.Instant.now().minusSeconds(30)); // its pick, by its host's clock

        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now(), java.time.Duration.ofMinutes(3))).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isEqualTo(1);

        pickedAt(java.time.Instant.now().minusSeconds(200)); // older than the claim by more than the limit
        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now(), java.time.Duration.ofMinutes(3)))
                .extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);
    }

    /**
     * V19 on a populated store of version 18: the claim a node of version 18 wrote is kept, with no time by its host's
     * clock, and compared as before (a dead JVM's pick made before it is released at once, the live pick left alone);
     * a node of version 18 still running writes its claim as before, and this build's claim carries the time.
     */
    @Test
    void anUpgradeFromVersion18KeepsTheOlderNodesClaimOnSqlite() throws Exception {
        upgradeFromVersion18(TestStores.sqlite(dir.resolve("upgrade")));
    }

    @Test
    void anUpgradeFromVersion18KeepsTheOlderNodesClaimOnPostgresql() throws Exception {
        upgradeFromVersion18(TestStores.postgres(dir.resolve("pg")));
    }

    private void upgradeFromVersion18(StoreConfig config) throws Exception {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(config);
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'FAILED', host = '" + NodeIdentity.current().host() + "' WHERE job_id = ?", jobId);
        store.close();
        try (Connection c = java.sql.DriverManager.getConnection(config.url());
                java.sql.Statement st = c.createStatement()) {
            st.execute("ALTER TABLE node_leases DROP COLUMN acquired_host_at");
            st.execute("ALTER TABLE node_leases DROP COLUMN acquired_host_instance");
            st.execute("ALTER TABLE job_attempts DROP COLUMN unit_numbers");
            st.execute("ALTER TABLE node_leases DROP COLUMN data_dir");
            st.execute("DROP INDEX jobs_run_idx");
            st.execute("DELETE FROM schema_version WHERE version >= 19");
        }
        java.time.Instant claimed = java.time.Instant.now();
        olderNodeClaims(config, "dead", "instance-18", claimed);

        store = Store.open(config);

        try (Connection c = store.dataSource().getConnection(); java.sql.Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(Migrations.latest(store.dialect()));
        }
        assertThat(countOf("dead", "SELECT COUNT(*) FROM node_leases WHERE node_id = ? AND instance = 'instance-18'"
                + " AND acquired_host_at IS NULL AND acquired_host_instance IS NULL")).as("the older claim, kept")
                .isEqualTo(1);
        pickedAt(claimed.plusMillis(200)); // the live JVM's pick
        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now(), java.time.Duration.ofMinutes(3))).isEmpty();
        pickedAt(claimed.minusSeconds(10)); // the dead JVM's
        assertThat(store.deadNodes().release(NodeIdentity.current(), ExecutionLedger.InARow.DEFAULT, "another-node",
                java.time.Instant.now(), java.time.Duration.ofMinutes(3)))
                .extracting(DeadNodeRelease.Released::jobId).containsExactly(jobId);

        // A node of version 18, still running, takes the id over again: written as before, its time not taken.
        assertThat(store.nodeLeases().claim("dead", "instance-19", NodeIdentity.current(),
                java.time.Duration.ofMinutes(3), true)).isEmpty();
        assertThat(countOf("dead", "SELECT COUNT(*) FROM node_leases WHERE node_id = ? AND instance = 'instance-19'"
                + " AND acquired_host_instance = 'instance-19' AND acquired_host_at IS NOT NULL")).isEqualTo(1);
        olderNodeClaims(config, "dead", "instance-18b", java.time.Instant.now());
        assertThat(countOf("dead", "SELECT COUNT(*) FROM node_leases WHERE node_id = ? AND instance = 'instance-18b'"
                + " AND acquired_host_instance = 'instance-19'")).isEqualTo(1);
        assertThat(store.nodeLeases().holder("dead")).hasValueSatisfying(h -> assertThat(h.instance())
                .isEqualTo("instance-18b"));
    }

    /** A claim of this JVM as a node of version 18 writes it: without V19's columns. */
    private static void olderNodeClaims(StoreConfig config, String nodeId, String instance, java.time.Instant at)
            throws java.sql.SQLException {
        ProcessIdentity live = NodeIdentity.current().process();
        try (Connection c = java.sql.DriverManager.getConnection(config.url());
                PreparedStatement p = c.prepareStatement("INSERT INTO node_leases (node_id, instance, host, boot_id,"
                + " node_pid, node_started, acquired_at, renewed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (node_id) DO UPDATE SET instance = excluded.instance, host = excluded.host,"
                + " boot_id = excluded.boot_id, node_pid = excluded.node_pid, node_started = excluded.node_started,"
                + " acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at")) {
            p.setString(1, nodeId);
            p.setString(2, instance);
            p.setString(3, NodeIdentity.current().host());
            p.setString(4, NodeIdentity.current().bootId());
            p.setLong(5, live.pid());
            p.setLong(6, live.startTicks());
            p.setLong(7, at.toEpochMilli());
            p.setLong(8, at.toEpochMilli());
            p.executeUpdate();
        }
    }

    /** On PostgreSQL: the job's latest attempt is of node 'dead', a JVM of this host that has exited, swept. */
    private void deadAttemptOnPostgresql() throws Exception {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(TestStores.postgres(dir.resolve("pg")));
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'FAILED', host = '" + NodeIdentity.current().host() + "' WHERE job_id = ?", jobId);
    }

    /** The execution picked by 'dead' with this heartbeat, as db-scheduler's pick and heartbeats write it. */
    private void pickedAt(java.time.Instant heartbeat) {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = 'dead', last_heartbeat = ? WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            JobQueue.customization(store.dialect()).setInstant(p, 2, heartbeat);
            p.setString(3, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A real process, started and gone: what a JVM killed with -9 leaves in the store. */
    /**
     * wake36: the board a dead node held for a job that is not run again (its cancel was asked for) goes to the job
     * waiting for it as soon as the release frees it, as a give-back does; before, that job waited for its next try
     * ({@code runner.slot-retry}, here an hour: its put-back). SQLite, and PostgreSQL below.
     */
    @Test
    void aBoardADeadNodeHeldGoesToTheJobWaitingForItWhenTheReleaseFreesIt() throws Exception {
        theReleaseWakesTheJobWaitingForTheBoard();
    }

    @Test
    void onPostgresqlABoardADeadNodeHeldGoesToTheJobWaitingForItWhenTheReleaseFreesIt() throws Exception {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(TestStores.postgres(dir.resolve("pg")));
        theReleaseWakesTheJobWaitingForTheBoard();
    }

    private void theReleaseWakesTheJobWaitingForTheBoard() throws Exception {
        org.buildhook.runner.PlannedJob lab = Plans.job("lab", List.of("/bin/true"), java.util.Map.of(), 0,
                java.time.Duration.ZERO, 0).withWorkflow(new org.buildhook.runner.JobWorkflow(null, null, false, null,
                        java.util.Map.of("board", 1), java.util.Map.of("board", 1), null, null, 0));
        String held = store.accept(Plans.delivery("{\"build_id\": 2}"), List.of(lab)).jobIds().get(0);
        String waiting = store.accept(Plans.delivery("{\"build_id\": 3}"), List.of(lab)).jobIds().get(0);
        assertThat(store.resources().tryAcquire(store.job(held).orElseThrow().job(), "dead", -1))
                .isEqualTo(ExecutionLedger.Take.TAKEN);
        assertThat(store.ledger().startAttempt(held, "dead")).isEqualTo(1);
        sql("UPDATE scheduled_tasks SET picked = TRUE, picked_by = 'dead' WHERE task_instance = ?", held);
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED' WHERE job_id = ?", held);
        sql("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", held);
        assertThat(store.resources().tryAcquire(store.job(waiting).orElseThrow().job(), "live", -1))
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        java.time.Instant later = java.time.Instant.now().plus(java.time.Duration.ofHours(1));
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET execution_time = ? WHERE task_instance = ?")) {
            JobQueue.customization(store.dialect()).setInstant(p, 1, later);
            p.setString(2, waiting);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }

        assertThat(store.deadNodes().release(NodeIdentity.current())).extracting(DeadNodeRelease.Released::jobId)
                .contains(held);

        assertThat(countOf(held, "SELECT COUNT(*) FROM resource_holds WHERE job_id = ?")).isZero();
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, waiting);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(JobQueue.customization(store.dialect()).getInstant(rs, "execution_time"))
                        .as("the waiting job, woken").isBefore(later.minus(java.time.Duration.ofMinutes(30)));
            }
        }
    }

    /**
     * renames37 (wake36's note): the concurrency slot a dead node held for a job that is not run again (its cancel was
     * asked for) goes to the rule's next job as soon as the release frees it, as a give-back does; before, the release
     * woke nobody for a slot, and that job waited for its next try ({@code runner.slot-retry}, here an hour: its
     * put-back). SQLite, and PostgreSQL below.
     */
    @Test
    void theSlotADeadNodeHeldGoesToTheRulesNextJobWhenTheReleaseFreesIt() throws Exception {
        theReleaseWakesTheRulesNextJob();
    }

    @Test
    void onPostgresqlTheSlotADeadNodeHeldGoesToTheRulesNextJobWhenTheReleaseFreesIt() throws Exception {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(TestStores.postgres(dir.resolve("pg")));
        theReleaseWakesTheRulesNextJob();
    }

    private void theReleaseWakesTheRulesNextJob() throws Exception {
        String next = store.accept(Plans.delivery("{\"build_id\": 4}"), List.of(Plans.job("solo", List.of("/bin/true"),
                java.util.Map.of(), 0, java.time.Duration.ZERO, 1))).jobIds().get(0);
        assertThat(store.ledger().tryAcquireSlot("solo", 1, next, "live", -1)).as("the dead node's job holds the slot")
                .isEqualTo(ExecutionLedger.Take.NOT_FREE);
        java.time.Instant later = java.time.Instant.now().plus(java.time.Duration.ofHours(1));
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET execution_time = ? WHERE task_instance = ?")) {
            JobQueue.customization(store.dialect()).setInstant(p, 1, later); // put back for its next try
            p.setString(2, next);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);
        sql("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", jobId);

        assertThat(store.deadNodes().release(NodeIdentity.current())).extracting(DeadNodeRelease.Released::jobId)
                .contains(jobId);

        assertThat(countOf(jobId, "SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isZero();
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, next);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(JobQueue.customization(store.dialect()).getInstant(rs, "execution_time"))
                        .as("the rule's next job, woken").isBefore(later.minus(java.time.Duration.ofMinutes(30)));
            }
        }
    }

    /**
     * review38 F8: the slot a dead node held for a job of the old name ({@code solo}) is the renamed rule's too
     * ({@code solo-v2}, {@code renamed-from: solo}, {@code concurrency: 1}); the release woke only the old name's line,
     * and the renamed rule's job waiting for that slot waited for its next try ({@code runner.slot-retry}, here an
     * hour: its put-back). SQLite, and PostgreSQL below.
     */
    @Test
    void theSlotADeadNodeHeldForTheOldNameGoesToTheRenamedRulesNextJobWhenTheReleaseFreesIt() throws Exception {
        theReleaseWakesTheRenamedRulesNextJob();
    }

    @Test
    void onPostgresqlTheSlotADeadNodeHeldForTheOldNameGoesToTheRenamedRulesNextJobWhenTheReleaseFreesIt()
            throws Exception {
        store.close();
        aJobHeldByNodeDeadWithItsSlot(TestStores.postgres(dir.resolve("pg")));
        theReleaseWakesTheRenamedRulesNextJob();
    }

    private void theReleaseWakesTheRenamedRulesNextJob() throws Exception {
        store.ledger().renames(RuleRenames.of(java.util.Map.of("solo-v2", List.of("solo")),
                java.util.Map.of("solo-v2", "name: solo-v2")));
        String next = store.accept(Plans.delivery("{\"build_id\": 5}"), List.of(Plans.job("solo-v2",
                List.of("/bin/true"), java.util.Map.of(), 0, java.time.Duration.ZERO, 1))).jobIds().get(0);
        assertThat(store.ledger().tryAcquireSlot("solo-v2", 1, next, "live", -1))
                .as("the dead node's job of the old name holds the slot they share").isEqualTo(ExecutionLedger.Take.NOT_FREE);
        java.time.Instant later = java.time.Instant.now().plus(java.time.Duration.ofHours(1));
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET execution_time = ? WHERE task_instance = ?")) {
            JobQueue.customization(store.dialect()).setInstant(p, 1, later); // put back for its next try
            p.setString(2, next);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        ProcessIdentity exited = exitedProcess();
        sql("UPDATE job_attempts SET node_pid = " + exited.pid() + ", node_started = " + exited.startTicks()
                + ", outcome = 'INTERRUPTED' WHERE job_id = ?", jobId);
        sql("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", jobId);

        assertThat(store.deadNodes().release(NodeIdentity.current())).extracting(DeadNodeRelease.Released::jobId)
                .contains(jobId);

        assertThat(countOf(jobId, "SELECT COUNT(*) FROM rule_slots WHERE job_id = ?")).isZero();
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, next);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(JobQueue.customization(store.dialect()).getInstant(rs, "execution_time"))
                        .as("the renamed rule's next job, woken").isBefore(later.minus(java.time.Duration.ofMinutes(30)));
            }
        }
    }

    private static ProcessIdentity exitedProcess() throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        ProcessIdentity identity = ProcessIdentity.of(p.pid());
        p.destroyForcibly().waitFor();
        assertThat(identity).isNotNull();
        assertThat(identity.isAlive()).isFalse();
        return identity;
    }

    private void sql(String statement, String job) {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(statement)) {
            p.setString(1, job);
            p.executeUpdate();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private int count(String query) {
        return countOf(jobId, query);
    }

    private int countOf(String value, String query) {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(query)) {
            p.setString(1, value);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
