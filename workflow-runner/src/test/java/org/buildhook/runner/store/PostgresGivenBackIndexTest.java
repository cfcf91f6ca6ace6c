package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresGivenBackIndexTest extends AbstractGivenBackIndexTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
