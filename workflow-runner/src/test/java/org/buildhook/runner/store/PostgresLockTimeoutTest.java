package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL: the sessions of the pools whose waits an answer depends on wait for a lock at most {@code
 * store.connect-timeout} ({@code lock_timeout}; tryout25 F1), unless {@code store.url} says otherwise; and a pool
 * of jobs that gives no connection while the deliveries' does is "degraded", not a store that refuses deliveries
 * (tryout25 F2).
 */
class PostgresLockTimeoutTest {

    @TempDir
    Path dir;

    @Test
    void theDeliveryAndSchedulerSessionsWaitForALockAtMostTheConnectionWaitUnlessTheUrlSaysOtherwise() throws Exception {
        Duration wait = Duration.ofMillis(1500);
        try (Database db = Database.open(TestStores.postgres(dir).withConnectTimeout(wait))) {
            assertThat(lockTimeout(db.dataSource().getConnection())).isEqualTo("1500ms");
            assertThat(lockTimeout(db.schedulerDataSource().getConnection())).isEqualTo("1500ms");
            assertThat(lockTimeout(db.nodeLockDataSource().getConnection())).as("the node id's session").isEqualTo("0");
        }
        String url = TestStores.postgresUrl() + "&options=-c%20lock_timeout%3D0";
        try (Database db = Database.open(StoreConfig.of(url, dir).withConnectTimeout(wait))) {
            assertThat(lockTimeout(db.dataSource().getConnection())).as("store.url's wins").isEqualTo("0");
            assertThat(lockTimeout(db.schedulerDataSource().getConnection())).as("store.url's wins").isEqualTo("0");
        }
    }

