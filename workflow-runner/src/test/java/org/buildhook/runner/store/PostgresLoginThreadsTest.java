package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A silent PostgreSQL outage (the server accepts TCP connections and never answers: a frozen server or proxy) leaves
 * no login thread behind once it is over (tryout47: pgJDBC's "PostgreSQL JDBC driver connection thread", which its
 * {@code loginTimeout} stops waiting for and abandons, stayed blocked on its socket, one per login the pools tried: 26
 * after a 40-s outage, blocked in their authentication, never ending). The outage is a {@link PgFront} that forwards
 * nothing and answers the logins it takes meanwhile only as far as the encryption request, then never, even after the
 * outage (a PgBouncer queueing them for a server that stopped answering, a middlebox that lost them). And the
 * connections the pools make keep no read bound once made, unless {@code store.url} sets one.
 */
class PostgresLoginThreadsTest {

    @TempDir
    Path dir;

    private static final String LOGIN_THREAD = "PostgreSQL JDBC driver connection thread";

    @Test
    void theLoginsAPoolTriedDuringASilentOutageEndAfterIt() throws Exception {
        String url = TestStores.postgresUrl();
        Set<Thread> before = loginThreads();
        try (PgFront front = PgFront.to(url);
                Database db = Database.open(StoreConfig.of(front.url(url), dir).withConnectTimeout(Duration.ofSeconds(1)))) {
            try (Connection first = db.dataSource().getConnection()) {
                assertThat(first.isValid(10)).isTrue();
            }
            front.freezeAfterNegotiation();
            // Callers ask the pool for connections meanwhile, each over a second after the last (HikariCP checks a
            // connection idle for over half a second before it hands it out): it finds its connection dead and tries
            // new logins, each abandoned by the driver after its loginTimeout (1 s).
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                try (Connection c = db.dataSource().getConnection()) {
                    return false; // handed out before its check failed: ask again
                } catch (SQLException e) {
                    return front.swallowed() >= 2;
                }
            });
            front.thaw(); // the outage is over; the logins it took meanwhile stay unanswered

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                    loginThreads().stream().filter(t -> !before.contains(t)).map(Thread::getName)
                            .collect(Collectors.toList()))
                    .as("login threads left after the outage").isEmpty());

            await().atMost(Duration.ofMinutes(1)).ignoreExceptions().untilAsserted(() -> {
                try (Connection again = db.dataSource().getConnection()) {
                    assertThat(again.isValid(10)).isTrue();
                    assertThat(again.getNetworkTimeout()).as("no read bound once made").isZero();
                }
            });
        }
    }

    @Test
    void eachReadOfALoginIsBoundedAsTheLoginIsAndNoReadOnceMade() throws Exception {
        String url = TestStores.postgresUrl();
        PostgresLogins logins = PostgresLogins.of(StoreConfig.of(url, dir)
                .withConnectTimeout(Duration.ofMillis(2_500)), "buildhook-store");
        assertThat(logins.properties().getProperty("socketTimeout")).as("the login bound, rounded up, + 5 s").isEqualTo("8");
        assertThat(logins.properties().getProperty("loginTimeout")).isEqualTo("2.5");
        try (Connection c = logins.getConnection()) {
            assertThat(c.getNetworkTimeout()).isZero();
        }

        PostgresLogins urlBound = PostgresLogins.of(StoreConfig.of(url + "&loginTimeout=30", dir), "buildhook-store");
        assertThat(urlBound.properties().getProperty("socketTimeout")).as("the URL's loginTimeout + 5 s").isEqualTo("35");
    }

    @Test
    void aSocketTimeoutOrNoLoginBoundInTheUrlIsTheOperators() throws Exception {
        String url = TestStores.postgresUrl();
        PostgresLogins socket = PostgresLogins.of(StoreConfig.of(url + "&socketTimeout=7", dir), "buildhook-store");
        try (Connection c = socket.getConnection()) {
            assertThat(c.getNetworkTimeout()).as("the URL's, for every read").isEqualTo(7_000);
        }
        PostgresLogins unbounded = PostgresLogins.of(StoreConfig.of(url + "&loginTimeout=0", dir), "buildhook-store");
        assertThat(unbounded.properties().getProperty("socketTimeout")).as("no bound on a login: none added").isNull();
    }

    private static Set<Thread> loginThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(LOGIN_THREAD))
                .collect(Collectors.toSet());
    }
}
