package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
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

    /**
     * A kept statement's calls go to the driver's statement directly, not through a reflective proxy (whose
     * every call boxed its arguments into an array and went through {@code Method.invoke}: docs/BENCHMARKS.md,
     * "Twenty-third pass"), and still answer as the driver's: the JDBC 4.2 methods with a default in the
     * interface included, and the statement's connection is the cache's view.
     */
    @Test
    void aKeptStatementCallsTheDriversStatementWithoutReflection() throws SQLException {
        SQLiteDataSource source = new SQLiteDataSource();
        source.setUrl("jdbc:sqlite:" + dir.resolve("d.db"));
        try (StatementCache cache = new StatementCache(source.getConnection())) {
            Connection c = cache.connection();
            try (PreparedStatement p = c.prepareStatement("CREATE TABLE t (n INTEGER, v TEXT)")) {
                p.execute();
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO t VALUES (?, ?)")) {
                assertThat(Proxy.isProxyClass(p.getClass())).as("a proxy's calls are reflective").isFalse();
                assertThat(p.getConnection()).isSameAs(c);
                p.setLong(1, 7);
                p.setString(2, "seven");
                assertThat(p.executeLargeUpdate()).isEqualTo(1);
                assertThat(p.unwrap(org.sqlite.jdbc3.JDBC3PreparedStatement.class)).isNotNull();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT n, v FROM t WHERE n = ?")) {
                p.setInt(1, 7);
                try (ResultSet rs = p.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(2)).isEqualTo("seven");
                }
                assertThat(p.isClosed()).isFalse();
            }
        }
    }
}
