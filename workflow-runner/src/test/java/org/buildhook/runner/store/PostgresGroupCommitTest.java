package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL's group commit of accepts ({@link PostgresAccept}, {@link GroupCommit}), against a real
 * server. A batch is held in the database, not in the code: another session holds the
 * deduplication key of one of its deliveries in an open transaction, so the batch's statement waits
 * for that row lock until the test lets it go.
 */
class PostgresGroupCommitTest {

    private static final Duration LONG = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private StoreConfig config;
    private Store store;
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private final List<Connection> holders = new ArrayList<>();

    @BeforeEach
    void open() {
        config = TestStores.postgres(dir);
        store = Store.open(config);
    }

    @AfterEach
    void close() throws SQLException {
        for (Connection c : holders) {
            c.close();
        }
        callers.shutdownNow();
        store.close();
    }

    @Test
    void aBatchsCallersAreAnsweredOnlyAfterItsCommitAndTogether() throws Exception {
        Connection lanes = holdKeys("z", PostgresAccept.LANES);
        List<CompletableFuture<AcceptResult>> blockers = acceptAll("z", PostgresAccept.LANES);
        awaitWaitingFor(lanes, PostgresAccept.LANES);
        Connection x = holdKeys("x", 1);
        CompletableFuture<AcceptResult> first = accept("x0");
        await().atMost(LONG).until(() -> store.acceptsQueued() == 1);
        List<CompletableFuture<AcceptResult>> others = acceptAll("y", 3);
        await().atMost(LONG).until(() -> store.acceptsQueued() == 4);
        WriteStats before = store.writeStats().orElseThrow();

        lanes.rollback(); // the blocked batches end; the next one takes x0 and the three others, and waits for x0's key
        CompletableFuture.allOf(blockers.toArray(CompletableFuture[]::new)).get();
        awaitWaitingFor(x, 1);
        assertThat(others).noneMatch(CompletableFuture::isDone);
        assertThat(first).isNotDone();
        assertThat(committedDeliveries()).isEqualTo(PostgresAccept.LANES);

        x.rollback();
        List<AcceptResult> results = new ArrayList<>();
        results.add(first.get());
        for (CompletableFuture<AcceptResult> f : others) {
            results.add(f.get());
        }
        assertThat(results).noneMatch(AcceptResult::duplicate).allSatisfy(r -> assertThat(r.jobIds()).hasSize(1));
        assertThat(committedDeliveries()).isEqualTo(PostgresAccept.LANES + 4);
        assertThat(store.writeStats().orElseThrow())
                .isEqualTo(new WriteStats(before.commits() + PostgresAccept.LANES + 1, before.transactions() + PostgresAccept.LANES + 4));
    }

