package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@link PoolStarvation} on a real HikariCP pool (a SQLite file): HikariCP's own tracker calls are what a wait
 * that ended empty ({@code recordConnectionTimeout}) and a connection handed out tell it.
 */
class PoolStarvationTest {

    /** The pool's connection wait (store.connect-timeout): HikariCP's least. */
    private static final Duration WAIT = Duration.ofMillis(250);

    @TempDir
    Path dir;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(PoolStarvation.class);
    private HikariDataSource pool;

    @BeforeEach
    void listen() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void close() {
        logger.detachAppender(log);
        if (pool != null) {
            pool.close();
        }
    }

    /**
     * review23 R3: an episode that ended because the pool had a connection lying idle again, with no caller taking one
     * (a quiet node after the store came back), was never closed: its recovery was never logged, and the next wait
     * that ended empty said no WARN and was dated from the first episode's start.
     */
    @Test
    void anEpisodeEndedByAnIdleConnectionIsClosedAndTheNextOneIsToldAnew() {
        PoolStarvation starvation = new PoolStarvation(WAIT);
        AtomicReference<IMetricsTracker> told = new AtomicReference<>();
        pool = pool(starvation, told);
        await().atMost(Duration.ofMinutes(1)).until(() -> pool.getHikariPoolMXBean().getIdleConnections() > 0);

        told.get().recordConnectionTimeout();
        assertThat(warnings()).hasSize(1);
        // Its connection lies idle: the next caller gets it. Nobody asks meanwhile.
        assertThat(starvation.starved(List.of(pool))).isEmpty();
        assertThat(infos()).as("the recovery is said").singleElement().asString()
                .contains("the store gives this node connections again").contains("buildhook-store");

        told.get().recordConnectionTimeout();
        assertThat(warnings()).as("the second episode is said as the first").hasSize(2);
    }

    /**
     * tryout25 F6: HikariCP reports a wait that ended empty as a connection acquired too (5.1.0:
     * {@code HikariPool.getConnection} calls {@code PoolBase.MetricsTrackerDelegate.recordBorrowTimeoutStats}, which calls
     * {@code recordConnectionAcquiredNanos}, then {@code recordConnectionTimeout}). Each such wait was taken for a
     * connection handed out: a false "gives this node connections again" INFO, then a new WARN, and the episode's start
     * (/healthz's and the banner's "has given none for N s") moved to that wait. Several waits that end empty, one after
     * the other and at the same time, are one episode: one WARN, no INFO, the same start, until a connection is really
     * handed out.
     */
    @Test
    void waitsThatEndEmptyAreOneEpisodeUntilAConnectionIsReallyHandedOut() throws Exception {
        PoolStarvation starvation = new PoolStarvation(WAIT);
        pool = pool(starvation, new AtomicReference<>());
        try (Connection held = pool.getConnection()) {
            assertThatThrownBy(pool::getConnection).isInstanceOf(SQLTransientConnectionException.class);
            Instant since = starvation.starved(List.of(pool)).get(0).since();

            assertThatThrownBy(pool::getConnection).isInstanceOf(SQLTransientConnectionException.class);
            // Callers on several threads refused at the same time, as the node's threads are in an outage.
            ExecutorService threads = Executors.newFixedThreadPool(3);
            try {
                List<Future<Throwable>> callers = threads.invokeAll(IntStream.range(0, 3)
                        .<Callable<Throwable>>mapToObj(i -> () -> refusal(pool)).toList());
                assertThat(callers).allSatisfy(caller -> assertThat(caller.get())
                        .isInstanceOf(SQLTransientConnectionException.class));
            } finally {
                threads.shutdownNow();
            }

            assertThat(warnings()).as("one WARN for the episode").singleElement().asString()
                    .contains(PoolStarvation.NO_CONNECTION).contains("buildhook-store");
            assertThat(infos()).as("no connection was handed out").isEmpty();
            assertThat(starvation.starved(List.of(pool))).as("dated from the episode's first wait").singleElement()
                    .extracting(PoolStarvation.Starved::since).isEqualTo(since);
        }
        // The held connection is back; the next caller gets it (before any look of /healthz could see it idle).
        try (Connection handedOut = pool.getConnection()) {
            assertThat(infos()).as("the real handout is said, once").singleElement().asString()
                    .contains("the store gives this node connections again")
                    .contains("connection pool buildhook-store handed one out");
        }
        assertThat(warnings()).hasSize(1);
        assertThat(starvation.starved(List.of(pool))).isEmpty();
    }

