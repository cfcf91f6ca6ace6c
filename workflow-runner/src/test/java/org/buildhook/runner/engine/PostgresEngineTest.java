package org.buildhook.runner.engine;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

class PostgresEngineTest extends AbstractEngineTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    /**
     * A queued job starts as soon as one of the node's threads is free, not once half of them are
     * (db-scheduler's default lower limit): here the poll interval is an hour and nothing else wakes
     * the node, so before, the fifth job waited for a second of the four holding jobs to end.
     */
    @Test
    void aQueuedJobStartsWhenOneThreadIsFreeNotWhenHalfOfThemAre() throws Exception {
        engine.stop();
        engine = JobEngine.create(store, launcher(), fast("node-a").withTimings(Duration.ofHours(1),
                Duration.ofMillis(200), 4));
        engine.start();
        List<Path> gates = new ArrayList<>();
        List<Path> started = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Path gate = dir.resolve("gate" + i);
                Path start = dir.resolve("started" + i);
                Path s = script("hold" + i + ".sh", "touch " + start + "\nwhile [ ! -f " + gate + " ]; do [ -d "
                        + gate.getParent() + " ] || exit 1; sleep 0.05; done");
                gates.add(gate);
                started.add(start);
                // Far longer than the wait below: no holding job ends by its timeout meanwhile.
                store.accept(Plans.delivery("{\"build_id\": " + i + "}"), List.of(new PlannedJob("hold", "name: hold",
                        List.of("/bin/sh", s.toString()), Map.of(), null, false, Duration.ofMinutes(10), 0,
                        Duration.ofMillis(100), 0, null)));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> started.stream().allMatch(Files::exists));
            Path ran = dir.resolve("ran");
            store.accept(Plans.delivery("{\"build_id\": 99}"),
                    List.of(Plans.job("next", List.of("/usr/bin/touch", ran.toString()))));

            Files.createFile(gates.get(0));

            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(ran));
        } finally {
            for (Path gate : gates) {
                if (!Files.exists(gate)) {
                    Files.createFile(gate);
                }
            }
        }
    }
}
