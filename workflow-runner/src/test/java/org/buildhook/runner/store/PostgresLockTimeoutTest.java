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

    private static String lockTimeout(Connection c) throws Exception {
        try (c; Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW lock_timeout")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
