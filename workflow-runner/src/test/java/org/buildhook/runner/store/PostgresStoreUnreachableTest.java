package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL store that cannot be reached when buildhook starts is said with where (the URL
 * without its parameters) and the driver's own reason, never the password, rather than the pool's
 * "Connection is not available, request timed out".
 */
class PostgresStoreUnreachableTest {

    @TempDir
    Path dir;

    @Test
    void aRefusedConnectionAtOpenNamesTheServerAndWhatToCheckNeverThePassword() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort(); // nothing listens there once it is closed
        }
        StoreConfig config = StoreConfig.of("jdbc:postgresql://127.0.0.1:" + port
                + "/buildhook?user=buildhook&password=TopSecret-0xC0FFEE&connectTimeout=5", dir);

        assertThatThrownBy(() -> Store.open(config).close())
                .isInstanceOf(StoreUnavailableException.class)
                .satisfies(e -> assertThat(e.getMessage())
                        .contains("cannot connect to the PostgreSQL store jdbc:postgresql://127.0.0.1:" + port
                                + "/buildhook?(parameters hidden)")
                        .contains("127.0.0.1:" + port + " refused")
                        .contains("store.url, store.user and store.password")
                        .doesNotContain("TopSecret").doesNotContain("Connection is not available"));
    }

    /**
     * A PostgreSQL that accepts the connection and then does not answer in time (here never: a {@link
     * PgFront} that forwards nothing) stands for a first connection that takes longer than the wait, as a
     * packed WAR's on a busy host did with PostgreSQL up (review17): the start says what timed out, after
     * how long and which key raises it, before "check that PostgreSQL runs" (store18: it said only
     * "Connection is not available, request timed out after 5067ms …; check that PostgreSQL runs"). The
     * start's first connection is bounded as a whole by the key (the driver's login timeout), fractions too.
     */
    @Test
    void aFirstConnectionNotMadeWithinTheConnectTimeoutNamesTheKeyBeforeSayingToCheckPostgres() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.freeze();
            StoreConfig config = StoreConfig.of(front.url(url), dir)
                    .withConnectTimeout(Duration.ofMillis(300));

            assertThatThrownBy(() -> Store.open(config).close())
                    .isInstanceOf(StoreUnavailableException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .startsWith("cannot connect to the PostgreSQL store jdbc:postgresql://127.0.0.1:")
                            .contains(": no connection was made within store.connect-timeout (300ms), and none was"
                                    + " refused")
                            .contains("raise store.connect-timeout (for example to 30s). Otherwise check the host"
                                    + " and port in store.url")
                            .contains("and that PostgreSQL runs and accepts connections there")
                            .doesNotContain("Connection is not available").doesNotContain("buildhook?user"));
        }
    }

    /**
     * tryout19 F4: with store.url at a port where something that is not PostgreSQL listens and never
     * answers (a web server waits for a request line of its own), the start waited twice
     * store.connect-timeout (the pool's wait, then its close waiting for the attempt in flight) while it
     * named the key once, and a standalone start was told about Tomcat. Now the whole attempt is bounded
     * by the key: the start's own first connection waits it out once and ends the start, and no pool is
     * made, whose wait and whose close were the second wait. Read from the log, not timed: a wall-time bound
     * between one and two waits of 3 s is one a busy machine can break (review20 R2).
     */
    @Test
    void aServerThatNeverAnswersEndsTheStartWithinTheKeyNotTwiceIt() throws Exception {
        Duration key = Duration.ofSeconds(3);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        Logger store = (Logger) LoggerFactory.getLogger(Store.class);
        Logger hikari = (Logger) LoggerFactory.getLogger("com.zaxxer.hikari");
        Level storeWas = store.getLevel();
        Level hikariWas = hikari.getLevel();
        log.start();
        store.addAppender(log);
        hikari.addAppender(log);
        store.setLevel(Level.DEBUG);
        hikari.setLevel(Level.DEBUG); // a pool made says so at DEBUG (its configuration) and INFO (its start)
        try (SilentServer web = new SilentServer()) {
            StoreConfig config = StoreConfig.of("jdbc:postgresql://127.0.0.1:" + web.port()
                    + "/buildhook?user=buildhook&password=TopSecret-0xC0FFEE", dir).withConnectTimeout(key);

            assertThatThrownBy(() -> Store.open(config).close())
                    .isInstanceOf(StoreUnavailableException.class)
                    .satisfies(e -> assertThat(e.getMessage())
                            .contains("no connection was made within store.connect-timeout (3s), and none was refused")
                            .contains("check the host and port in store.url (what listens there may not be PostgreSQL")
                            .doesNotContain("Tomcat").doesNotContain("TopSecret"));

            assertThat(log.list).as("what ended the start: its first connection's one wait")
                    .anyMatch(e -> e.getLoggerName().equals(Store.class.getName()) && e.getFormattedMessage()
                            .equals("the PostgreSQL store's first connection was neither made nor refused in time"));
            assertThat(log.list).as("no pool was made, whose wait and close were the second wait")
                    .noneMatch(e -> e.getLoggerName().startsWith("com.zaxxer.hikari"));
            assertThat(web.accepted()).as("connections the server saw").isEqualTo(1);
        } finally {
            store.detachAppender(log);
            hikari.detachAppender(log);
            store.setLevel(storeWas);
            hikari.setLevel(hikariWas);
        }
    }

    /**
     * start19 (left): a wrong password, which waiting cannot mend, was said only once HikariCP had waited
     * out its whole connection timeout. Against the real PostgreSQL with a key of 2 minutes the start now
     * refuses at once, with PostgreSQL's reason: under half the key, a margin of a minute over what takes
     * well under a second, which only a wait for the key can break, not a busy machine (review20 R2).
     */
    @Test
    void aWrongPasswordEndsTheStartAtOnceNotAfterTheKey() {
        String url = TestStores.postgresUrl();
        String wrong = url.replaceFirst("password=[^&]*", "password=Wrong-0xBAD");
        assertThat(wrong).as("the test URL carries a password").isNotEqualTo(url);
        Duration key = Duration.ofMinutes(2);
        StoreConfig config = StoreConfig.of(wrong, dir).withConnectTimeout(key);
        long start = System.nanoTime();

        assertThatThrownBy(() -> Store.open(config).close())
                .isInstanceOf(StoreUnavailableException.class)
                .satisfies(e -> assertThat(e.getMessage())
                        .contains("password authentication failed for user")
                        // PostgreSQL answered: advice about the login, not "check that PostgreSQL runs" (tryout20 F4)
                        .contains("; PostgreSQL answered there and refused the login: check store.user and"
                                + " store.password")
                        .doesNotContain("check that PostgreSQL runs")
                        .doesNotContain("Wrong-0xBAD"));
        // buildhook check says the same (StoreReachability)
        assertThat(StoreReachability.whyUnreachable(config)).get().asString()
                .contains("PostgreSQL answered there and refused the login").doesNotContain("check that PostgreSQL runs");
        Duration waited = Duration.ofNanos(System.nanoTime() - start);

        assertThat(waited).as("the start's wait for a refusal that waiting cannot mend").isLessThan(key.dividedBy(2));
    }

    /**
     * review20: PgBouncer answers a login it cannot serve at the moment ("pgbouncer cannot connect to server"
     * while PostgreSQL restarts behind it, "no more connections allowed (max_client_conn)", "server login has
     * been failing, try again later") in PostgreSQL's own protocol, with SQLSTATE 08P01. The start's first
     * connection took that for a server that is not PostgreSQL and ended the start at once, saying so; it is
     * left to the pool, which tries again within store.connect-timeout as it did before the first connection
     * was made apart: here the next login goes through.
     */
    @Test
    void aLoginAPoolerCannotServeYetIsTriedAgainNotTakenForAServerThatIsNotPostgres() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.refuseNextConnections(1, "08P01", "pgbouncer cannot connect to server");
            StoreConfig config = StoreConfig.of(front.url(url), dir).withConnectTimeout(Duration.ofSeconds(30));

            try (Store store = Store.open(config)) {
                assertThat(store.health()).isEqualTo(StoreHealth.OK);
            }
            assertThat(front.refused()).as("logins the pooler refused").isEqualTo(1);
        }
    }

    /**
     * review20: what a pooler says in PostgreSQL's protocol (08P01 from PgBouncer) is given as its reason,
     * without the hint that what answers may not be PostgreSQL, which sent the operator after the host and port.
     */
    @Test
    void aPoolersRefusalIsNotSaidToComeFromSomethingThatIsNotPostgres() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.refuseNewConnections("08P01", "pgbouncer cannot connect to server");
            StoreConfig config = StoreConfig.of(front.url(url), dir).withConnectTimeout(Duration.ofSeconds(5));

            assertThat(StoreReachability.whyUnreachable(config)).hasValueSatisfying(why -> assertThat(why)
                    .contains("pgbouncer cannot connect to server").doesNotContain("may not be PostgreSQL"));
        }
    }
}
