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

    @Override
    java.util.List<String> refuseTheRecordAndTheKeepWhileRefusing() {
        return java.util.List.of("CREATE TABLE test_refusing (refusing INTEGER)",
                "INSERT INTO test_refusing VALUES (1)",
                "CREATE TRIGGER refuse_the_record BEFORE UPDATE OF state ON jobs FOR EACH ROW WHEN NEW.state ="
                        + " 'SUCCEEDED' AND EXISTS (SELECT 1 FROM test_refusing) BEGIN SELECT RAISE(ABORT, 'the record"
                        + " refused by a trigger of the test'); END",
                "CREATE TRIGGER refuse_the_keep BEFORE UPDATE OF decided ON job_attempts FOR EACH ROW WHEN NEW.decided"
                        + " IS NOT NULL AND EXISTS (SELECT 1 FROM test_refusing) BEGIN SELECT RAISE(ABORT, 'the keep"
                        + " refused by a trigger of the test'); END");
    }
}
