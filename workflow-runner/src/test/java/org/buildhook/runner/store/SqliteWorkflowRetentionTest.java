package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteWorkflowRetentionTest extends AbstractWorkflowRetentionTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
