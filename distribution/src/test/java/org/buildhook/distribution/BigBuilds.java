package org.buildhook.distribution;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.Store;

/**
 * A busy factory's page (page26's M item): {@code deliveries} builds of {@code jobsEach} {@code match: each}
 * jobs, stored through the store directly (running 5,000 jobs would take minutes). Each build has 2 jobs
 * awaiting an approval (which never runs by itself within the test: it expires in a day), 3 failed and the
 * rest succeeded, as a finished build leaves them; the states are set in the SQLite file, as the jobs would
 * have ended.
 */
final class BigBuilds {

    static final int AWAITING = 2;
    static final int FAILED = 3;

    private BigBuilds() {
    }

    /** Stores the builds; returns their delivery ids, oldest first. */
    static List<String> store(Store store, Path dataDir, int deliveries, int jobsEach) throws SQLException {
        List<String> ids = new ArrayList<>();
        List<String> awaiting = new ArrayList<>();
        for (int b = 0; b < deliveries; b++) {
            long build = 9000 + b;
            String web = "https://ci.foundries.io/projects/andy-corp/lmp/builds/" + build;
            List<PlannedJob> jobs = new ArrayList<>();
            for (int r = 0; r < jobsEach; r++) {
                String run = "build-run-" + r;
                jobs.add(new PlannedJob("each-run", "name: each-run", List.of("/bin/true", run),
                        Map.of("BUILDHOOK_WEB_URL", web, "BUILDHOOK_RUN_LOG_URL", web + "/runs/" + run + "/console.log"),
                        null, false, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 0, run,
                        new JobWorkflow(build, null, false, Duration.ofDays(1), Map.of(), Map.of(), null, null, 0)));
            }
            String body = "{\"build_id\": " + build + ", \"status\": \"PASSED\", \"web_url\": \"" + web + "\"}";
            var result = store.accept(new NewDelivery("default", Instant.now(), "127.0.0.1",
                    Map.of("Content-Type", "application/json"), body.getBytes(StandardCharsets.UTF_8)),
                    new DeliverySummary(build, "PASSED", "lmp", "andy-corp", "containers-devel"), jobs);
            ids.add(result.deliveryId());
            awaiting.addAll(result.jobIds().subList(0, AWAITING));
            List<String> failed = result.jobIds().subList(AWAITING, AWAITING + FAILED);
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("buildhook.db"));
                    PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = CASE WHEN id IN (?, ?, ?)"
                            + " THEN 'FAILED' ELSE 'SUCCEEDED' END, attempts = 1, started_at = created_at,"
                            + " ended_at = created_at + 61000, message = 'exited with 0' WHERE delivery_id = ?"
                            + " AND state = 'AWAITING_APPROVAL' AND id NOT IN (?, ?)")) {
                p.setString(1, failed.get(0));
                p.setString(2, failed.get(1));
                p.setString(3, failed.get(2));
                p.setString(4, result.deliveryId());
                p.setString(5, result.jobIds().get(0));
                p.setString(6, result.jobIds().get(1));
                p.executeUpdate();
            }
        }
        return ids;
    }
}
