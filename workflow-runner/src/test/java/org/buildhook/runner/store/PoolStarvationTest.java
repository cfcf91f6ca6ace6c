package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
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
        PoolStarvation starvation = new PoolStarvation(Duration.ofMillis(250));
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

    private List<String> warnings() {
        return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    private List<String> infos() {
        return log.list.stream().filter(e -> e.getLevel() == Level.INFO).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    /** A pool named as the store's, told to {@code starvation}; its tracker also kept in {@code told}. */
    private HikariDataSource pool(PoolStarvation starvation, AtomicReference<IMetricsTracker> told) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(PoolStarvation.STORE_POOL);
        config.setJdbcUrl("jdbc:sqlite:" + dir.resolve("store.db"));
        config.setMaximumPoolSize(1);
        config.setMinimumIdle(1);
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
