package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteGivenBackIndexTest extends AbstractGivenBackIndexTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