    @Test
    void anAcceptQueuedBehindStuckBatchesIsAnsweredUnavailableWithinTheConnectionWaitAndNothingOfItIsStored()
            throws Exception {
        // Both lanes wait for keys another node holds (as they would for an answer lost in a partition):
        // a later accept gets 503 after the pool's connection wait, as before group commit, not never.
        // The keys held stand for an answer the database never sends: the lanes' sessions wait for them as long as
        // they are held (store.url's lock_timeout wins over the pools' store.connect-timeout, which would end a
        // lock's wait as a lock: PostgresLockTimeoutTest).
        // The short wait is for the stuck queue only: store.connect-timeout also bounds the open's first login and
        // each pooled connection's (the driver's loginTimeout and connectTimeout), which a loaded machine can take
        // longer than 500 ms to make (ci-ag: "no connection was made within store.connect-timeout (500ms)" at
        // Store.open; flake26, race26). Those two in store.url are the operator's and win (Store#firstConnection), so
        // the logins get a minute; the pool's waits at the open and for the lanes' connections are met by trying again
        // (TestStores#openWithConnections). The queue's wait, what the queued accept is answered within, stays 500 ms.
        StoreConfig shortWait = new StoreConfig(config.url() + "&options=-c%20lock_timeout%3D0"
                + TestStores.GENEROUS_LOGINS, config.dataDir(),
                config.dedupWindow(),
                config.retention(), config.retentionInterval(), config.retentionBatch(), config.poolSize(),
                Duration.ofMillis(500), config.clock());
        try (Store node = TestStores.openWithConnections(shortWait, PostgresAccept.LANES + 1)) {
            Connection lanes = holdKeys("z", PostgresAccept.LANES);
            List<CompletableFuture<AcceptResult>> blocked = new ArrayList<>();
            for (int i = 0; i < PostgresAccept.LANES; i++) {
                String body = "z" + i;
                blocked.add(CompletableFuture.supplyAsync(() -> node.accept(Plans.delivery(body), List.of(job("deploy"))),
                        callers));
            }
            awaitWaitingFor(lanes, PostgresAccept.LANES);

            CompletableFuture<AcceptResult> queued = CompletableFuture.supplyAsync(
                    () -> node.accept(Plans.delivery("queued"), List.of(job("deploy"))), callers);

            assertThatThrownBy(() -> queued.get(60, java.util.concurrent.TimeUnit.SECONDS))
                    .cause().isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining("store unavailable while trying to accept a delivery");
            assertThat(node.acceptsQueued()).isZero();
            lanes.rollback();
            for (CompletableFuture<AcceptResult> f : blocked) {
                assertThat(f.get().duplicate()).isFalse();
            }
            assertThat(committedDeliveries()).isEqualTo(PostgresAccept.LANES);
            // The sender's retry is a new delivery: nothing of the refused one was stored.
            assertThat(node.accept(Plans.delivery("queued"), List.of(job("deploy"))).duplicate()).isFalse();
        }
    }

    @Test
    void deliveriesWhoseBodiesTogetherPassTheBatchsByteBoundAreSentInSeparateStatements() throws Exception {
        // 64 bodies of the largest size in one statement could pass PostgreSQL's ~1 GB message limit,
        // which drops the connection (an outage for all of them, and the same batch again on retry).
        String big = "x".repeat((int) (PostgresAccept.MAX_BYTES * 5 / 8));
        Connection lanes = holdKeys("z", PostgresAccept.LANES);
        List<CompletableFuture<AcceptResult>> blockers = acceptAll("z", PostgresAccept.LANES);
        awaitWaitingFor(lanes, PostgresAccept.LANES);
        CompletableFuture<AcceptResult> big1 = accept(big + "1");
        await().atMost(LONG).until(() -> store.acceptsQueued() == 1);
        CompletableFuture<AcceptResult> big2 = accept(big + "2");
        await().atMost(LONG).until(() -> store.acceptsQueued() == 2);
        WriteStats before = store.writeStats().orElseThrow();

        lanes.rollback();

        assertThat(big1.get().duplicate()).isFalse();
        assertThat(big2.get().duplicate()).isFalse();
        for (CompletableFuture<AcceptResult> f : blockers) {
            assertThat(f.get().duplicate()).isFalse();
        }
        assertThat(store.writeStats().orElseThrow()).as("each big one in a statement of its own")
                .isEqualTo(new WriteStats(before.commits() + PostgresAccept.LANES + 2,
                        before.transactions() + PostgresAccept.LANES + 2));
    }

