package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteSupersedeTurnTest extends AbstractSupersedeTurnTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
