package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The wait for the answer to pgJDBC's SSL request is bounded apart from a login's other reads ({@link
 * StoreReachability#SSL_ANSWER}): with a login bound of 10 s or more (or none) and the default {@code sslmode=prefer},
 * 5 s, pgJDBC's own, after which pgJDBC logs in again without SSL on a new connection whose TCP connect keeps {@code
 * store.connect-timeout}; otherwise as each read of the login, past its bound. 9e0b8f60 waited for that answer as for
 * each read whatever the bound (so that a loaded host's late answer did not make pgJDBC's second attempt, whose connect
 * got 1 ms, fail): a login with a bound of minutes whose connection stopped answering before the SSL answer waited all
 * of it, where pgJDBC alone had tried a new connection after 5 s (logins49).
 */
class PostgresSslAnswerBoundTest {

    @TempDir
    Path dir;

    @Test
    void theSslAnswerWaitsFiveSecondsWhenTheLoginsBoundLeavesTimeForASecondAttempt() {
        Properties minute = StoreReachability.timeouts(config("jdbc:postgresql://db/b?user=u", Duration.ofMinutes(1)));
        assertThat(minute.getProperty("sslResponseTimeout")).isEqualTo("5000");
        assertThat(minute.getProperty("connectTimeout")).as("the key + 5 s: the second connect keeps the key")
                .isEqualTo("65");
        assertThat(minute.getProperty("socketTimeout")).isEqualTo("65");

        Properties url = StoreReachability.timeouts(config("jdbc:postgresql://db/b?user=u&loginTimeout=60",
                Duration.ofSeconds(1)));
        assertThat(url.getProperty("sslResponseTimeout")).isEqualTo("5000");
        assertThat(url.getProperty("connectTimeout")).isEqualTo("6");

        Properties ten = StoreReachability.timeouts(config("jdbc:postgresql://db/b?user=u", Duration.ofSeconds(10)));
        assertThat(ten.getProperty("sslResponseTimeout")).isEqualTo("5000");
    }

    @Test
    void withAShorterBoundOrWithoutASecondAttemptTheSslAnswerWaitsAsEachRead() {
        Properties byDefault = StoreReachability.timeouts(config("jdbc:postgresql://db/b?user=u", Duration.ofSeconds(5)));
        assertThat(byDefault.getProperty("sslResponseTimeout")).as("the default key: past the login's bound")
                .isEqualTo("10000");
        assertThat(byDefault.getProperty("connectTimeout")).isEqualTo("5");

        Properties shortUrl = StoreReachability.timeouts(config("jdbc:postgresql://db/b?user=u&loginTimeout=9.5",
                Duration.ofMinutes(1)));
        assertThat(shortUrl.getProperty("sslResponseTimeout")).as("the URL's bound is the login's").isEqualTo("65000");

        Properties require = StoreReachability.timeouts(config("jdbc:postgresql://db/b?user=u&sslmode=require",
                Duration.ofMinutes(1)));
        assertThat(require.getProperty("sslResponseTimeout")).as("no second attempt without SSL").isEqualTo("65000");
        assertThat(require.getProperty("connectTimeout")).isEqualTo("60");
        Properties ssl = StoreReachability.timeouts(config("jdbc:postgresql://db/b?user=u&ssl=true",
                Duration.ofMinutes(1)));
        assertThat(ssl.getProperty("sslResponseTimeout")).as("ssl=true: verify-full").isEqualTo("65000");
    }

    /**
     * A pool login whose connection stops answering before its SSL answer (a middlebox that lost the flow, a server
     * failed over behind its address) while new connections are served: the login is made on pgJDBC's second attempt
     * after the 5-s SSL answer bound, within its bound of a minute. Failed before: the SSL answer was waited for 65 s,
     * so the login timed out after its whole minute ("Connection attempt timed out").
     */
    @Test
    void aPoolLoginWhoseConnectionStopsAnsweringBeforeItsSslAnswerIsMadeOnANewOne() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.swallowNextConnections(1);
            PostgresLogins logins = PostgresLogins.of(StoreConfig.of(front.url(url), dir)
                    .withConnectTimeout(Duration.ofMinutes(1)), "buildhook-store");

            try (Connection c = logins.getConnection()) {
                assertThat(c.isValid(10)).isTrue();
            }
            assertThat(front.swallowed()).as("the connection that stopped answering").isEqualTo(1);
            assertThat(front.accepted()).as("connections the login took").isEqualTo(2);
        }
    }

    /**
     * A pool login to a server that stopped answering (frozen) gives up the SSL answer on its connection after 5 s and
     * tries a second one, whatever its own bound (a minute here). Failed before: that answer was waited for the login's
     * bound + 5 s (65 s), past the 30 s given here for the second connection to come.
     */
    @Test
    void aPoolLoginToAFrozenServerGivesUpTheSslAnswerAfterFiveSecondsNotItsWholeBound() throws Exception {
        String url = TestStores.postgresUrl();
        PgFront front = PgFront.to(url);
        CompletableFuture<Connection> login;
        try {
            front.freeze();
            PostgresLogins logins = PostgresLogins.of(StoreConfig.of(front.url(url), dir)
                    .withConnectTimeout(Duration.ofMinutes(1)), "buildhook-store");
            login = CompletableFuture.supplyAsync(() -> {
                try {
                    return logins.getConnection();
                } catch (java.sql.SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });

            await().atMost(Duration.ofSeconds(30)).until(() -> front.accepted() >= 2);
            assertThat(login).as("the login itself waits on: the server may answer the second").isNotDone();
        } finally {
            front.close(); // the frozen server goes away: the login ends
        }
        try {
            login.get(2, TimeUnit.MINUTES).close();
            throw new AssertionError("a login to a server that never answered was made");
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(java.sql.SQLException.class);
        }
    }

    private StoreConfig config(String url, Duration key) {
        return StoreConfig.of(url, dir).withConnectTimeout(key);
    }
}
