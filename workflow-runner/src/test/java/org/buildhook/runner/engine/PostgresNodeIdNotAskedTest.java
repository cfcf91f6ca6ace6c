package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.PgFront;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.StoreUnavailableException;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * tryout29 F1, F2: the node id's advisory lock could not be asked (no connection of the pool {@code buildhook-node-id}:
 * PostgreSQL out of connections, {@code 53300}) and that was taken for another node holding it. At the start (F2) the
 * node waited the dead-node limit and was refused with "another session of the store holds its lock … give each node
 * its own runner.node-id"; a forgotten node whose renewal found no claim (F1) fenced itself for good ("taken over by
 * another node"). Real PostgreSQL behind a {@link PgFront} that refuses new logins as PostgreSQL out of connections
 * does, the connections made before working on; real engines.
 */
class PostgresNodeIdNotAskedTest {

    private static final String TOO_MANY = "too many connections for database \"buildhook_test\"";

    @TempDir
    Path dir;
    private PgFront front;
    private StoreConfig direct;
    private Store store;
    private final List<JobEngine> engines = new ArrayList<>();
    private final List<CommonsExecLauncher> launchers = new ArrayList<>();
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void open() throws Exception {
        direct = TestStores.postgres(dir.resolve("data"));
        front = PgFront.to(direct.url());
        store = Store.open(StoreConfig.of(front.url(direct.url()), dir.resolve("data"))
                .withConnectTimeout(Duration.ofSeconds(2)));
        log.start();
        logger().addAppender(log);
    }

    @AfterEach
    void close() {
        logger().detachAppender(log);
        front.forwardNewConnections();
        engines.forEach(JobEngine::stop);
        launchers.forEach(CommonsExecLauncher::close);
        store.close();
        front.close();
    }

