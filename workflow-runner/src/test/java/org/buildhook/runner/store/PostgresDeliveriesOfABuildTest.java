package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresDeliveriesOfABuildTest extends AbstractDeliveriesOfABuildTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
