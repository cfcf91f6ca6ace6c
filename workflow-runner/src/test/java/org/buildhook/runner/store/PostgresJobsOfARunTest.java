package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresJobsOfARunTest extends AbstractJobsOfARunTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
