package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * relia33 (metrics32's left item): a background read ({@link Store#readWithin}, the metrics' snapshot) whose
 * PostgreSQL stops answering in the middle of it, its connection open (a server frozen, a partition that drops
 * packets), ends as the store unavailable once its bound has passed, and the next read, once the database answers,
 * works. Before, such a read waited for as long as the database did not answer: the snapshot's thread was held for
 * good (its gauges NaN, buildhook_store_up 0, until the database came back). The connection wait (store.connect-timeout,
 * 1 minute here, thirty times the read's bound) is not what ends it: the connection was handed out before the database
 * stopped answering. (It was 10 minutes; since the pools' logins are bounded by it (65037dec, 9e0b8f60), the pool's
 * new login made on a connection the test's front froze waited that long before the read after the thaw.)
 */
class PostgresReadWithinTest {

    @TempDir
    Path dir;

    @Test
    void aReadWhoseDatabaseStopsAnsweringEndsOnceItsBoundHasPassed() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            StoreConfig config = StoreConfig.of(front.url(url), dir).withConnectTimeout(Duration.ofMinutes(1));
            try (Store store = Store.open(config)) {
                // unitsInUse's statement, first sent on the connection the read gets: the database stops answering
                // once the pool has handed that connection out.
                front.freezeAt("FROM resource_holds GROUP BY resource");
                CompletableFuture<Map<String, Integer>> read = CompletableFuture.supplyAsync(
                        () -> store.readWithin(Duration.ofSeconds(2), () -> store.resources().unitsInUse()));

                await().atMost(Duration.ofMinutes(3)).alias("the read, its database not answering").until(read::isDone);
                assertThat(read).isCompletedExceptionally();
                Throwable failure = read.handle((v, e) -> e instanceof CompletionException ? e.getCause() : e).join();
                assertThat(failure).isInstanceOf(StoreUnavailableException.class);
                assertThat(failure.getMessage()).startsWith("store unavailable while trying to count shared resources"
                        + " in use: ");

                front.thaw();
                assertThat(store.readWithin(Duration.ofSeconds(30), () -> store.resources().unitsInUse())).isEmpty();
                assertThat(store.countJobs(JobState.QUEUED)).as("an unbounded read, after").isZero();
            }
        }
    }

    @Test
    void aBoundThatIsNotOverZeroIsRefused() throws Exception {
        String url = TestStores.postgresUrl();
        try (Store store = Store.open(StoreConfig.of(url, dir))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.readWithin(Duration.ZERO, () -> 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("a read's bound must be over 0, not PT0S");
        }
    }
}
