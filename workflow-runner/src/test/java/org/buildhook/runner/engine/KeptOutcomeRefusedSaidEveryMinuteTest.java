package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review54 N1's words (fix55a's left): while the store refuses the record of an outcome a stop kept, the sweep says so
 * at WARN as it begins and again once a minute, with how many times and for how long it was refused and the node that
 * keeps the job, and no more once the record goes through. On the sweep's clock (the engine's), a real SQLite store and
 * a real trigger; one sweep each 20 s of that clock, as a node's sweeps come every heartbeat interval.
 */
class KeptOutcomeRefusedSaidEveryMinuteTest {

    @TempDir
    Path dir;
    private Store store;
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-07T09:00:00Z"));
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    @BeforeEach
    void open() {
        store = Store.open(TestStores.sqlite(dir.resolve("data")));
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aRefusedRecordIsSaidAsItBeginsThenOnceAMinuteWithItsCountAndNodeAndNoMoreOnceRecorded() throws Exception {
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy", List.of("/bin/true"),
                Map.of(), 0, Duration.ZERO, 0))).jobIds().get(0);
        assertThat(store.ledger().startAttempt(jobId, "node-a")).isEqualTo(1);
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        new StopsNotRecorded(file, "node-a").add(jobId, 1, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0,
                Instant.parse("2026-12-07T08:59:00Z"), null));
        StoreConfig config = store.config();
        try (Connection c = DriverManager.getConnection(config.url()); Statement s = c.createStatement()) {
            for (String sql : new SqliteEngineTest().refuseTheRecordAndTheKeepWhileRefusing()) {
                s.execute(sql);
            }
        }
        LeftoverSweep sweep = new LeftoverSweep(store.ledger(), "node-a", new StopsNotRecorded(file, "node-a"),
                ExecutionLedger.InARow.DEFAULT, null, Duration.ofSeconds(10), clock);

        List<ILoggingEvent> refusing;
        try (AbstractEngineTest.LogCapture log = new AbstractEngineTest.LogCapture(LeftoverSweep.class)) {
            // 10 sweeps, at 0 s, 20 s, … 180 s: refused at each.
            for (int i = 0; i < 10; i++) {
                sweep.sweepDeadNodes();
                now.updateAndGet(t -> t.plusSeconds(20));
            }
            refusing = log.events();
        }
        List<String> warned = warnings(refusing);
        assertThat(warned).as("as it begins, then at 60 s, 120 s and 180 s").hasSize(4);
        assertThat(warned.get(0)).contains("job " + jobId + " attempt 1: its command exited 0 at 2026-12-07T08:59:00Z"
                + " before node node-a stopped, which could not record it then; the store refuses to record it now (")
                .contains("its command is not run again meanwhile, and the job stays with this node (no other node"
                        + " takes it over while this one runs)")
                .doesNotContain(" times in ");
        assertThat(warned.subList(1, 4)).allSatisfy(m -> assertThat(m).contains("job " + jobId + " attempt 1: ")
                .contains("the store refuses to record it now (")
                .contains("the job stays with node node-a (no other node takes it over while this one runs), its"
                        + " command is not run again"));
        assertThat(warned.get(1)).contains(": refused 4 times in 60 s;");
        assertThat(warned.get(2)).contains(": refused 7 times in 120 s;");
        assertThat(warned.get(3)).contains(": refused 10 times in 180 s;");
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(JobState.RUNNING);

        // The store takes the record: said once at INFO, and no WARN after, however long the clock runs.
        try (Connection c = DriverManager.getConnection(config.url()); Statement s = c.createStatement()) {
            s.execute("DELETE FROM test_refusing");
        }
        List<ILoggingEvent> after;
        try (AbstractEngineTest.LogCapture log = new AbstractEngineTest.LogCapture(LeftoverSweep.class)) {
            for (int i = 0; i < 10; i++) {
                sweep.sweepDeadNodes();
                now.updateAndGet(t -> t.plusSeconds(20));
            }
            after = log.events();
        }
        assertThat(warnings(after)).isEmpty();
        assertThat(after).extracting(ILoggingEvent::getFormattedMessage)
                .containsOnlyOnce("job " + jobId + " attempt 1: the store took the record it had refused");
        assertThat(store.ledger().decided(jobId, 1)).as("recorded").isPresent();
    }

    private static List<String> warnings(List<ILoggingEvent> events) {
        return events.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }
}
