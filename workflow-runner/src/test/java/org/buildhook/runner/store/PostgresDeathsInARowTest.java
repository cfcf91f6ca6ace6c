package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresDeathsInARowTest extends AbstractDeathsInARowTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
