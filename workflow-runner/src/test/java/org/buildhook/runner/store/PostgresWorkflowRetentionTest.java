package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresWorkflowRetentionTest extends AbstractWorkflowRetentionTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }
}
