package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout44 F13: with PostgreSQL refusing connections, the status page's banner ({@link Store#trouble()}) said only "the
 * store gives this node no connection: its connection pools … have given none", where {@code /healthz} and the WARN
 * said why (the store refuses connections …); and its "Since …" was the start of an earlier outage, across a time the
 * database had been back (the pool had made a connection that nobody took before the database went away again). The
 * banner now says {@code /healthz}'s words first, the pools' account after them, and an episode ends when a caller
 * finds a connection lying idle. The refusing server is a {@link PgFront} before the test's PostgreSQL.
 */
class PostgresStoreTroubleCauseTest {

    @TempDir
    Path dir;

    @Test
    void theBannerSaysWhyInHealthzsWordsAndItsSinceIsTheCurrentOutagesStart() throws Exception {
        String url = TestStores.postgresUrl();
        String refused = "the store refuses connections: the database server is out of connections"
                + " (max_connections) (SQLSTATE 53300)";
        try (PgFront front = PgFront.to(url); Store store = Store.open(StoreConfig.of(front.url(url)
                + TestStores.GENEROUS_LOGINS, dir).withConnectTimeout(Duration.ofSeconds(1)).withPoolSize(2))) {
            HikariDataSource pool = (HikariDataSource) store.dataSource();
            outage(front, store);

            assertThat(store.healthReport().reason()).as("/healthz").isEqualTo(refused);
            StoreTrouble first = store.trouble().orElseThrow();
            assertThat(first.reason()).as("the banner, in /healthz's words").isEqualTo(refused);
            assertThat(first.detail()).as("the pools' account after it").startsWith(PoolStarvation.NO_CONNECTION
                    + ": its connection pool").contains("buildhook-store").doesNotContain("its last try");

            // The database is back; the pool makes a connection by itself, which nobody takes (no look either).
            front.forwardNewConnections();
            await().atMost(Duration.ofMinutes(1)).until(() -> pool.getHikariPoolMXBean().getIdleConnections() > 0);
            Instant back = Instant.now();
            // And gone again, before anyone asked: that connection is dead now.
            outage(front, store);

            StoreTrouble second = store.trouble().orElseThrow();
            assertThat(second.reason()).isEqualTo(refused);
            assertThat(second.since()).as("the current outage's start, not the first one's (%s)", first.since())
                    .isAfter(back.minusSeconds(1)).isAfter(first.since());
        }
    }

    /**
     * New sessions refused (as by a server out of connections), the open ones cut; reads are refused (the first may
     * fail on a connection cut under it, without a wait) until the banner has something to say.
     */
    private static void outage(PgFront front, Store store) {
        front.refuseNewConnections("53300", "sorry, too many clients already");
        front.cutForwarded();
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            assertThatThrownBy(() -> store.job("01M8PZ32TR20HT41KET91M5VKP"))
                    .isInstanceOf(StoreUnavailableException.class);
            return store.trouble().isPresent();
        });
    }
}
