package org.buildhook.runner.engine;

import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's timeout ends its processes even while the store cannot take what the attempt came to at
 * once (review10, M4: on PostgreSQL that write ran on the launcher's one timer thread before the
 * signals, so a store that made it wait held back this job's SIGTERM, and every other job's timeout
 * and kill steps, for as long as the write waited). The store is made to wait by taking every
 * connection of db-scheduler's pool, where that write runs, with a connection wait of 10 minutes.
 */
class PostgresDecisionWriteTest {

    @TempDir
    Path dir;

    @Test
    void aTimeoutEndsTheProcessesWhileTheStoreMakesItsWriteWait() throws Exception {
        StoreConfig base = TestStores.postgres(dir.resolve("data"));
        StoreConfig slow = new StoreConfig(base.url(), base.dataDir(), base.dedupWindow(), base.retention(),
                base.retentionInterval(), base.retentionBatch(), 2, Duration.ofMinutes(10), base.clock());
        try (Store store = Store.open(slow);
                CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")))) {
            JobEngine engine = JobEngine.create(store, launcher, AbstractEngineTest.steady("decisions-node"));
            engine.start();
            Connection first = null;
            Connection second = null;
            try {
                PlannedJob job = new PlannedJob("slow", "name: slow", List.of("/bin/sleep", "613"), Map.of(), null, false,
                        Duration.ofSeconds(3), 0, Duration.ofMillis(100), 0, null);
                store.accept(Plans.delivery(Plans.fixture()), List.of(job));
                await().atMost(Duration.ofMinutes(1)).until(PostgresDecisionWriteTest::sleeping);
                // Every connection of db-scheduler's pool, where the write of what the attempt came to runs.
                first = store.schedulerDataSource().getConnection();
                second = store.schedulerDataSource().getConnection();

                // The timeout (3 s) fires: SIGTERM ends the sleep, whatever the write waits for.
                await().atMost(Duration.ofMinutes(1)).until(() -> !sleeping());
            } finally {
                if (first != null) {
                    first.close();
                }
                if (second != null) {
                    second.close();
                }
                engine.stop();
            }
        }
    }

    private static boolean sleeping() {
        return ProcessHandle.current().descendants().anyMatch(p -> p.info().arguments()
                .map(a -> a.length == 1 && a[0].equals("613")).orElse(false));
    }
}
