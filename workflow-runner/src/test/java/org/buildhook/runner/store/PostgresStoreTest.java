package org.buildhook.runner.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

class PostgresStoreTest extends AbstractStoreTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @Override
    String unreachableUrl(Path dir) {
        return "jdbc:postgresql://127.0.0.1:1/nowhere?user=x&password=y&connectTimeout=1";
    }

    /** A PostgreSQL session of this database that waits for a row lock ({@code SELECT ... FOR UPDATE}). */
    @Override
    boolean waitsForLock(Thread thread) throws SQLException {
        try (Connection c = DriverManager.getConnection(config.url());
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND datname = current_database() AND query LIKE '%FOR UPDATE%'")) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }
}
