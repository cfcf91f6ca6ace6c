package org.buildhook.runner.store;

import java.nio.file.Path;

class SqliteRenamedSlotsTest extends AbstractRenamedSlotsTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }
}