    private static ch.qos.logback.classic.Logger logger() {
        return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobEngine.class);
    }

    private JobEngine engine(String node) {
        CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        launchers.add(launcher);
        JobEngine engine = JobEngine.create(store, launcher, AbstractEngineTest.steady(node));
        engines.add(engine);
        return engine;
    }

    /** F2: the start ends at once with the database's reason, named as the connection limit, not another node. */
    @Test
    void aStartWhoseLockCannotBeAskedSaysTheDatabasesReasonNotAnotherNode() {
        JobEngine engine = engine("node-f2");
        front.refuseNewConnections("53300", TOO_MANY);

        assertThatThrownBy(engine::start).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining(TOO_MANY)
                .hasMessageContaining("SQLSTATE 53300").hasMessageContaining("max_connections")
                .hasMessageContaining("CONNECTION LIMIT")
                .hasMessageNotContaining("another session").hasMessageNotContaining("runner.node-id")
                .hasMessageNotContaining("store.password");
        assertThat(front.refused()).isPositive();
        assertThat(events(Level.WARN)).as("no other node was waited for")
                .noneMatch(m -> m.contains("is held by another node"));
        assertThat(store.nodeLeases().holder("node-f2")).as("nothing claimed").isEmpty();
    }

    /**
     * F1: a node forgotten (its claim deleted) while its lock's session had ended, its new logins refused: it neither
     * claims its id nor fences itself, says so once, claims the id again once a login is made, and runs jobs. lock30:
     * meanwhile (no claim, no lock: nothing would refuse a node started with its id) it launches no job, and says so
     * where jobs paused are said; a job queued meanwhile starts once the id is claimed again.
     */
    @Test
    void aForgottenNodeWhoseLockCannotBeAskedLaunchesNoJobUntilItClaimsItsIdAgain() throws Exception {
        String node = "node-f1";
        JobEngine engine = engine(node);
        engine.start();
        List<Integer> holders = TestStores.nodeIdLockHolders(direct.url(), node);
        assertThat(holders).hasSize(1);

        front.refuseNewConnections("53300", TOO_MANY);
        // Its lock's session ended (a cut connection), then an operator forgot it (DELETE /api/nodes/node-f1). Every
        // session of the pool buildhook-node-id ends: an idle one of the pool would take the lock again at once.
        assertThat(terminateNodeIdSessions()).contains(holders.get(0));
        try (Connection c = DriverManager.getConnection(direct.url());
                PreparedStatement p = c.prepareStatement("DELETE FROM node_leases WHERE node_id = ?")) {
            p.setString(1, node);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        // A renewal whose ask (HELD) came just before the cut writes the claim again: forgotten again, as an operator
        // would, until a renewal finds the lock not asked.
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            if (store.nodeLeases().holder(node).isPresent()) {
                try (Connection c = DriverManager.getConnection(direct.url());
                        PreparedStatement p = c.prepareStatement("DELETE FROM node_leases WHERE node_id = ?")) {
                    p.setString(1, node);
                    p.executeUpdate();
                }
            }
            return !events(Level.ERROR).isEmpty()
                    || events(Level.WARN).stream().anyMatch(m -> m.contains("its lock could not be asked now"));
        });
        assertThat(events(Level.ERROR)).as("not taken for a takeover").isEmpty();
        assertThat(events(Level.WARN)).filteredOn(m -> m.contains("its lock could not be asked now")).singleElement()
                .asString().startsWith("node id node-f1: its claim is no longer in the store (an operator forgot");
        assertThat(engine.jobsPaused()).hasValueSatisfying(why -> assertThat(why).startsWith("jobs do not start on"
                + " this node for now: its node id node-f1 is no longer claimed in the store"));
        assertThat(engine.nodeIdTakenOver()).isEmpty();
        // A job queued now is not launched while the id is unclaimed (it was, within a polling interval of 100ms).
        String job = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofMinutes(1))
                .until(() -> store.job(job).orElseThrow().attempts().isEmpty());

        front.forwardNewConnections();
        await().atMost(Duration.ofMinutes(2)).until(() -> events(Level.WARN).stream()
                .anyMatch(m -> m.contains("claimed again, so it is listed again")));
        assertThat(store.nodeLeases().holder(node)).as("listed again").isPresent();
        assertThat(TestStores.nodeIdLockHolders(direct.url(), node)).as("its lock held again").hasSize(1);

        await().atMost(Duration.ofMinutes(2)).until(() -> store.job(job).orElseThrow().job().state() == JobState.SUCCEEDED);
        assertThat(store.job(job).orElseThrow().attempts()).extracting(JobAttempt::node).containsExactly(node);
        assertThat(engine.jobsPaused()).isEmpty();
        assertThat(events(Level.ERROR)).isEmpty();
    }

    /**
     * lock30: a start waiting for its id's other holder (a node that went silent with its session open) asks again
     * after a failed ask (new logins refused for a moment, its lock's session cut): one failed ask ended the start with
     * "store unavailable". It takes the id over once the holder has been silent for the dead-node limit.
     */
    @Test
    void aStartWaitingForAnotherHolderAsksAgainAfterOneFailedAsk() throws Exception {
        String node = "node-w";
        // The connection wait well above what the test needs to let logins through again: one failed ask, not two.
        Store waiting = Store.open(StoreConfig.of(front.url(direct.url()), dir.resolve("w"))
                .withConnectTimeout(Duration.ofSeconds(10)));
        try (Connection other = otherNodeHolds(node)) {
            CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-w")));
            launchers.add(launcher);
            JobEngine engine = JobEngine.create(waiting, launcher, AbstractEngineTest.steady(node));
            engines.add(engine);
            java.util.concurrent.CompletableFuture<Void> started = java.util.concurrent.CompletableFuture.runAsync(
                    engine::start);
            await().atMost(Duration.ofMinutes(2)).until(() -> started.isDone()
                    || events(Level.WARN).stream().anyMatch(m -> m.contains("is held by another node")));
            front.refuseNewConnections("53300", TOO_MANY);
            terminateNodeIdSessions();
            await().atMost(Duration.ofMinutes(2)).until(() -> started.isDone() || events(Level.WARN).stream()
                    .anyMatch(m -> m.contains("while waiting for it, its lock could not be asked")));
            front.forwardNewConnections();
            started.get(2, java.util.concurrent.TimeUnit.MINUTES); // threw the failed ask's error before
            assertThat(events(Level.WARN)).filteredOn(m -> m.contains("its lock could not be asked")).singleElement()
                    .asString().contains("asked again at the next look");
            assertThat(waiting.nodeLeases().holder(node).orElseThrow().instance()).as("taken over")
                    .isNotEqualTo("instance-other");
            assertThat(events(Level.INFO)).anyMatch(m -> m.startsWith("node id node-w taken over from"));
        } finally {
            engines.forEach(JobEngine::stop);
            engines.clear();
            waiting.close();
        }
    }

    /** lock30: failures lasting the connection wait during that wait end the start, with the database's reason. */
    @Test
    void aStartWaitingForAnotherHolderEndsWhenItsLockCannotBeAskedForTheConnectionWait() throws Exception {
        String node = "node-v";
        try (Connection other = otherNodeHolds(node)) {
            JobEngine engine = engine(node);
            java.util.concurrent.CompletableFuture<Void> started = java.util.concurrent.CompletableFuture.runAsync(
                    engine::start);
            await().atMost(Duration.ofMinutes(2)).until(() -> started.isDone()
                    || events(Level.WARN).stream().anyMatch(m -> m.contains("is held by another node")));
            front.refuseNewConnections("53300", TOO_MANY);
            terminateNodeIdSessions();
            java.util.concurrent.ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class,
                    () -> started.get(2, java.util.concurrent.TimeUnit.MINUTES));
            assertThat(failed.getCause()).isInstanceOf(StoreUnavailableException.class).hasMessageContaining(TOO_MANY)
                    .hasMessageNotContaining("another session");
            assertThat(events(Level.WARN)).filteredOn(m -> m.contains("its lock could not be asked")).hasSize(1);
            assertThat(store.nodeLeases().holder(node).orElseThrow().instance()).isEqualTo("instance-other");
        }
    }

    /**
     * Another node's claim of {@code nodeId}, renewed just now on another host, and its lock held by the session
     * returned (a node that goes silent with its connection open): closing it ends the session and the lock.
     */
    private Connection otherNodeHolds(String nodeId) throws Exception {
        Connection c = DriverManager.getConnection(direct.url());
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_try_advisory_lock(x'62686e69'::int,"
                + " hashtext(current_schema() || '/' || ?))");
                PreparedStatement claim = c.prepareStatement("INSERT INTO node_leases (node_id, instance, host, boot_id,"
                        + " node_pid, node_started, acquired_at, renewed_at) VALUES (?, 'instance-other', 'host-other',"
                        + " 'other-boot', 4242, 7, CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT),"
                        + " CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT))")) {
            lock.setString(1, nodeId);
            try (ResultSet rs = lock.executeQuery()) {
                assertThat(rs.next() && rs.getBoolean(1)).as("the other node's lock taken").isTrue();
            }
            claim.setString(1, nodeId);
            claim.executeUpdate();
        } catch (Exception | AssertionError e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** The messages logged at {@code level} so far, copied under the appender's lock. */
    private List<String> events(Level level) {
        synchronized (log) {
            return log.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    /** Ends this test's sessions of the pool {@code buildhook-node-id} (those made through its front). */
    private List<Integer> terminateNodeIdSessions() throws Exception {
        List<Integer> ended = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(direct.url());
                PreparedStatement p = c.prepareStatement("SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name = 'buildhook-node-id' AND client_port = ANY (?)")) {
            p.setArray(1, c.createArrayOf("integer", front.upstreamPorts().toArray()));
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    assertThat(rs.getBoolean(2)).isTrue();
                    ended.add(rs.getInt(1));
                }
            }
        }
        return ended;
    }
}
