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
     * claims its id nor fences itself, says so once, claims the id again once a login is made, and runs jobs.
     */
    @Test
    void aForgottenNodeWhoseLockCannotBeAskedClaimsItsIdAgainLaterAndKeepsRunningJobs() throws Exception {
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
        await().atMost(Duration.ofMinutes(2)).until(() -> !events(Level.ERROR).isEmpty()
                || events(Level.WARN).stream().anyMatch(m -> m.contains("its lock could not be asked now")));
        assertThat(events(Level.ERROR)).as("not taken for a takeover").isEmpty();
        assertThat(events(Level.WARN)).filteredOn(m -> m.contains("its lock could not be asked now")).singleElement()
                .asString().startsWith("node id node-f1: its claim is no longer in the store (an operator forgot");
        assertThat(engine.jobsPaused()).isEmpty();
        assertThat(engine.nodeIdTakenOver()).isEmpty();

        front.forwardNewConnections();
        await().atMost(Duration.ofMinutes(2)).until(() -> events(Level.WARN).stream()
                .anyMatch(m -> m.contains("claimed again, so it is listed again")));
        assertThat(store.nodeLeases().holder(node)).as("listed again").isPresent();
        assertThat(TestStores.nodeIdLockHolders(direct.url(), node)).as("its lock held again").hasSize(1);

        String job = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"))))
                .jobIds().get(0);
        await().atMost(Duration.ofMinutes(2)).until(() -> store.job(job).orElseThrow().job().state() == JobState.SUCCEEDED);
        assertThat(store.job(job).orElseThrow().attempts()).extracting(JobAttempt::node).containsExactly(node);
        assertThat(events(Level.ERROR)).isEmpty();
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
