package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

class PostgresEngineTest extends AbstractEngineTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @Override
    List<String> refuseASuccessNotKept() {
        return List.of("CREATE FUNCTION refuse_a_success() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " IF NEW.state = 'SUCCEEDED' AND (SELECT decided FROM job_attempts WHERE job_id = NEW.id AND attempt"
                + " = NEW.attempts) IS NULL THEN RAISE EXCEPTION 'refused by a trigger of the test'; END IF;"
                + " RETURN NEW; END $$",
                "CREATE TRIGGER refuse_a_success BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION"
                        + " refuse_a_success()");
    }

    @Override
    List<String> refuseTheRecordAndTheKeepWhileRefusing() {
        return List.of("CREATE TABLE test_refusing (refusing int)", "INSERT INTO test_refusing VALUES (1)",
                "CREATE FUNCTION refuse_the_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " IF NEW.state = 'SUCCEEDED' AND EXISTS (SELECT 1 FROM test_refusing) THEN"
                        + " RAISE EXCEPTION 'the record refused by a trigger of the test'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_the_record BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION"
                        + " refuse_the_record()",
                "CREATE FUNCTION refuse_the_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " IF NEW.decided IS NOT NULL AND OLD.decided IS NULL AND EXISTS (SELECT 1 FROM test_refusing)"
                        + " THEN RAISE EXCEPTION 'the keep refused by a trigger of the test'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_the_keep BEFORE UPDATE ON job_attempts FOR EACH ROW EXECUTE FUNCTION"
                        + " refuse_the_keep()");
    }

    /**
     * review51 E1: PostgreSQL ends the record of an attempt's outcome, after its command ran, with an error that is no
     * outage: a {@code statement_timeout} (57014, which store.url may set), a deadlock (40P01) or a serialization
     * failure (40001), each rolled back whole. Before, the failure went to db-scheduler's retry and the command ran
     * again 10 s later (attempt 1 recorded INTERRUPTED "the store lost that record"); now the record is tried again
     * as after an outage, and the command ran once.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"query_canceled", "deadlock_detected",
            "serialization_failure"})
    void anOutcomesRecordPostgresEndsIsTriedAgainAndTheCommandRunsOnce(String errcode) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(storeConfig.url());
                java.sql.Statement s = c.createStatement()) {
            s.execute("CREATE SEQUENCE end_once");
            s.execute("CREATE FUNCTION end_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF NEW.state = 'SUCCEEDED' AND nextval('end_once') = 1 THEN"
                    + " RAISE EXCEPTION 'ended by the test as PostgreSQL ends it' USING ERRCODE = '" + errcode
                    + "'; END IF; RETURN NEW; END $$");
            s.execute("CREATE TRIGGER end_once BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION end_once()");
        }
        Path runs = dir.resolve("runs");
        Path s = script("count.sh", "echo ran >> " + runs);
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy",
                List.of("/bin/sh", s.toString()), Map.of(), 0, Duration.ofMillis(100), 0))).jobIds().get(0);

        JobDetail done = awaitFinal(jobId);

        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("ran");
        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
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

    /**
     * tryout17 F3, the cluster case: a node whose data folder cannot be written leaves the job to a node
     * that can, which runs it once. Before, the first node ended it FAILED_TO_START: with no retry left,
     * the job was lost to a node's disk (and a retry another node had left was used up the same way).
     */
    @Test
    void aJobANodeCannotWriteThePayloadOfRunsOnceOnANodeThatCan() throws Exception {
        Path payloads = store.payloadFile("01M8R34A10TKT36H0ZVN66JH5T").getParent();
        Files.createDirectories(payloads.getParent());
        if (Files.isDirectory(payloads)) {
            try (var files = Files.list(payloads)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(payloads);
        }
        Files.writeString(payloads, "not a folder");
        Path runs = dir.resolve("runs");
        Path s = script("count.sh", "echo ran >> " + runs);
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy",
                List.of("/bin/sh", s.toString()), Map.of(), 0, Duration.ofMillis(100), 0))).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> engine.jobsPaused().isPresent()
                && store.job(jobId).orElseThrow().job().state() == JobState.QUEUED);

        // A second node: the same database, a data folder of its own.
        try (Store other = Store.open(StoreConfig.of(storeConfig.url(), dir.resolve("data-b"))
                .withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO))) {
            JobEngine second = JobEngine.create(other, launcher(), steady("node-b"));
            second.start();
            try {
                JobDetail done = awaitFinal(jobId);
                assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
                assertThat(done.attempts()).extracting(JobAttempt::outcome)
                        .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED);
                assertThat(done.attempts()).extracting(JobAttempt::node).containsExactly("node-a", "node-b");
                assertThat(Files.readAllLines(runs)).containsExactly("ran");
                assertThat(engine.jobsPaused()).isPresent();
                assertThat(second.jobsPaused()).isEmpty();
            } finally {
                second.stop();
            }
        }
    }
}
