package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteStoreTest extends AbstractStoreTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Override
    String unreachableUrl(Path dir) {
        // A folder where the database file should be: SQLite cannot open it.
        return "jdbc:sqlite:" + dir.toAbsolutePath();
    }
}
