package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A {@code loginTimeout} in {@code store.url} bounds the start's first login as a whole, its reads too: they were
 * bounded by {@code store.connect-timeout} + 5 s whatever the URL said, so a first login whose server answered later
 * than that (a pooler queueing logins) failed, and pgJDBC tried it again on a new connection (sslmode=prefer, after a
 * read timeout), which a pooler queued in turn (logins48: SlowLoginsTest under load).
 */
class PostgresFirstLoginReadBoundTest {

    @TempDir
    Path dir;

    @Test
    void theUrlsLoginTimeoutBoundsTheReadsOfTheStartsFirstLogin() {
        StoreConfig config = StoreConfig.of("jdbc:postgresql://db/b?user=u&loginTimeout=60", dir)
                .withConnectTimeout(Duration.ofSeconds(1));
        assertThat(StoreReachability.timeouts(config).getProperty("socketTimeout")).isEqualTo("65");
        StoreConfig shorter = StoreConfig.of("jdbc:postgresql://db/b?user=u&loginTimeout=1.5", dir)
                .withConnectTimeout(Duration.ofSeconds(3));
        assertThat(StoreReachability.timeouts(shorter).getProperty("socketTimeout"))
                .as("a URL's bound under the key's: the key's").isEqualTo("8");
        StoreConfig key = StoreConfig.of("jdbc:postgresql://db/b?user=u", dir).withConnectTimeout(Duration.ofSeconds(2));
        assertThat(StoreReachability.timeouts(key).getProperty("socketTimeout")).as("the key's + 5 s").isEqualTo("7");
    }

    @Test
    void aFirstLoginAnsweredLaterThanTheKeyPlusFiveSecondsButWithinTheUrlsLoginTimeoutIsMade() throws Exception {
        String url = TestStores.postgresUrl();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger store = (Logger) LoggerFactory.getLogger(Store.class);
        Level was = store.getLevel();
        log.start();
        store.addAppender(log);
        store.setLevel(Level.DEBUG);
        try (PgFront front = PgFront.to(url)) {
            // The login's startup is held 7 s (a floor on the login's time, as a pooler's queue), over 1 s + 5 s.
            front.freezeAt("buildhook");
            Thread thaw = new Thread(() -> {
                try {
                    Thread.sleep(7_000); // the held login itself, not a wait for an event
                } catch (InterruptedException e) {
                    return;
                }
                front.thaw();
            });
            thaw.setDaemon(true);
            thaw.start();
            StoreConfig config = StoreConfig.of(front.url(url) + "&loginTimeout=60", dir)
                    .withConnectTimeout(Duration.ofSeconds(1));

            Store.open(config).close();

            assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> m.startsWith("the PostgreSQL store's first connection was made in"))
                    .noneMatch(m -> m.startsWith("the PostgreSQL store's first connection failed"));
        } finally {
            store.detachAppender(log);
            store.setLevel(was);
        }
    }

    /**
     * A login whose SSL answer comes later than the 5 s pgJDBC waits for it ({@link StoreReachability#SSL_ANSWER}; a
     * queue at the TCP level, a loaded host), within the URL's loginTimeout, is made: pgJDBC tries it again without SSL
     * on a new connection (sslmode=prefer), whose TCP connect keeps store.connect-timeout. Here each connection is held
     * unanswered until the login has tried a second one. That second connect got what was left of connectTimeout (1
     * ms) and failed on a loaded host ("The connection attempt failed.": SlowLoginsTest's pool logins, ci47-e), so
     * 9e0b8f60 waited for the SSL answer past the login's bound instead; that never tried a second connection: failed
     * before, "Connection attempt timed out" after the URL's 60 s.
     */
    @Test
    void aLoginWhoseSslAnswerComesLaterThanFiveSecondsWithinTheUrlsLoginTimeoutIsMade() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.holdNewConnections();
            Thread thaw = new Thread(() -> {
                await().atMost(Duration.ofMinutes(2)).until(() -> front.accepted() >= 2);
                front.thaw();
            });
            thaw.setDaemon(true);
            thaw.start();
            StoreConfig config = StoreConfig.of(front.url(url) + "&loginTimeout=60", dir)
                    .withConnectTimeout(Duration.ofSeconds(1));
            PostgresLogins logins = PostgresLogins.of(config, "buildhook-store");

            try (java.sql.Connection c = logins.getConnection()) {
                assertThat(c.isValid(10)).isTrue();
            }
            assertThat(front.accepted()).as("connections the login took").isEqualTo(2);
            assertThat(StoreReachability.timeouts(config).getProperty("connectTimeout"))
                    .as("the SSL answer's 5 s, then the key for the second connect").isEqualTo("6");
        }
    }

    /**
     * review48 F9: {@code loginTimeout=0} in store.url (no bound on a login, the operator's choice) leaves the reads of
     * the start's first login and of {@code buildhook check}'s unbounded too, as the pools' ({@link PostgresLogins}):
     * they were cut at store.connect-timeout + 5 s, so a login slower than that failed. Here the login's startup is held
     * 7 s (a floor on its time, as a pooler's queue), over the key's 1 s + 5 s. Failed before: "The connection attempt
     * failed." (the read cut at 6 s, pgJDBC's second attempt on a new connection, held in turn). The reads after the
     * login keep the key + 5 s.
     */
    @Test
    void withNoLoginBoundInTheUrlCheckWaitsForASlowLoginAndBoundsItsReadsAfterIt() throws Exception {
        String url = TestStores.postgresUrl();
        StoreConfig direct = StoreConfig.of(url + "&loginTimeout=0", dir).withConnectTimeout(Duration.ofSeconds(1));
        assertThat(StoreReachability.timeouts(direct).getProperty("socketTimeout")).as("no bound on the login's reads")
                .isNull();
        try (java.sql.Connection c = StoreReachability.connect(direct)) {
            assertThat(c.getNetworkTimeout()).as("each read after the login: the key + 5 s").isEqualTo(6_000);
        }
        try (PgFront front = PgFront.to(url)) {
            front.freezeAt("buildhook");
            Thread thaw = new Thread(() -> {
                try {
                    Thread.sleep(7_000); // the held login itself (a floor on its time), not a wait for an event
                } catch (InterruptedException e) {
                    return;
                }
                front.thaw();
            });
            thaw.setDaemon(true);
            thaw.start();
            StoreConfig config = StoreConfig.of(front.url(url) + "&loginTimeout=0", dir)
                    .withConnectTimeout(Duration.ofSeconds(1));

            assertThat(StoreReachability.whyUnreachable(config)).isEmpty();
            assertThat(front.accepted()).as("connections the login took").isEqualTo(1);
        }
    }
}
