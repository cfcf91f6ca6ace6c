package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.engine.SwitchableDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite group-commit writer, on a real database file. */
class SqliteWriterTest {

    @TempDir
    Path dir;
    SqliteBusyWait.DataSource source;
    SqliteWriter writer;
    final ExecutorService callers = Executors.newCachedThreadPool();
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void open() throws SQLException {
        source = new SqliteBusyWait.DataSource(Duration.ofMillis(300));
        source.setUrl("jdbc:sqlite:" + dir.resolve("w.db"));
        source.setJournalMode("WAL");
        try (Connection c = source.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (name TEXT PRIMARY KEY)");
        }
        writer = new SqliteWriter(source, (what, e) -> new RunnerException(what + ": " + e.getMessage(), e), () -> null);
    }

    @AfterEach
    void close() {
        release.countDown();
        writer.close();
        callers.shutdownNow();
    }

    @Test
    void transactionsThatWaitTogetherAreCommittedTogether() throws Exception {
        Future<Object> blocker = holdTheWriter();
        List<Future<String>> inserts = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String name = "row-" + i;
            inserts.add(callers.submit(() -> writer.submit("insert " + name, Durability.DURABLE, c -> insert(c, name))));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.waiting() == 50);
        release.countDown();

        for (Future<String> f : inserts) {
            assertThat(f.get(10, TimeUnit.SECONDS)).startsWith("row-");
        }
        blocker.get(10, TimeUnit.SECONDS);
        assertThat(writer.transactions()).isEqualTo(51);
        assertThat(writer.batches()).as("the holder's batch, then one batch of the 50").isEqualTo(2);
        assertThat(count()).isEqualTo(50);
    }

    @Test
    void aTransactionThatFailsInABatchIsRolledBackAloneAndItsCallerTold() throws Exception {
        Future<Object> blocker = holdTheWriter();
        Future<String> a = callers.submit(() -> writer.submit("insert a", Durability.DURABLE, c -> insert(c, "a")));
        await().until(() -> writer.waiting() == 1);
        Future<String> b = callers.submit(() -> writer.submit("insert b", Durability.DURABLE, c -> {
            insert(c, "b");
            throw new RunnerException("b refused after its insert");
        }));
        await().until(() -> writer.waiting() == 2);
        Future<String> dup = callers.submit(() -> writer.submit("insert a again", Durability.DURABLE,
                c -> insert(c, "a")));
        await().until(() -> writer.waiting() == 3);
        Future<String> c3 = callers.submit(() -> writer.submit("insert c", Durability.DURABLE, c -> insert(c, "c")));
        await().until(() -> writer.waiting() == 4);
        release.countDown();
        blocker.get(10, TimeUnit.SECONDS);

        assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo("a");
        assertThat(c3.get(10, TimeUnit.SECONDS)).isEqualTo("c");
        assertThatThrownBy(() -> b.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunnerException.class)
                .hasMessageContaining("b refused after its insert");
        assertThatThrownBy(() -> dup.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunnerException.class)
                .hasMessageContaining("insert a again").hasMessageContaining("UNIQUE");
        assertThat(names()).containsExactlyInAnyOrder("a", "c");
        assertThat(writer.batches()).isEqualTo(2);
    }

    /**
     * Only a commit that keeps changed rows vouches for the store ({@code /healthz}): rows of a
     * transaction rolled back to its savepoint are not kept, so a batch of such a transaction and
     * others that change nothing wrote nothing, as on a full disk (review13 L4; SQLite's
     * {@code total_changes} counts them all the same).
     */
    @Test
    void rowsOfATransactionRolledBackToItsSavepointDoNotCountAsAChange() throws Exception {
        java.util.concurrent.atomic.AtomicInteger vouched = new java.util.concurrent.atomic.AtomicInteger();
        writer.reportChangesTo(vouched::incrementAndGet);
        Future<Object> blocker = holdTheWriter();
        Future<String> refused = callers.submit(() -> writer.submit("insert then fail", Durability.DURABLE, c -> {
            insert(c, "rolled back");
            throw new RunnerException("refused after its insert");
        }));
        await().until(() -> writer.waiting() == 1);
        Future<Integer> nothing = callers.submit(() -> writer.submit("change nothing", Durability.DURABLE,
                SqliteWriterTest::synchronousSetting));
        await().until(() -> writer.waiting() == 2);
        release.countDown();
        blocker.get(10, TimeUnit.SECONDS);
        assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).hasMessageContaining("refused after its insert");
        nothing.get(10, TimeUnit.SECONDS);
        assertThat(writer.batches()).as("the holder's batch, then one of the two").isEqualTo(2);
        assertThat(names()).isEmpty();
        assertThat(vouched).as("no commit kept a changed row").hasValue(0);

        writer.submit("insert kept", Durability.DURABLE, c -> insert(c, "kept"));
        assertThat(vouched).as("a commit that kept one").hasValue(1);
    }

    /**
     * {@code PRAGMA synchronous} is a setting of the writer's connection: set when a batch's durability differs from
     * the last one set on it, and on every new connection (after a broken batch), never once more per batch
     * (docs/BENCHMARKS.md, "Twentieth pass: the job's bookkeeping"); each batch still commits with its own.
     */
    @Test
    void synchronousIsSetOnlyWhenABatchNeedsAnotherThanTheConnectionHas() throws Exception {
        writer.close();
        java.util.concurrent.atomic.AtomicInteger pragmas = new java.util.concurrent.atomic.AtomicInteger();
        writer = new SqliteWriter(countingPragmas(source, pragmas),
                (what, e) -> new RunnerException(what + ": " + e.getMessage(), e), () -> null);
        List<Integer> settings = new ArrayList<>();
        for (Durability d : List.of(Durability.DEFERRED, Durability.DEFERRED, Durability.DEFERRED, Durability.DURABLE,
                Durability.DURABLE, Durability.DEFERRED)) {
            settings.add(writer.submit("read", d, SqliteWriterTest::synchronousSetting));
        }
        assertThat(settings).as("NORMAL (1) for deferred batches, FULL (2) for durable ones").containsExactly(1, 1, 1, 2,
                2, 1);
        assertThat(pragmas).as("set at the first batch and at each change only").hasValue(3);
        assertThat(writer.synchronousSets()).isEqualTo(3);

        assertThatThrownBy(() -> writer.submit("break", Durability.DEFERRED, c -> {
            throw new SQLException("broken on purpose");
        })).hasMessageContaining("broken on purpose");
        assertThat(writer.submit("read", Durability.DEFERRED, SqliteWriterTest::synchronousSetting))
                .as("a new connection after a broken batch is set again").isEqualTo(1);
        assertThat(pragmas).hasValue(4);
    }

    /** {@code source}, counting in {@code pragmas} the {@code PRAGMA synchronous} statements its connections run. */
    private static javax.sql.DataSource countingPragmas(javax.sql.DataSource source,
            java.util.concurrent.atomic.AtomicInteger pragmas) {
        return (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(SqliteWriterTest.class.getClassLoader(),
                new Class<?>[] {javax.sql.DataSource.class}, (proxy, method, args) -> {
                    Object result = invoke(method, source, args);
                    if (!(result instanceof Connection connection)) {
                        return result;
                    }
                    return java.lang.reflect.Proxy.newProxyInstance(SqliteWriterTest.class.getClassLoader(),
                            new Class<?>[] {Connection.class}, (cp, cm, ca) -> {
                                Object made = invoke(cm, connection, ca);
                                if (!(made instanceof PreparedStatement statement)
                                        || !((String) ca[0]).startsWith("PRAGMA synchronous")) {
                                    return made;
                                }
                                return java.lang.reflect.Proxy.newProxyInstance(
                                        SqliteWriterTest.class.getClassLoader(), new Class<?>[] {PreparedStatement.class},
                                        (sp, sm, sa) -> {
                                            if (sm.getName().startsWith("execute")) {
                                                pragmas.incrementAndGet();
                                            }
                                            return invoke(sm, statement, sa);
                                        });
                            });
                });
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Test
    void onlyDurableTransactionsWaitForTheDiskAndDeferredOnesNeverShareTheirCommit() throws Exception {
        Future<Object> blocker = holdTheWriter();
        Future<Integer> deferred = callers.submit(() -> writer.submit("read", Durability.DEFERRED,
                SqliteWriterTest::synchronousSetting));
        await().until(() -> writer.waiting() == 1);
        release.countDown();
        blocker.get(10, TimeUnit.SECONDS);
        assertThat(deferred.get(10, TimeUnit.SECONDS)).as("NORMAL").isEqualTo(1);

        CountDownLatch again = new CountDownLatch(1);
        Future<Object> second = callers.submit(() -> writer.submit("hold", Durability.DEFERRED, c -> {
            awaitQuietly(again);
            return null;
        }));
        await().until(() -> writer.waiting() == 0 && !second.isDone());
        Future<Integer> mixedDeferred = callers.submit(() -> writer.submit("read", Durability.DEFERRED,
                SqliteWriterTest::synchronousSetting));
        Future<Integer> mixedDurable = callers.submit(() -> writer.submit("read", Durability.DURABLE,
                SqliteWriterTest::synchronousSetting));
        await().until(() -> writer.waiting() == 2);
        long batchesBefore = writer.batches();
        again.countDown();
        second.get(10, TimeUnit.SECONDS);
        // Taken together, yet committed apart: the runner's bookkeeping does not wait for the
        // delivery's fsync, and the delivery's commit carries no bookkeeping.
        assertThat(mixedDeferred.get(10, TimeUnit.SECONDS)).as("NORMAL").isEqualTo(1);
        assertThat(mixedDurable.get(10, TimeUnit.SECONDS)).as("FULL").isEqualTo(2);
        assertThat(writer.batches() - batchesBefore).as("the holder's batch, then one per durability").isEqualTo(3);
    }

    @Test
    void whileAnotherProcessHoldsTheLockPastTheTimeoutEveryWaitingCallerIsToldTheStoreIsUnavailable()
            throws Exception {
        try (Connection other = source.getConnection(); Statement s = other.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            Future<String> first = callers.submit(() -> writer.submit("insert x", Durability.DURABLE,
                    c -> insert(c, "x")));
            assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunnerException.class)
                    .hasMessageContaining("insert x");
            s.execute("ROLLBACK");
        }
        String y = writer.submit("insert y", Durability.DURABLE, c -> insert(c, "y"));
        assertThat(y).isEqualTo("y");
        assertThat(names()).containsExactly("y");
    }

    @Test
    void everyCallerOfABatchThatCannotBeginHearsItAboutItsOwnTransactionNotTheBatchsSize() throws Exception {
        SwitchableDataSource pool = new SwitchableDataSource(source);
        SqliteWriter switchable = new SqliteWriter(pool, (what, e) -> new RunnerException(what + ": " + e.getMessage(), e),
                () -> null);
        try {
            // A transaction that breaks its batch holds the writer while three queue behind it; the writer
            // then opens a connection afresh, which the pool refuses.
            CountDownLatch inside = new CountDownLatch(1);
            Future<Object> breaking = callers.submit(() -> switchable.submit("break", Durability.DURABLE, c -> {
                inside.countDown();
                awaitQuietly(release);
                throw new SQLException("broken on purpose");
            }));
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
            List<Future<String>> queued = new ArrayList<>();
            for (String name : List.of("a", "b", "c")) {
                queued.add(callers.submit(() -> switchable.submit("insert " + name, Durability.DURABLE,
                        c -> insert(c, name))));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> switchable.waiting() == 3);
            pool.down.set(true);
            release.countDown();

            assertThatThrownBy(() -> breaking.get(10, TimeUnit.SECONDS)).hasMessageContaining("broken on purpose");
            for (int i = 0; i < 3; i++) {
                String name = List.of("a", "b", "c").get(i);
                Future<String> insert = queued.get(i);
                assertThatThrownBy(() -> insert.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunnerException.class)
                        .hasMessageContaining("RunnerException: insert " + name + ": ")
                        .hasMessageContaining("injected outage").hasMessageNotContaining("transactions");
            }
        } finally {
            switchable.close();
        }
    }

    @Test
    void aConnectionWaitingForTheLockGetsItOnceItIsFreed() throws Exception {
        SqliteBusyWait.DataSource patient = new SqliteBusyWait.DataSource(Duration.ofSeconds(30));
        patient.setUrl("jdbc:sqlite:" + dir.resolve("w.db"));
        try (Connection holder = source.getConnection(); Statement s = holder.createStatement();
                Connection waiter = patient.getConnection()) {
            s.execute("BEGIN IMMEDIATE");
            CompletableFuture<Void> begun = CompletableFuture.runAsync(() -> {
                try (Statement w = waiter.createStatement()) {
                    w.execute("BEGIN IMMEDIATE");
                    w.execute("INSERT INTO t VALUES ('late')");
                    w.execute("COMMIT");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, callers);
            assertThat(begun).isNotDone();
            s.execute("COMMIT");
            begun.get(10, TimeUnit.SECONDS);
        }
        assertThat(names()).containsExactly("late");
    }

    @Test
    void closingAnswersEveryoneAndStopsTheThread() throws Exception {
        String a = writer.submit("insert a", Durability.DURABLE, c -> insert(c, "a"));
        assertThat(a).isEqualTo("a");
        writer.close();
        assertThatThrownBy(() -> writer.submit("insert b", Durability.DURABLE, c -> insert(c, "b")))
                .isInstanceOf(StoreUnavailableException.class).hasMessageContaining("closed");
        assertThat(writer.running()).isFalse();
        assertThat(names()).containsExactly("a");
    }

    /**
     * SQLite copies its write-ahead log into the database file by itself only in the commit that takes
     * the log past 1,000 pages, and every caller of that batch waits for the copy. Once the writer is
     * idle, after {@link IdleCheckpoint#COMMITS} batches, the copy is made beside it: the database file
     * alone, without its log, then holds what was committed (before, it held none of these rows until
     * the log's thousandth page).
     */
    @Test
    void whatWasCommittedReachesTheDatabaseFileItselfOnceTheWriterIsIdle() throws Exception {
        for (int i = 0; i < IdleCheckpoint.COMMITS; i++) {
            String name = "row" + i;
            writer.submit("insert " + name, Durability.DURABLE, c -> insert(c, name));
        }
        Path copy = dir.resolve("copy.db");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
            // The file as a backup that forgot the log would have it.
            java.nio.file.Files.copy(dir.resolve("w.db"), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + copy);
                    Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(IdleCheckpoint.COMMITS);
            }
        });
        assertThat(writer.idleCheckpoints()).isPositive();
    }

    @Test
    void aTransactionMustNotStartAnotherOne() {
        assertThatThrownBy(() -> writer.submit("outer", Durability.DURABLE,
                c -> writer.submit("inner", Durability.DURABLE, c2 -> null)))
                .hasMessageContaining("must not start another one (inner)");
    }

    /** A transaction that holds the writer until {@link #release}, so others queue behind it. */
    private Future<Object> holdTheWriter() {
        CountDownLatch inside = new CountDownLatch(1);
        Future<Object> f = callers.submit(() -> writer.submit("hold", Durability.DURABLE, c -> {
            inside.countDown();
            awaitQuietly(release);
            return null;
        }));
        try {
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return f;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String insert(Connection c, String name) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO t (name) VALUES (?)")) {
            p.setString(1, name);
            p.executeUpdate();
        }
        return name;
    }

    private static int synchronousSetting(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA synchronous")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private long count() throws SQLException {
        return names().size();
    }

    private List<String> names() throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection c = source.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT name FROM t")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }
}
