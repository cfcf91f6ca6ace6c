package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteLimitChangeWhileRunningTest extends AbstractLimitChangeWhileRunningTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
