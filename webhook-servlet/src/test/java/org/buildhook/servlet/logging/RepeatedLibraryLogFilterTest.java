package org.buildhook.servlet.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * db-scheduler's and HikariCP's repeats while the store is away (a try-out counted 650 lines of
 * stack traces in 50 s of a PostgreSQL outage) are logged once a minute each, with a count of what
 * was left out; buildhook's own lines and other messages are not folded.
 */
class RepeatedLibraryLogFilterTest {

    private final AtomicLong now = new AtomicLong();
    private final LoggerContext context = new LoggerContext();
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();

    RepeatedLibraryLogFilterTest() {
        RepeatedLibraryLogFilter filter = new RepeatedLibraryLogFilter(now::get);
        filter.setContext(context);
        filter.start();
        context.addTurboFilter(filter);
        events.setContext(context);
        events.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(events);
    }

    private List<String> lines() {
        return events.list.stream().map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).toList();
    }

    @Test
    void aLibrarysErrorRepeatedDuringAnOutageIsLoggedOnceAMinuteWithACountOfWhatWasLeftOut() {
        Logger scheduler = context.getLogger("com.github.kagkarlsson.scheduler.RunUntilShutdown");
        Logger hikari = context.getLogger("com.zaxxer.hikari.pool.PoolBase");
        Logger ours = context.getLogger("org.buildhook.runner.engine.StoreOutageWait");
        SQLTransientConnectionException down = new SQLTransientConnectionException("Connection is not available");
        context.getLogger("com.github.kagkarlsson").setLevel(ch.qos.logback.classic.Level.INFO);
        context.getLogger("com.zaxxer.hikari").setLevel(ch.qos.logback.classic.Level.INFO);

        for (int i = 0; i < 50; i++) {
            scheduler.error("Unhandled exception. Will keep running.", down);
            hikari.warn("{} - Thread starvation or clock leap detected (housekeeper delta={}).", "buildhook-scheduler",
                    i + "s");
            ours.warn("store unavailable while trying to {}; the job waits for it", "start an attempt");
            now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        }

        assertThat(lines()).filteredOn(l -> l.startsWith("com.github")).hasSize(1);
        assertThat(lines()).filteredOn(l -> l.startsWith("com.zaxxer")).hasSize(1);
        assertThat(lines()).filteredOn(l -> l.startsWith("org.buildhook.runner")).as("buildhook's own").hasSize(50);

        now.addAndGet(TimeUnit.SECONDS.toNanos(RepeatedLibraryLogFilter.WINDOW_SECONDS));
        events.list.clear();
        scheduler.error("Unhandled exception. Will keep running.", down);

        assertThat(lines()).containsExactly(
                "org.buildhook.servlet.logging.RepeatedLibraryLogFilter: 49 more like the next line of"
                        + " com.github.kagkarlsson.scheduler.RunUntilShutdown were left out in the last 60 s (each"
                        + " such message of db-scheduler and HikariCP is logged once a minute: they repeat while the"
                        + " database is away; /healthz says whether it answers)",
                "com.github.kagkarlsson.scheduler.RunUntilShutdown: Unhandled exception. Will keep running."
                        + " (SQLTransientConnectionException: Connection is not available"
                        + RepeatedLibraryLogFilter.CONNECTION_LOST + "; stack trace at DEBUG)");
        assertThat(events.list.get(1).getThrowableProxy()).as("an outage: one line, no stack trace (tryout25 F7)")
                .isNull();

        events.list.clear();
        scheduler.error("Failed while completing execution {}", "e1", new IllegalStateException("a bug"));
        assertThat(events.list).as("not an outage: its stack trace").singleElement()
                .satisfies(e -> assertThat(e.getThrowableProxy()).isNotNull());
    }

    /**
     * final18 F6: every refused start whose database did not answer in time logged HikariCP's WARN "Timed-out
     * waiting for add connection executor to shutdown" before the refusal; it is said at DEBUG only.
     */
    @Test
    void hikarisWarningAtTheCloseOfAPoolStillConnectingIsSaidAtDebugOnly() {
        Logger hikari = context.getLogger("com.zaxxer.hikari.pool.HikariPool");
        context.getLogger("com.zaxxer.hikari").setLevel(ch.qos.logback.classic.Level.WARN); // as logback.xml sets it

        hikari.warn("Timed-out waiting for add connection executor to shutdown");
        assertThat(lines()).as("at WARN and above").isEmpty();

        context.getLogger("com.zaxxer.hikari").setLevel(ch.qos.logback.classic.Level.DEBUG);
        hikari.warn("Timed-out waiting for add connection executor to shutdown");
        assertThat(events.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.DEBUG);
            assertThat(e.getFormattedMessage()).isEqualTo("Timed-out waiting for add connection executor to shutdown");
        });
        events.list.clear();
        hikari.warn("{} - Thread starvation or clock leap detected (housekeeper delta={}).", "buildhook-store", "1m");
        assertThat(events.list).as("its other warnings").singleElement()
                .satisfies(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN));
    }

    /**
     * fence32: db-scheduler's WARN at every heartbeat of a running job from its second failed one on (the store away, or
     * the execution taken over by another node while this one was paused) says "Should not happen", which is not so with
     * buildhook, and what it means is said by buildhook's own lines (and db-scheduler's own "Failed to update
     * heartbeat"): at DEBUG only. The text is db-scheduler 16.7.1's (Scheduler.updateHeartbeatForExecution).
     */
    @Test
    void dbSchedulersManyFailedHeartbeatsWarningIsSaidAtDebugOnly() {
        Logger scheduler = context.getLogger("com.github.kagkarlsson.scheduler.Scheduler");
        String format = "Execution has more than 1 failed heartbeats. Should not happen. Risk of being considered dead."
                + " See heartbeat-state. Heartbeat-state={}, Execution={}";
        context.getLogger("com.github.kagkarlsson").setLevel(ch.qos.logback.classic.Level.INFO);

        scheduler.warn(format, "HeartbeatState{failed=2}", "Execution: job/J1");
        scheduler.warn("Failed to update heartbeat. No more retries.", new java.sql.SQLException("refused", "08001"));
        assertThat(lines()).as("at WARN and above: only the failed heartbeat itself").singleElement().asString()
                .startsWith("com.github.kagkarlsson.scheduler.Scheduler: Failed to update heartbeat. No more retries.");

        events.list.clear();
        context.getLogger("com.github.kagkarlsson").setLevel(ch.qos.logback.classic.Level.DEBUG);
        scheduler.warn(format, "HeartbeatState{failed=2}", "Execution: job/J1");
        assertThat(events.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.DEBUG);
            assertThat(e.getFormattedMessage()).startsWith("Execution has more than 1 failed heartbeats.");
        });
    }

    @Test
    void differentMessagesOfALibraryAndItsInfoLinesAreNotFolded() {
        Logger scheduler = context.getLogger("com.github.kagkarlsson.scheduler.Scheduler");

        scheduler.warn("Execution has more than 1 failed heartbeats. Should not happen.");
        scheduler.error("Failed while completing execution {}", "x");
        scheduler.info("Scheduler started");
        scheduler.info("Scheduler started");

        assertThat(lines()).hasSize(4);
    }

    /**
     * tryout20 F2: a stop past its grace period whose database hung logged HikariCP's "marked as broken" WARN (and,
     * before JobTask stopped handing it the outage, db-scheduler's ERROR "Failed while completing execution") with a
     * whole stack trace, for an outage the stop's own lines name. Then: one line with what failed, the stack at DEBUG,
     * not folded; before the stop and after the store closed one line too (tryout25 F7), folded as any repeat.
     */
    @Test
    void aLibrarysConnectionFailureDuringAStopPastItsGraceIsOneLineWithItsStackAtDebug(@TempDir Path dir) {
        Logger hikari = context.getLogger("com.zaxxer.hikari.pool.ProxyConnection");
        java.sql.SQLException broken = new java.sql.SQLException("An I/O error occurred while sending to the backend.",
                "08006", new java.net.SocketTimeoutException("Read timed out"));
        String format = "{} - Connection {} marked as broken because of SQLSTATE({}), ErrorCode({})";
        try (Store store = Store.open(StoreConfig.sqlite(dir))) {
            context.getLogger("com.zaxxer.hikari").setLevel(ch.qos.logback.classic.Level.INFO);
            hikari.warn(format, "buildhook-node-id", "conn1", "08006", 0, broken);
            assertThat(events.list).as("before the stop: one line too (tryout25 F7)").singleElement()
                    .satisfies(e -> assertThat(e.getThrowableProxy()).isNull());
            events.list.clear();
            hikari.warn(format, "buildhook-node-id", "conn1", "08006", 0, broken);
            assertThat(events.list).as("before the stop: folded").isEmpty();
            context.getLogger("com.zaxxer.hikari").setLevel(ch.qos.logback.classic.Level.DEBUG);

            store.stopping();
            hikari.warn(format, "buildhook-node-id", "conn2", "08006", 0, broken); // not folded: the stop's account
            context.getLogger("com.github.kagkarlsson.scheduler.ExecutePicked").error("Failed while completing execution"
                    + " {}. Execution will likely remain scheduled", "e1", new IllegalStateException("a bug"));

            assertThat(events.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN).singleElement()
                    .satisfies(e -> {
                        assertThat(e.getFormattedMessage()).isEqualTo("buildhook-node-id - Connection conn2 marked as"
                                + " broken because of SQLSTATE(08006), ErrorCode(0) (SQLException: An I/O error occurred"
                                + " while sending to the backend.; caused by SocketTimeoutException: Read timed out;"
                                + " stack trace at DEBUG)");
                        assertThat(e.getThrowableProxy()).isNull();
                    });
            assertThat(events.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.DEBUG).singleElement()
                    .satisfies(e -> assertThat(e.getThrowableProxy()).as("the stack at DEBUG").isNotNull());
            assertThat(events.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR).singleElement()
                    .satisfies(e -> assertThat(e.getThrowableProxy()).as("not an outage: its stack").isNotNull());
        }
        events.list.clear();
        now.addAndGet(TimeUnit.SECONDS.toNanos(RepeatedLibraryLogFilter.WINDOW_SECONDS));
        context.getLogger("com.zaxxer.hikari").setLevel(ch.qos.logback.classic.Level.INFO);
        hikari.warn(format, "buildhook-node-id", "conn3", "08006", 0, broken);
        assertThat(events.list).as("the store closed: one line, as outside a stop")
                .filteredOn(e -> e.getLoggerName().equals(hikari.getName())).singleElement()
                .satisfies(e -> assertThat(e.getThrowableProxy()).isNull());
    }

    /**
     * stophung21, tryout28 F3: HikariCP's "Failed to validate connection … Possibly consider using a shorter maxLifetime
     * value" (a pooled connection found dead, replaced by the pool itself) advises a setting buildhook does not expose;
     * buildhook's own lines say what matters (an outage, the node id's lost session, a stop's account). At DEBUG only,
     * during a stop or not (before: WARN outside a stop past its grace).
     */
    @Test
    void hikarisFailedToValidateIsSaidAtDebugOnly(@TempDir Path dir) {
        Logger hikari = context.getLogger("com.zaxxer.hikari.pool.PoolBase");
        String format = "{} - Failed to validate connection {} ({}). Possibly consider using a shorter maxLifetime value.";
        context.getLogger("com.zaxxer.hikari").setLevel(ch.qos.logback.classic.Level.DEBUG);
        hikari.warn(format, "buildhook-store", "conn1", "This connection has been closed.");
        assertThat(events.list).as("outside a stop").singleElement()
                .satisfies(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.DEBUG));
        events.list.clear();
        try (Store store = Store.open(StoreConfig.sqlite(dir))) {
            store.stopping();
            now.addAndGet(TimeUnit.SECONDS.toNanos(RepeatedLibraryLogFilter.WINDOW_SECONDS));
            hikari.warn(format, "buildhook-store", "conn2", "This connection has been closed.");

            assertThat(events.list).as("during a stop").singleElement().satisfies(e -> {
                assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.DEBUG);
                assertThat(e.getFormattedMessage()).contains("conn2");
            });
        }
    }

    /** The WAR's logging (WEB-INF/classes/logback.xml) installs the filter. */
    /**
     * chaos32 L2: while PostgreSQL is down db-scheduler's housekeeping logged {@code ERROR RunAndLogErrors - Unhandled
     * exception. Will keep running. (SQLRuntimeException: Unable to open connection; …)} at each look, for an outage
     * buildhook reports itself; so did a session ended under it (57P01). Both are one WARN saying what it means; a
     * failure of the database that is not a lost connection (a full disk) keeps its ERROR. The exceptions are the real
     * driver's, through db-scheduler's own JDBC runner
     * (the refused connection) or wrapped as it wraps them (the ended session).
     */
    @Test
    void dbSchedulersErrorForALostConnectionIsOneWarningAndOtherFailuresStayErrors() throws Exception {
        Logger housekeeping = context.getLogger("com.github.kagkarlsson.scheduler.RunAndLogErrors");
        context.getLogger("com.github.kagkarlsson").setLevel(ch.qos.logback.classic.Level.INFO);
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        org.postgresql.ds.PGSimpleDataSource down = new org.postgresql.ds.PGSimpleDataSource();
        down.setURL("jdbc:postgresql://127.0.0.1:" + closedPort + "/buildhook");
        RuntimeException refused = catchRuntime(() -> new com.github.kagkarlsson.shaded.jdbc.JdbcRunner(down)
                .execute("select 1", ps -> { }));

        housekeeping.error("Unhandled exception. Will keep running.", refused);

        assertThat(events.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
            assertThat(e.getThrowableProxy()).isNull();
            assertThat(e.getFormattedMessage()).startsWith("Unhandled exception. Will keep running. (SQLRuntimeException:"
                    + " Unable to open connection; caused by ConnectException: Connection refused")
                    .endsWith(RepeatedLibraryLogFilter.CONNECTION_LOST + "; stack trace at DEBUG)");
        });

        events.list.clear();
        String base = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (base == null || base.isBlank()) {
            assertThat(System.getenv("CI")).as("BUILDHOOK_TEST_PG_URL must be set on CI").isNotEqualToIgnoringCase("true");
        } else {
            org.postgresql.ds.PGSimpleDataSource up = new org.postgresql.ds.PGSimpleDataSource();
            up.setURL(base);
            try (java.sql.Connection victim = up.getConnection(); java.sql.Connection admin = up.getConnection();
                    java.sql.Statement ask = victim.createStatement();
                    java.sql.Statement end = admin.createStatement()) {
                int pid;
                try (java.sql.ResultSet rs = ask.executeQuery("select pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                end.execute("select pg_terminate_backend(" + pid + ")");
                RuntimeException ended = catchRuntime(() -> {
                    try (java.sql.Statement next = victim.createStatement()) {
                        next.execute("select 1");
                    } catch (java.sql.SQLException e) {
                        throw new com.github.kagkarlsson.shaded.jdbc.SQLRuntimeException(e); // as db-scheduler wraps it
                    }
                });
                now.addAndGet(TimeUnit.SECONDS.toNanos(RepeatedLibraryLogFilter.WINDOW_SECONDS));

                housekeeping.error("Unhandled exception. Will keep running.", ended);

                assertThat(events.list).singleElement().satisfies(e -> {
                    assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
                    assertThat(e.getFormattedMessage()).contains("terminating connection due to administrator command")
                            .endsWith(RepeatedLibraryLogFilter.CONNECTION_LOST + "; stack trace at DEBUG)");
                });
            }
        }

        events.list.clear();
        now.addAndGet(TimeUnit.SECONDS.toNanos(RepeatedLibraryLogFilter.WINDOW_SECONDS));
        housekeeping.error("Unhandled exception. Will keep running.", new com.github.kagkarlsson.shaded.jdbc
                .SQLRuntimeException(new java.sql.SQLException("could not read block 0: invalid page", "XX001")));

        assertThat(events.list).as("a corrupt file is a real fault: still an ERROR").singleElement()
                .satisfies(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.ERROR));
    }

    /**
     * tryout44 F8: while SQLite's disk was full, db-scheduler logged {@code ERROR Scheduler - Failed while handling
     * dead execution … Will be tried again later. (SQLRuntimeException: … SQLITE_FULL …)} beside buildhook's own WARN of
     * the outage, as if something had crashed. A full disk is an outage buildhook says itself: one WARN saying so. The
     * exception is the real driver's, through db-scheduler's own JDBC runner, on a SQLite file whose disk is full at the
     * pages it has ({@code max_page_count}, as SqliteFullDiskHealthTest fills it); PostgreSQL's {@code 53100} as its
     * driver says it. A statement refused keeps its ERROR and its stack.
     */
    @Test
    void dbSchedulersErrorOnAFullDiskIsOneWarningSayingTheOutage(@TempDir Path dir) throws Exception {
        Logger scheduler = context.getLogger("com.github.kagkarlsson.scheduler.Scheduler");
        context.getLogger("com.github.kagkarlsson").setLevel(ch.qos.logback.classic.Level.INFO);
        String file = dir.resolve("full.db").toAbsolutePath().toString();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
                java.sql.Statement s = c.createStatement()) {
            s.execute("create table t (b blob)");
        }
        org.sqlite.SQLiteDataSource full = new org.sqlite.SQLiteDataSource();
        full.setUrl("jdbc:sqlite:" + file + "?max_page_count=2");
        RuntimeException noRoom = catchRuntime(() -> new com.github.kagkarlsson.shaded.jdbc.JdbcRunner(full)
                .execute("insert into t values (randomblob(100000))", ps -> { }));
        assertThat(noRoom).as("the seam").hasStackTraceContaining("SQLITE_FULL");
        String format = "Failed while handling dead execution {}. Will be tried again later.";

        scheduler.error(format, "Execution: task=buildhook-job, id=J1", noRoom);

        assertThat(events.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
            assertThat(e.getThrowableProxy()).isNull();
            assertThat(e.getFormattedMessage()).startsWith("Failed while handling dead execution Execution:"
                    + " task=buildhook-job, id=J1. Will be tried again later. (SQLRuntimeException: ")
                    .contains("SQLITE_FULL")
                    .endsWith(RepeatedLibraryLogFilter.OUT_OF_ROOM + "; stack trace at DEBUG)");
        });

        events.list.clear();
        now.addAndGet(TimeUnit.SECONDS.toNanos(RepeatedLibraryLogFilter.WINDOW_SECONDS));
        scheduler.error(format, "Execution: task=buildhook-job, id=J2", new com.github.kagkarlsson.shaded.jdbc
                .SQLRuntimeException(new java.sql.SQLException("could not extend file: No space left on device",
                        "53100")));
        assertThat(events.list).as("PostgreSQL out of disk space").singleElement()
                .satisfies(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN));

        events.list.clear();
        now.addAndGet(TimeUnit.SECONDS.toNanos(RepeatedLibraryLogFilter.WINDOW_SECONDS));
        scheduler.error(format, "Execution: task=buildhook-job, id=J3", new com.github.kagkarlsson.shaded.jdbc
                .SQLRuntimeException(new java.sql.SQLException("relation \"scheduled_tasks\" does not exist",
                        "42P01")));
        assertThat(events.list).as("not an outage: its ERROR and its stack").singleElement().satisfies(e -> {
            assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.ERROR);
            assertThat(e.getThrowableProxy()).isNotNull();
        });
    }

    private static RuntimeException catchRuntime(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void theWarsLoggingInstallsTheFilter() throws Exception {
        LoggerContext war = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(war);
        configurator.doConfigure(getClass().getResource("/logback.xml"));

        assertThat(war.getTurboFilterList()).hasAtLeastOneElementOfType(RepeatedLibraryLogFilter.class);
    }
}
