package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.buildhook.runner.RunnerException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * migrate53 O1, fix57b: a failed SQLite {@link Store#open} (its start given no write lock within its wait) sometimes
 * returned 30 s after its failure was known. The batch that could not begin fails what is queued behind it, and that
 * drain of the queue took the stop {@link SqliteWriter#close()} had queued meanwhile (the start heard its failure and
 * closed the store at once): the writer then waited for a transaction that could no longer come, and the close waited
 * out its 30-s join. Here the close comes while that batch is answered, every time, on a real second connection's lock.
 */
class SqliteWriterCloseTest {

    @TempDir
    Path dir;
    private SqliteBusyWait.DataSource source;
    private Connection other;
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private SqliteWriter writer;

    @BeforeEach
    void holdTheWriteLock() throws SQLException {
        source = new SqliteBusyWait.DataSource(Duration.ofMillis(300));
        source.setUrl("jdbc:sqlite:" + dir.resolve("w.db"));
        source.setJournalMode("WAL");
        other = source.getConnection();
        try (Statement s = other.createStatement()) {
            s.execute("CREATE TABLE t (name TEXT PRIMARY KEY)");
            s.execute("BEGIN IMMEDIATE");
        }
    }

    @AfterEach
    void close() throws SQLException {
        callers.shutdownNow(); // a close still joining the writer interrupts it
        other.close();
        if (writer != null) {
            writer.close();
        }
    }

    @Test
    void aCloseWhileABatchThatCouldNotBeginIsAnsweredStopsTheWriterWithoutWaitingOutItsJoin() throws Exception {
        AtomicReference<SqliteWriter> created = new AtomicReference<>();
        CountDownLatch answering = new CountDownLatch(1);
        BiFunction<String, SQLException, RunnerException> translate = (what, e) -> {
            if (answering.getCount() > 0) {
                answering.countDown();
                // The batch is being answered: the close comes now, and its stop is queued (nothing else is).
                await().atMost(Duration.ofMinutes(1)).until(() -> created.get().waiting() == 1);
            }
            return new StoreUnavailableException("store unavailable while trying to " + what + ": " + e.getMessage(), e);
        };
        // The start's wait for the lock, short: the lock is held by the other connection throughout.
        writer = new SqliteWriter(source, translate, () -> null, "w.db", () -> false, Duration.ofMillis(200));
        created.set(writer);
        CompletableFuture<String> migration = CompletableFuture.supplyAsync(() -> SqliteWriter.duringStart(
                () -> writer.submit("migrate", Durability.DURABLE, c -> "migrated")), callers);
        assertThat(answering.await(1, TimeUnit.MINUTES)).as("the batch could not begin").isTrue();

        CompletableFuture<Void> closing = CompletableFuture.runAsync(writer::close, callers);

        assertThatThrownBy(() -> migration.get(1, TimeUnit.MINUTES)).hasCauseInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("migrate");
        Thread thread = writer.thread();
        // Whichever comes first: the writer ends, or it waits for a transaction to be handed in, which cannot come
        // once closed (before: it did, until close() gave up its join after 30 s and interrupted it).
        await().atMost(Duration.ofMinutes(1)).until(() -> !thread.isAlive() || waitsForATransaction(thread));
        assertThat(thread.isAlive()).as("the closed writer waits for a transaction: %s",
                Arrays.toString(thread.getStackTrace())).isFalse();
        closing.get(1, TimeUnit.MINUTES);
    }

    /** Whether {@code thread} waits in its queue's {@code take()}, which nothing ends but a transaction or a stop. */
    private static boolean waitsForATransaction(Thread thread) {
        return thread.getState() == Thread.State.WAITING && Arrays.stream(thread.getStackTrace()).anyMatch(
                f -> f.getClassName().equals(LinkedBlockingQueue.class.getName()) && f.getMethodName().equals("take"));
    }
}