    @Test
    void oneFailingDeliveryInABatchFailsOnlyItself() throws Exception {
        try (Connection c = DriverManager.getConnection(config.url()); Statement s = c.createStatement()) {
            s.execute("CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.rule_name = 'boom' THEN"
                    + " RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
            s.execute("CREATE TRIGGER boom BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION boom()");
        }
        Connection lanes = holdKeys("z", PostgresAccept.LANES);
        acceptAll("z", PostgresAccept.LANES);
        awaitWaitingFor(lanes, PostgresAccept.LANES);
        CompletableFuture<AcceptResult> good1 = accept("good1", job("ok"));
        CompletableFuture<AcceptResult> bad = accept("bad", job("boom"));
        CompletableFuture<AcceptResult> good2 = accept("good2", job("ok"));
        await().atMost(LONG).until(() -> store.acceptsQueued() == 3);

        lanes.rollback();

        assertThat(good1.get().duplicate()).isFalse();
        assertThat(good2.get().duplicate()).isFalse();
        assertThat(failureOf(bad)).isInstanceOf(RunnerException.class)
                .isNotInstanceOf(StoreUnavailableException.class).hasMessageContaining("boom");
        assertThat(store.delivery(good1.get().deliveryId())).isPresent();
        assertThat(store.delivery(good2.get().deliveryId())).isPresent();
        assertThat(committedDeliveries()).isEqualTo(PostgresAccept.LANES + 2);
        assertThat(store.jobs(JobQuery.latest(100)).items()).extracting(Job::ruleName).doesNotContain("boom")
                .filteredOn("ok"::equals).hasSize(2);
        // Nothing of it was kept, its body's key included: the same body is a new delivery.
        assertThat(store.accept(Plans.delivery("bad"), List.of()).duplicate()).isFalse();
    }

    @Test
    void aConnectionLostMidBatchAnswersUnavailableToAllOfItAndLosesNothingAnswered() throws Exception {
        Connection lanes = holdKeys("z", PostgresAccept.LANES);
        List<CompletableFuture<AcceptResult>> answered = acceptAll("z", PostgresAccept.LANES);
        awaitWaitingFor(lanes, PostgresAccept.LANES);
        Connection x = holdKeys("x", 1);
        CompletableFuture<AcceptResult> first = accept("x0");
        await().atMost(LONG).until(() -> store.acceptsQueued() == 1);
        List<CompletableFuture<AcceptResult>> others = acceptAll("y", 2);
        await().atMost(LONG).until(() -> store.acceptsQueued() == 3);
        lanes.rollback();
        for (CompletableFuture<AcceptResult> f : answered) {
            assertThat(f.get().duplicate()).isFalse();
        }
        int batch = awaitWaitingFor(x, 1).get(0);

        try (Connection c = DriverManager.getConnection(config.url());
                PreparedStatement p = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
            p.setInt(1, batch);
            p.executeQuery().close();
        }

        assertThat(failureOf(first)).isInstanceOf(StoreUnavailableException.class);
        for (CompletableFuture<AcceptResult> f : others) {
            assertThat(failureOf(f)).isInstanceOf(StoreUnavailableException.class);
        }
        x.rollback();
        assertThat(committedDeliveries()).isEqualTo(PostgresAccept.LANES);
        for (CompletableFuture<AcceptResult> f : answered) {
            assertThat(store.delivery(f.get().deliveryId())).isPresent();
        }
        // The sender's retry is stored: nothing of the lost batch was kept.
        assertThat(store.accept(Plans.delivery("y1"), List.of(job("deploy"))).duplicate()).isFalse();
    }

    @Test
    void aBatchChosenAsADeadlocksVictimIsSentAgainOneByOneAndLosesNone() throws Exception {
        // Another node's transaction (here the test's) holds y1's key and then wants y0's, which the
        // batch [y0, y1] claimed first: PostgreSQL fails the batch's statement (it waited first).
        Connection lanes = holdKeys("z", PostgresAccept.LANES);
        acceptAll("z", PostgresAccept.LANES);
        awaitWaitingFor(lanes, PostgresAccept.LANES);
        CompletableFuture<AcceptResult> y0 = accept("y0");
        await().atMost(LONG).until(() -> store.acceptsQueued() == 1);
        CompletableFuture<AcceptResult> y1 = accept("y1");
        await().atMost(LONG).until(() -> store.acceptsQueued() == 2);
        Connection otherNode = DriverManager.getConnection(config.url());
        holders.add(otherNode);
        otherNode.setAutoCommit(false);
        claimKey(otherNode, "y1");
        WriteStats before = store.writeStats().orElseThrow();
        lanes.rollback();
        awaitWaitingFor(otherNode, 1);

        CompletableFuture<Void> theirs = CompletableFuture.runAsync(() -> {
            try {
                claimKey(otherNode, "y0");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }, callers);
        theirs.get(); // the batch was the victim: its claim of y0 is gone (then taken by the other node or by y0 alone)
        otherNode.rollback();

        assertThat(y0.get().duplicate()).isFalse();
        assertThat(y1.get().duplicate()).isFalse();
        assertThat(store.delivery(y0.get().deliveryId())).isPresent();
        assertThat(store.delivery(y1.get().deliveryId())).isPresent();
        assertThat(store.writeStats().orElseThrow().transactions() - before.transactions())
                .isEqualTo(PostgresAccept.LANES + 2);
    }

    @Test
    void aBatchClaimsItsKeysInKeyOrderWhateverTheOrderItsDeliveriesArrivedIn() throws Exception {
        // One global order for every batch (of every node): two batches claiming the same keys wait for
        // each other instead of deadlocking. Here [last, first] arrive in that order, another session
        // holds the key that sorts first: the batch waits for it before claiming the other.
        List<String> bodies = new ArrayList<>(List.of("k0", "k1"));
        bodies.sort(java.util.Comparator.comparing(b -> DeliveryWriter.sha256(b.getBytes(StandardCharsets.UTF_8))));
        String first = bodies.get(0);
        String last = bodies.get(1);
        Connection lanes = holdKeys("z", PostgresAccept.LANES);
        acceptAll("z", PostgresAccept.LANES);
        awaitWaitingFor(lanes, PostgresAccept.LANES);
        CompletableFuture<AcceptResult> lastOne = accept(last);
        await().atMost(LONG).until(() -> store.acceptsQueued() == 1);
        CompletableFuture<AcceptResult> firstOne = accept(first);
        await().atMost(LONG).until(() -> store.acceptsQueued() == 2);
        Connection holdsFirst = DriverManager.getConnection(config.url());
        holders.add(holdsFirst);
        holdsFirst.setAutoCommit(false);
        claimKey(holdsFirst, first);
        lanes.rollback();
        awaitWaitingFor(holdsFirst, 1);

        Connection anotherNode = DriverManager.getConnection(config.url());
        holders.add(anotherNode);
        anotherNode.setAutoCommit(false);
        try (Statement s = anotherNode.createStatement()) {
            // Only reached when the batch claimed the later key before the first: then this waits for ever.
            s.execute("SET lock_timeout = '10s'");
        }
        claimKey(anotherNode, last); // not claimed yet by the batch, which waits for the first key

        anotherNode.rollback();
        holdsFirst.rollback();
        assertThat(firstOne.get().duplicate()).isFalse();
        assertThat(lastOne.get().duplicate()).isFalse();
        assertThat(store.acceptBatchesRetriedAlone()).isZero();
    }

    /** What another node's transaction does first (DeliveryWriter's claim). */
    private static void claimKey(Connection c, String body) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO dedup_keys (endpoint, body_hash, delivery_id,"
                + " first_seen) VALUES ('default', ?, 'held-by-the-test', 0) ON CONFLICT DO NOTHING")) {
            p.setString(1, DeliveryWriter.sha256(body.getBytes(StandardCharsets.UTF_8)));
            p.executeUpdate();
        }
    }