    @Test
    void onlyTheJobsPoolGivingNoConnectionIsDegradedNotADeliveryRefusal() throws Exception {
        try (Database db = Database.open(TestStores.postgres(dir).withPoolSize(2)
                .withConnectTimeout(Duration.ofMillis(500)))) {
            List<Connection> taken = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                taken.add(db.schedulerDataSource().getConnection());
            }
            assertThatThrownBy(() -> db.schedulerDataSource().getConnection().close()).as("a wait that ends empty")
                    .isInstanceOf(java.sql.SQLException.class);

            assertThat(db.starvedReport()).as("/healthz: deliveries are still stored").isNull();
            assertThat(db.jobsOnlyTrouble()).as("/healthz's degraded reason")
                    .startsWith("the store gives this node no connection: its connection pool buildhook-scheduler");
            assertThat(db.trouble()).hasValueSatisfying(t -> assertThat(t.deliveriesRefused()).isFalse());

            for (Connection c : taken) {
                c.close();
            }
            assertThat(db.jobsOnlyTrouble()).as("an idle connection again").isNull();
        }
    }

    /**
     * A {@code lock_timeout} or {@code statement_timeout} in store.url's {@code options} lengthens the looks' bound on
     * each answer by as much (review47 F4); none, or {@code 0} (no limit), leaves it as it is.
     */
    @Test
    void aTimeoutInTheUrlLengthensTheAnswersBoundsByAsMuch() {
        String base = "jdbc:postgresql://db.example/buildhook?user=buildhook";
        assertThat(Database.urlTimeout(base)).isZero();
        assertThat(Database.urlTimeout(base + "&options=-c%20lock_timeout%3D45s")).isEqualTo(Duration.ofSeconds(45));
        assertThat(Database.urlTimeout(base + "&options=-c lock_timeout=2min -c statement_timeout=90000"))
                .as("the longest; a number alone in ms").isEqualTo(Duration.ofMinutes(2));
        assertThat(Database.urlTimeout(base + "&options=-cstatement_timeout%3D3h")).isEqualTo(Duration.ofHours(3));
        assertThat(Database.urlTimeout(base + "&options=-c LOCK_TIMEOUT=2min")).as("any case (review48 F2)")
                .isEqualTo(Duration.ofMinutes(2));
        assertThat(Database.urlTimeout(base + "&options=--lock-timeout=1.5min")).as("dashes, a fraction (review48 F2)")
                .isEqualTo(Duration.ofSeconds(90));
        assertThat(Database.urlTimeout(base + "&options=-c statement_timeout=2.5s")).isEqualTo(Duration.ofMillis(2500));
        assertThat(Database.urlTimeout(base + "&options=-c%20lock_timeout%3D0")).as("no limit: capped").isZero();
        assertThat(Database.urlTimeout(base + "&options=-c%20idle_session_timeout%3D1h")).isZero();
        assertThat(Database.urlTimeout("jdbc:sqlite:/var/lib/buildhook/buildhook.db")).isZero();
    }

    /**
     * store.url's {@code options} read as pgJDBC reads them, which is what PostgreSQL gets: the parameter's name as the
     * driver spells it, the last of several. {@code OPTIONS=-c statement_timeout=3h} is not passed on (the session
     * keeps its own), yet lengthened every look's bound on an answer by 3 h (a frozen server held a request thread 3 h
     * past the 30 s); of two {@code options}, PostgreSQL gets the second, yet the longer of both was taken.
     */
    @Test
    void theUrlsOptionsAreReadAsTheDriverPassesThemOn() throws Exception {
        String url = TestStores.postgresUrl();
        String upper = url + "&OPTIONS=-c%20statement_timeout%3D3h";
        try (Connection c = java.sql.DriverManager.getConnection(upper); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SHOW statement_timeout")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).as("what PostgreSQL got").isNotEqualTo("3h");
        }
        assertThat(Database.urlTimeout(upper)).isZero();

        String twice = url + "&options=-c%20lock_timeout%3D2min&options=-c%20lock_timeout%3D45s";
        try (Connection c = java.sql.DriverManager.getConnection(twice); Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SHOW lock_timeout")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).as("what PostgreSQL got").isEqualTo("45s");
        }
        assertThat(Database.urlTimeout(twice)).isEqualTo(Duration.ofSeconds(45));
    }

    /**
     * A {@code lock_timeout} in store.url above the bound on an answer (45 s against 30 s): a statement waiting for a
     * table lock another session holds (a nightly {@code VACUUM FULL}) ends as PostgreSQL ends it, {@code 55P03} after
     * the URL's 45 s, answered as a table lock; before, the connection's socket was closed at the bound's 30 s, a cut
     * connection "not answered in time", the backend left queued for the lock (review47 F4: configuration.md's "a
     * lock_timeout in store.url wins" was untrue past the bound). The accept's bound stays 20 s and db-scheduler's 30
     * s (review48 F1, F10).
     */
    @Test
    void aLockTimeoutInTheUrlAboveTheBoundEndsTheWaitAsPostgresEndsIt() throws Exception {
        String url = TestStores.postgresUrl() + "&options=-c%20lock_timeout%3D45s";
        try (Database db = Database.open(StoreConfig.of(url, dir));
                Connection holder = java.sql.DriverManager.getConnection(url)) {
            assertThat(db.lookBound()).isEqualTo(Duration.ofSeconds(30 + 45));
            assertThat(db.senderBound()).as("the accept's: its 503 before the sender's 30 s (review48 F1)")
                    .isEqualTo(Duration.ofSeconds(20));
            try (Connection c = db.schedulerDataSourceForScheduler().getConnection()) {
                assertThat(c.getNetworkTimeout()).as("db-scheduler's heartbeats and polling: 30 s, well before the"
                        + " node fences itself (review48 F10)").isEqualTo(30_000);
            }
            try (Statement s = holder.createStatement()) {
                s.execute("CREATE TABLE maintained (x int)");
                holder.setAutoCommit(false);
                s.execute("LOCK TABLE maintained IN ACCESS EXCLUSIVE MODE");
            }
            assertThatThrownBy(() -> StopWaits.answersWithin(db.lookBound(), () -> db.read("count the rows",
                    c -> {
                        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                                "SELECT count(*) FROM maintained")) {
                            rs.next();
                            return rs.getInt(1);
                        }
                    })))
                    .isInstanceOf(StoreUnavailableException.class)
                    .satisfies(e -> assertThat(StoreUnavailableException.unanswered(e)).as("not a cut connection: "
                            + e.getMessage()).isFalse())
                    .cause().isInstanceOf(java.sql.SQLException.class)
                    .satisfies(c -> assertThat(((java.sql.SQLException) c).getSQLState()).isEqualTo("55P03"));
            holder.rollback();
        }
    }

    private static String lockTimeout(Connection c) throws Exception {
        try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW lock_timeout")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
