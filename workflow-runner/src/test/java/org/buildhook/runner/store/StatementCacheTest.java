package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

class StatementCacheTest {

    @TempDir
    Path dir;

    @Test
    void aStatementIsCompiledOnceAndItsParametersAreClearedWhenClosed() throws SQLException {
        SQLiteDataSource source = new SQLiteDataSource();
        source.setUrl("jdbc:sqlite:" + dir.resolve("c.db"));
        Connection raw = source.getConnection();
        try (StatementCache cache = new StatementCache(raw)) {
            Connection c = cache.connection();
            try (PreparedStatement p = c.prepareStatement("CREATE TABLE t (v TEXT)")) {
                p.execute();
            }
            PreparedStatement first;
            try (PreparedStatement p = c.prepareStatement("INSERT INTO t VALUES (?)")) {
                p.setString(1, "a");
                p.executeUpdate();
                first = p;
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO t VALUES (?)")) {
                assertThat(p).isSameAs(first);
                assertThat(p.isClosed()).isFalse();
                p.executeUpdate(); // parameters were cleared at close: NULL, not "a" again
            }
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*), COUNT(v) FROM t");
                    ResultSet rs = p.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
                assertThat(rs.getInt(2)).isEqualTo(1);
            }
            c.close();
            assertThat(raw.isClosed()).as("the cache owns the connection").isFalse();
        }
        assertThat(raw.isClosed()).isTrue();
    }
}
