package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.HealthReport;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.StoreUnavailableException;
import org.junit.jupiter.api.Test;

/**
 * Another program holds the SQLite database's write lock (an operator's {@code sqlite3} in a
 * transaction, a backup tool): the engine's picks, which go through the store's writer, cannot
 * write. That is the store outage {@code /healthz} reports; the poll that met it says so in one
 * line, not an error with db-scheduler's stack trace at every poll, and jobs run once the lock is
 * released. An accept meeting that lock is refused well before the 10 s the runner's bookkeeping may
 * wait, after one warning that names the file and what to do.
 */
class SqliteLockedDatabaseTest extends SqliteEngineFixture {

    @Override
    EngineConfig engineConfig() {
        return AbstractEngineTest.fast("node-a");
    }

    @Test
    void aPollThatMeetsTheWriteLockOfAnotherProgramIsOneWarningAndJobsRunOnceItIsReleased() throws Exception {
        engine.start();
        try (Connection other = lockHolder(dir.resolve("data").resolve("buildhook.db").toAbsolutePath());
             Statement st = other.createStatement()) {
            st.execute("BEGIN EXCLUSIVE");
            // A poll waits for the lock for the whole busy timeout, then fails.
            await().atMost(Duration.ofSeconds(90)).until(() -> events().stream().anyMatch(
                    e -> e.getLoggerName().startsWith("com.github.kagkarlsson") && e.getLevel() == Level.ERROR
                            || e.getFormattedMessage().contains("could not pick due jobs")));
            st.execute("COMMIT");
        }
        List<ILoggingEvent> errors = events().stream()
                .filter(e -> e.getLevel() == Level.ERROR || e.getThrowableProxy() != null).toList();
        assertThat(errors).extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        assertThat(events()).filteredOn(e -> e.getFormattedMessage().contains("could not pick due jobs"))
                .first().satisfies(e -> assertThat(e.getFormattedMessage()).contains("database is locked"));

        Path ran = dir.resolve("ran");
        String jobId = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("after-the-lock", List.of("/bin/sh", "-c", "echo run >> " + ran)))).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> store.job(jobId).orElseThrow().job().state() == JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("run");
    }

    /**
     * A pick that waited for the write lock longer than two heartbeat intervals (200 ms each here)
     * carries the heartbeat of when it was made: before, it carried that of when it was asked for,
     * so the node's look for stale picks, queued behind it, put it back in the queue before the
     * node's thread could start the job, and the job ran only under a later pick (under a write
     * lock that stays busy, as on a loaded machine, again and again).
     */
    @Test
    void aPickThatWaitedForTheWriteLockRunsItsJobWithoutBeingPutBackAsStale() throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = store.accept(Plans.delivery(Plans.fixture()),
                List.of(Plans.job("picked-late", List.of("/bin/sh", "-c", "echo run >> " + ran)))).jobIds().get(0);
        try (Connection other = lockHolder(dir.resolve("data").resolve("buildhook.db").toAbsolutePath());
             Statement st = other.createStatement()) {
            st.execute("BEGIN EXCLUSIVE");
            java.util.concurrent.CompletableFuture<Void> started = java.util.concurrent.CompletableFuture.runAsync(
                    engine::start);
            // Said after a second of waiting for the lock: five heartbeat intervals.
            await().atMost(Duration.ofSeconds(60)).until(() -> !warnings().isEmpty());
            st.execute("COMMIT");
            started.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(60))
                .until(() -> store.job(jobId).orElseThrow().job().state() == JobState.SUCCEEDED);
        assertThat(Files.readAllLines(ran)).containsExactly("run");
        assertThat(events()).extracting(ILoggingEvent::getFormattedMessage)
                .noneMatch(m -> m.contains("picked by this node but never started"))
                .noneMatch(m -> m.contains("put back in the queue before its attempt started"));
    }

    @Test
    void anAcceptMeetingTheWriteLockOfAnotherProgramIsRefusedWellBeforeTheBusyTimeoutAfterOneWarningNamingTheFile()
            throws Exception {
        // The writer says at DEBUG which limit ended a wait for the lock: read there, not timed (a loaded machine).
        ch.qos.logback.classic.Logger writer = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "org.buildhook.runner.store.SqliteWriter");
        Level level = writer.getLevel();
        writer.setLevel(Level.DEBUG);
        try {
            refusedWellBeforeTheBusyTimeout();
        } finally {
            writer.setLevel(level);
        }
    }

    private void refusedWellBeforeTheBusyTimeout() throws Exception {
        engine.start();
        Path db = dir.resolve("data").resolve("buildhook.db").toAbsolutePath();
        try (Connection other = lockHolder(db); Statement st = other.createStatement()) {
            st.execute("BEGIN EXCLUSIVE");
            // Refused until the warning was said (before the first refusal on a quiet machine; on a
            // loaded one, db-scheduler's threads waiting behind the lock may not have tried within
            // SqliteBusyWait.RECENT, so the first wait of 2 s may end before it can tell), then once more.
            int refusals = 0;
            int afterTheWarning = 0;
            while (afterTheWarning < 3) {
                assertThat(refusals).as("accepts refused without the warning").isLessThan(20);
                String body = "{\"build_id\": " + refusals++ + "}";
                assertThatThrownBy(() -> store.accept(Plans.delivery(body), List.of()))
                        .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("database is locked");
                afterTheWarning += warnings().isEmpty() ? 0 : 1;
            }
            // The whole busy timeout is 10 s; while an accept waits, the writer gives up after 2 s. Read from what the
            // writer said ended each wait, not timed (before, each refusal was timed against 9 s, which a loaded
            // machine could pass). An accept queued behind a batch of bookkeeping is refused with that batch, whose
            // limit shortened to 2 s when the accept came; one in a batch of its own must never wait 10 s.
            List<String> gaveUp = events().stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(m -> m.contains("the write lock was not taken within")).toList();
            assertThat(gaveUp).as("waits that ended at the accept's limit").anyMatch(m -> m.contains("within 2s,"));
            assertThat(gaveUp).filteredOn(m -> m.contains("the limit of a batch with an accept"))
                    .allSatisfy(m -> assertThat(m).contains("within 2s,"));
            // Said only once, however many accepts were refused.
            assertThat(warnings()).hasSize(1).first().asString()
                    .contains("SQLite database " + db + " is locked by another program")
                    .contains("deliveries are answered 503").contains("fuser -v " + db);
            // /healthz and the status page say it in the log's words, at once (no probe waits behind the lock).
            assertThat(store.healthReport().reason()).isEqualTo(HealthReport.LOCKED_BY_ANOTHER + "; see the server log");
            assertThat(store.trouble()).hasValueSatisfying(t -> {
                assertThat(t.reason()).startsWith(HealthReport.LOCKED_BY_ANOTHER);
                assertThat(t.detail()).contains("SQLite database " + db + " is locked by another program")
                        .contains("fuser -v " + db);
                assertThat(t.since()).isNotNull();
            });
            st.execute("COMMIT");
        }
        // Once the lock is released, db-scheduler's threads that waited behind it write too: on a loaded
        // machine one of them may hold the lock past the accept's 2 s, and the accept is answered 503
        // (SQLITE_BUSY) as designed. A sender tries again, so does this test.
        String jobId = await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(StoreUnavailableException.class)
                .until(() -> store.accept(Plans.delivery(Plans.fixture()),
                        List.of(Plans.job("after-the-lock", List.of("/bin/true")))).jobIds().get(0), id -> id != null);
        assertThat(store.job(jobId)).isPresent();
        assertThat(warnings()).hasSize(1);
        await().atMost(Duration.ofSeconds(60)).until(() -> events().stream().anyMatch(e -> e.getFormattedMessage()
                .startsWith("SQLite database " + db + " is writable again")));
        await().atMost(Duration.ofSeconds(60)).until(() -> store.trouble().isEmpty() && store.healthReport().ok());
    }

    @Test
    void theServersOwnWritesWhileJobsRunNeitherRefuseAnAcceptNorSayTheDatabaseIsLocked() throws Exception {
        engine.start();
        // Accepts from several threads while their jobs start and end: db-scheduler's own connections
        // (heartbeats every 200 ms here, removals) write beside the writer the whole time.
        java.util.concurrent.ExecutorService senders = java.util.concurrent.Executors.newFixedThreadPool(4);
        List<java.util.concurrent.Future<String>> accepted = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 160; i++) {
                String body = "{\"build_id\": " + i + "}";
                accepted.add(senders.submit(() -> store.accept(Plans.delivery(body),
                        List.of(Plans.job("load", List.of("/bin/true")))).jobIds().get(0)));
            }
            for (java.util.concurrent.Future<String> jobId : accepted) {
                String id = jobId.get(120, java.util.concurrent.TimeUnit.SECONDS); // an accept refused would throw here
                await().atMost(Duration.ofSeconds(120))
                        .until(() -> store.job(id).orElseThrow().job().state() == JobState.SUCCEEDED);
            }
        } finally {
            senders.shutdownNow();
        }
        // Not even if one of db-scheduler's threads stalls over a second inside its write on a loaded
        // machine: the writer does not blame another program while one of its own may hold the lock
        // (SqliteOwnLockTest).
        assertThat(warnings()).isEmpty();
    }

    /**
     * The other program's connection. Its BEGIN EXCLUSIVE waits for the engine's own writes (a poll, a
     * heartbeat) up to a minute, not the driver's default 3 s, which a loaded machine can pass.
     */
    private static Connection lockHolder(Path db) throws java.sql.SQLException {
        org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
        config.setBusyTimeout(60_000);
        return DriverManager.getConnection("jdbc:sqlite:" + db, config.toProperties());
    }

    /**
     * What was logged so far, copied while no event is being added: the engine's threads log while
     * a test reads (ListAppender adds under its own lock, to a plain ArrayList; reading it as it
     * grows threw ConcurrentModificationException now and then).
     */
    private List<ILoggingEvent> events() {
        synchronized (log) {
            return List.copyOf(log.list);
        }
    }

    private List<String> warnings() {
        return events().stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("is locked by another program")).toList();
    }
}
