package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.RefusedStoredJobs;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout42 F7: before an upgrade, {@code check} of the new build said of the store only its schema version, though it
 * held jobs the old build stored of rules the new one refuses, which then ran their payload's text as shell code. It
 * names them now (the first ones, and how many more), why and what to do, reading the store only; jobs of rules it
 * plans are not named. The real {@code check}, a store written through the store's API as the old build wrote it; on
 * SQLite and PostgreSQL (needs {@code BUILDHOOK_TEST_PG_URL}).
 */
class CheckStoredJobsOfRefusedRulesTest {

    @org.junit.jupiter.api.io.TempDir
    Path dir;

    private static PlannedJob job(String rule, String code, long build) {
        String snapshot = "{\"name\":\"" + rule + "\",\"run\":{\"command\":[\"/bin/bash\",\"-c\",\""
                + code.replace("\"", "\\\"") + "\"]}}";
        return new PlannedJob(rule, snapshot, List.of("/bin/bash", "-c", code), Map.of(), null, true,
                Duration.ofMinutes(1), 0, Duration.ofSeconds(1), 0, null,
                new JobWorkflow(build, null, false, null, Map.of(), Map.of(), null, null, 0));
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void checkNamesTheStoredJobsOfRulesThisBuildRefusesAndWhatToDo(boolean postgres) throws Exception {
        TestSchema pg = postgres ? TestSchema.create("refusedjobs_") : null;
        try {
            Path data = dir.resolve("data");
            Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: deploy\n"
                    + "    run: {command: [/bin/bash, -c, 'echo \"$BUILDHOOK_TRIGGER\"']}\n");
            Path config = CheckRun.config(dir, data, "rules: " + dir.resolve("rules.yaml") + "\n"
                    + (pg == null ? "" : "store: {url: '" + pg.storeUrl + "'}\n"));
            List<PlannedJob> jobs = new ArrayList<>();
            for (int i = 0; i < RefusedStoredJobs.NAMED + 2; i++) {
                jobs.add(job("deploy", "sleep 1; echo \"deployed ${build.trigger}\"", 67));
            }
            jobs.add(job("fine", "echo \"$BUILDHOOK_TRIGGER\"", 67));
            List<String> ids;
            String delivery;
            try (Store old = Store.open(StoreConfig.of(pg == null ? "jdbc:sqlite:" + data.resolve("buildhook.db")
                    : pg.storeUrl, data))) {
                var stored = old.accept(new NewDelivery("default", Instant.now(), "127.0.0.1", Map.of(),
                        "{}".getBytes(StandardCharsets.UTF_8)), new DeliverySummary(67L, "PASSED", "andy-corp/lmp", "andy-corp", "y"), jobs);
                ids = stored.jobIds();
                delivery = stored.deliveryId();
            }
            CheckRun run = new CheckRun();

            assertThat(run.check(config)).as(run.err.toString()).isEqualTo(ExitCodes.OK);

            assertThat(run.out.toString()).contains(config + ": warning: 12 stored job(s) not ended are of rules as"
                    + " stored that this build refuses (planned by an older buildhook, or by a node of one): job "
                    + ids.get(0) + " of rule 'deploy' (QUEUED, delivery " + delivery + "), job " + ids.get(1))
                    .contains("job " + ids.get(9) + " of rule 'deploy' (QUEUED, delivery " + delivery + ") and 2 more")
                    .contains(". Why: rule 'deploy': run.command element 3: placeholder '${build.trigger}' in shell"
                            + " code")
                    .contains("each is cancelled when a node of this build picks it")
                    .contains("buildhook replay DELIVERY --rule NAME")
                    .contains("drain or cancel them there first (docs/deploying.md#upgrading)")
                    .doesNotContain(ids.get(10)).doesNotContain("'fine'");
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }
}
