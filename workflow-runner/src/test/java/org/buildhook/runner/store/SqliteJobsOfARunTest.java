package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteJobsOfARunTest extends AbstractJobsOfARunTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
