package org.buildhook.runner.engine;

import java.nio.file.Path;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;

class SqliteEngineTest extends AbstractEngineTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Override
    java.util.List<String> refuseASuccessNotKept() {
        return java.util.List.of("CREATE TRIGGER refuse_a_success BEFORE UPDATE OF state ON jobs FOR EACH ROW WHEN"
                + " NEW.state = 'SUCCEEDED' AND (SELECT decided FROM job_attempts WHERE job_id = NEW.id AND attempt ="
                + " NEW.attempts) IS NULL BEGIN SELECT RAISE(ABORT, 'refused by a trigger of the test'); END");
    }
}
