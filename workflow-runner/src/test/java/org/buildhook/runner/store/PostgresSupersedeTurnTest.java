package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresSupersedeTurnTest extends AbstractSupersedeTurnTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
