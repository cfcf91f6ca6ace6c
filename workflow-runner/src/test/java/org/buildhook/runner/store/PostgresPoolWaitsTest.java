package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * final18 F7: with {@code store.connect-timeout: 2s}, a wait for a connection of the scheduler's pool still
 * took 5 s ("buildhook-scheduler - Connection is not available, request timed out after 5003ms"): HikariCP
 * tests a connection idle for over half a second before it hands it out, for up to its validationTimeout,
 * 5 s by default, which the connection wait did not bound. Every pool of the store now tests a connection
 * for at most its connection wait.
 */
class PostgresPoolWaitsTest {

    @TempDir
    Path dir;

    @Test
    void noPoolTestsAConnectionLongerThanStoreConnectTimeout() {
        Duration wait = Duration.ofSeconds(2);
        try (Database db = Database.open(TestStores.postgres(dir).withConnectTimeout(wait))) {
            List<DataSource> pools = List.of(db.dataSource(), db.schedulerDataSource(), db.nodeLockDataSource());
            for (DataSource pool : pools) {
                HikariDataSource hikari = (HikariDataSource) pool;
                assertThat(hikari.getConnectionTimeout()).as(hikari.getPoolName()).isEqualTo(wait.toMillis());
                assertThat(hikari.getValidationTimeout()).as(hikari.getPoolName()).isLessThanOrEqualTo(wait.toMillis());
            }
        }
    }

    @Test
    void aLongerWaitKeepsHikarisOwnTestOfFiveSeconds() {
        assertThat(Database.validationTimeout(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(5));
        assertThat(Database.validationTimeout(Duration.ofMillis(250))).isEqualTo(Duration.ofMillis(250));
    }
}
