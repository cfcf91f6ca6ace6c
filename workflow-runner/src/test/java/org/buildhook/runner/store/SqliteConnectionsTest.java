package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
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
}