    /**
     * tryout43 F3: with PostgreSQL stopped under a running node, the pool's first WARN listed "a database that accepts
     * connections and does not answer them, one out of connections, or slow calls holding every connection (raise
     * store.pool-size)", every cause but the real one, which /healthz said: nothing listens at the store's address.
     * The WARN now says the pool's last failed try to connect in /healthz's words, and no pool size. A port where
     * nothing listens stands for the stopped PostgreSQL.
     */
    @Test
    void aPoolWhoseDatabaseRefusesConnectionsSaysSoAndNotThePoolSize() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort(); // closed again: nothing listens there
        }
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/buildhook?user=buildhook";
        // The driver loaded first, so that the pool's own first try is refused well within the wait (a cold JVM's
        // first PostgreSQL connection took longer than 250 ms: then no try had failed yet).
        assertThatThrownBy(() -> java.sql.DriverManager.getConnection(url).close())
                .isInstanceOf(java.sql.SQLException.class);
        StoreConfig config = StoreConfig.of(url, dir).withConnectTimeout(Duration.ofSeconds(1)).withPoolSize(2);
        try (Database db = Database.open(config)) {
            assertThatThrownBy(() -> db.read("read", c -> 1)).isInstanceOf(StoreUnavailableException.class);
        }
        assertThat(warnings()).singleElement().asString()
                .startsWith(PoolStarvation.NO_CONNECTION + ": connection pool buildhook-store gave no connection")
                .contains("its last try to connect failed: the store refuses connections: nothing listens at its"
                        + " address (connection refused)")
                .doesNotContain("pool-size");
    }

    /** A pool whose every connection is held by slow calls: there, and only there, the WARN says store.pool-size. */
    @Test
    void aPoolWhoseConnectionsAreAllInUseSaysToRaiseThePoolSize() throws Exception {
        StoreConfig config = StoreConfig.sqlite(dir).withConnectTimeout(WAIT).withPoolSize(2);
        try (Database db = Database.open(config); Connection one = db.dataSource().getConnection();
                Connection two = db.dataSource().getConnection()) {
            assertThatThrownBy(() -> db.read("read", c -> 1)).isInstanceOf(StoreUnavailableException.class);
        }
        assertThat(warnings()).singleElement().asString()
                .contains("gave no connection within store.connect-timeout (250ms): every one of its 2 connections"
                        + " (store.pool-size) is in use")
                .contains("raise store.pool-size")
                .doesNotContain("last try to connect");
    }

    /** What {@code pool} threw at a caller that asked for a connection, or {@code null} if it gave one. */
    private static Throwable refusal(HikariDataSource pool) {
        try (Connection given = pool.getConnection()) {
            return null;
        } catch (Exception refused) {
            return refused;
        }
    }

    private List<String> warnings() {
        return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    private List<String> infos() {
        return log.list.stream().filter(e -> e.getLevel() == Level.INFO).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    /**
     * A pool of one connection named as the store's, waiting {@link #WAIT} for it, told to {@code starvation}; its
     * tracker also kept in {@code told}.
     */
    private HikariDataSource pool(PoolStarvation starvation, AtomicReference<IMetricsTracker> told) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(PoolStarvation.STORE_POOL);
        config.setJdbcUrl("jdbc:sqlite:" + dir.resolve("store.db"));
        config.setMaximumPoolSize(1);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(WAIT.toMillis());
        config.setMetricsTrackerFactory(new MetricsTrackerFactory() {
            @Override
            public IMetricsTracker create(String poolName, PoolStats stats) {
                IMetricsTracker tracker = starvation.create(poolName, stats);
                told.set(tracker);
                return tracker;
            }
        });
        return new HikariDataSource(config);
    }
}
