package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConnection;

/** How the store's SQLite connections are set up, on a real database file. */
class SqliteConnectionsTest {

    @TempDir
    Path dir;

    @Test
    void noConnectionRunsAnExtraQueryForGeneratedKeysAfterEveryInsert() throws Exception {
        // sqlite-jdbc's default compiles and runs "SELECT last_insert_rowid()" after each INSERT,
        // on the writer thread every accept waits for; nothing in the store reads generated keys.
        try (Database db = Database.open(StoreConfig.sqlite(dir))) {
            for (DataSource source : new DataSource[] {db.dataSource(), db.schedulerDataSource()}) {
                try (Connection c = source.getConnection()) {
                    assertThat(c.unwrap(SQLiteConnection.class).getConnectionConfig().isGetGeneratedKeys())
                            .isFalse();
                }
            }
        }
    }

    @Test
    void readersCompileAStatementOncePerConnectionAndStillSeeEveryCommittedWrite() throws Exception {
        String count = "SELECT COUNT(*) FROM reader_probe";
        try (Database db = Database.open(StoreConfig.sqlite(dir))) {
            db.inTransaction("make a table", c -> {
                try (var p = c.prepareStatement("CREATE TABLE reader_probe (id INTEGER PRIMARY KEY, at INTEGER)")) {
                    p.execute();
                }
                return null;
            });
            List<PreparedStatement> compiled = new ArrayList<>();
            for (int row = 1; row <= 3; row++) {
                int id = row;
                db.inTransaction("add a row", c -> {
                    try (var p = c.prepareStatement("INSERT INTO reader_probe (id, at) VALUES (?, 0)")) {
                        p.setInt(1, id);
                        p.executeUpdate();
                    }
                    return null;
                });
                // A statement kept from the read before must not read the snapshot of that read.
                int seen = db.read("count", c -> {
                    try (PreparedStatement p = c.prepareStatement(count); ResultSet rs = p.executeQuery()) {
                        compiled.add(p);
                        rs.next();
                        return rs.getInt(1);
                    }
                });
                assertThat(seen).isEqualTo(row);
            }
            // One thread gets the same pooled connection back each time (HikariCP's thread-local list).
            assertThat(compiled).hasSize(3).allSatisfy(p -> assertThat(p).isSameAs(compiled.get(0)));
        }
    }
}
