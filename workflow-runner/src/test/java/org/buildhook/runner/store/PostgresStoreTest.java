package org.buildhook.runner.store;

import java.nio.file.Path;

class PostgresStoreTest extends AbstractStoreTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @Override
    String unreachableUrl(Path dir) {
        return "jdbc:postgresql://127.0.0.1:1/nowhere?user=x&password=y&connectTimeout=1";
    }
}