    @Test
    void twoNodesAcceptingTheSameBodiesAtOnceInOppositeOrdersStoreEachOnceAndFailNone() throws Exception {
        // Two nodes' batches claiming the same keys in opposite orders would deadlock; each batch claims
        // its keys sorted, so they wait for each other instead and no batch is sent again one by one.
        try (Store other = Store.open(config.withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO))) {
            int bodies = 24;
            List<CompletableFuture<AcceptResult>> all = new ArrayList<>();
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < bodies; i++) {
                    String mine = "same" + i;
                    String theirs = "same" + (bodies - 1 - i);
                    all.add(CompletableFuture.supplyAsync(() -> {
                        awaitQuietly(go);
                        return store.accept(Plans.delivery(mine), List.of(job("deploy")));
                    }, callers));
                    all.add(CompletableFuture.supplyAsync(() -> {
                        awaitQuietly(go);
                        return other.accept(Plans.delivery(theirs), List.of(job("deploy")));
                    }, callers));
                }
            }
            go.countDown();
            List<AcceptResult> results = new ArrayList<>();
            for (CompletableFuture<AcceptResult> f : all) {
                results.add(f.get());
            }
            assertThat(results).filteredOn(r -> !r.duplicate()).hasSize(bodies);
            assertThat(results).filteredOn(AcceptResult::duplicate).hasSize(3 * bodies);
            assertThat(store.jobs(JobQuery.latest(500)).items()).hasSize(bodies);
            assertThat(scheduledExecutions()).isEqualTo(bodies);
            assertThat(store.acceptBatchesRetriedAlone() + other.acceptBatchesRetriedAlone())
                    .as("batches failed (deadlocks) and sent again one by one").isZero();
        }
    }

    private static void awaitQuietly(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private int scheduledExecutions() throws SQLException {
        try (Connection c = DriverManager.getConnection(config.url()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM scheduled_tasks")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static PlannedJob job(String rule) {
        return Plans.job(rule, List.of("/bin/true"));
    }

    private CompletableFuture<AcceptResult> accept(String body, PlannedJob... jobs) {
        List<PlannedJob> planned = jobs.length == 0 ? List.of(job("deploy")) : List.of(jobs);
        return CompletableFuture.supplyAsync(() -> store.accept(Plans.delivery(body), planned), callers);
    }

    /** Accepts of the bodies {@code prefix0 … prefix(n-1)}, each on a thread of its own. */
    private List<CompletableFuture<AcceptResult>> acceptAll(String prefix, int n) {
        List<CompletableFuture<AcceptResult>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(accept(prefix + i));
        }
        return all;
    }

    private static Throwable failureOf(CompletableFuture<?> f) {
        try {
            f.join();
        } catch (CompletionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure, got " + f.join());
    }

    /**
     * A session whose open transaction holds the deduplication keys of the bodies {@code prefix0 …
     * prefix(n-1)} on the endpoint {@code default}: an accept of one of them waits until it ends.
     */
    private Connection holdKeys(String prefix, int n) throws SQLException {
        Connection c = DriverManager.getConnection(config.url());
        holders.add(c);
        c.setAutoCommit(false);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO dedup_keys (endpoint, body_hash, delivery_id,"
                + " first_seen) VALUES ('default', ?, 'held-by-the-test', 0)")) {
            for (int i = 0; i < n; i++) {
                p.setString(1, DeliveryWriter.sha256((prefix + i).getBytes(StandardCharsets.UTF_8)));
                p.executeUpdate();
            }
        }
        return c;
    }

    /** Waits until {@code n} sessions wait for a lock {@code holder} holds; returns their backends' pids. */
    private List<Integer> awaitWaitingFor(Connection holder, int n) throws SQLException {
        int pid = PgSessions.pid(holder);
        List<Integer> waiting = new ArrayList<>();
        await().atMost(LONG).until(() -> {
            waiting.clear();
            waiting.addAll(PgSessions.blockedBy(config.url(), pid));
            return waiting.size() == n;
        });
        return waiting;
    }

    /** Deliveries committed, as another session sees them. */
    private int committedDeliveries() throws SQLException {
        try (Connection c = DriverManager.getConnection(config.url()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM deliveries")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
