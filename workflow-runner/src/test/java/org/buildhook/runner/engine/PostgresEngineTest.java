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
    /**
     * review54 N1 (M): a node's stop kept an outcome the store refuses to record (a trigger, no outage), and the node
     * starts again while the store still refuses it. Each pick of the job by that node handed it back to the queue; a
     * node of another host picked it, found attempt 1 running with nothing recorded of its end, recorded it cut short
     * and ran the command again, though the first node was alive and heart-beating. Started again in a new JVM on its
     * own host, the first node's own sweep ended the attempt as its stop's (with nothing of its end), and the other
     * node ran the job again. Now the job stays picked by the node that holds the outcome, the attempt stays running,
     * and once the store takes the record the job ends from it: the command ran once.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "the other node on another host: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void anOutcomeTheStoreStillRefusesAtTheNextStartIsNotRunAgainByAnotherNode(boolean anotherHost) throws Exception {
        Path runs = dir.resolve("runs");
        String jobId = aRefusedOutcomeOnNodeA(runs);
        engine.stop();
        assertThat(Files.readString(store.config().dataDir().resolve(StopsNotRecorded.FILE_NAME))).contains(jobId);
        if (anotherHost) {
            // node-b cannot read node-a's data folder, nor sweep its attempt.
            update(jobId, "UPDATE job_attempts SET host = 'other-host', boot_id = 'other-boot' WHERE job_id = ?");
        } else {
            // node-a starts again in a new JVM of this host: the attempt's JVM is gone.
            Process gone = new ProcessBuilder("/bin/true").start();
            org.buildhook.runner.exec.ProcessIdentity jvm = org.buildhook.runner.exec.ProcessIdentity.of(gone.pid());
            assertThat(gone.waitFor()).isZero();
            update(jobId, "UPDATE job_attempts SET node_pid = " + gone.pid() + ", node_started = "
                    + (jvm == null ? 7 : jvm.startTicks()) + " WHERE job_id = ?");
        }

        Store storeB = Store.open(StoreConfig.of(storeConfig.url(), dir.resolve("data-b")));
        JobEngine b = null;
        try (LogCapture sweep = new LogCapture(LeftoverSweep.class)) {
            // node-a looks for due jobs every 30 s only: node-b, every 200 ms, was the one to pick the job.
            engine = JobEngine.create(store, launcher(), new EngineConfig("node-a", 4, Duration.ofSeconds(30),
                    Duration.ofMillis(200), 50, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100)));
            engine.start();
            // A dead-node limit of 5 s (node-a's: 10 s).
            b = JobEngine.create(storeB, launcher(), new EngineConfig("node-b", 4, Duration.ofMillis(200),
                    Duration.ofMillis(200), 25, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100)));
            b.start();
            await().during(Duration.ofSeconds(15)).atMost(Duration.ofSeconds(40)).until(() -> Files.readAllLines(runs)
                    .size() == 1 && store.job(jobId).orElseThrow().attempts().stream().map(JobAttempt::outcome)
                            .toList().equals(List.of(AttemptOutcome.RUNNING)));
            assertThat(execution(jobId)).as("held by node-a").isEqualTo("picked by node-a");
            assertThat(sweep.events()).extracting(e -> e.getFormattedMessage()).anySatisfy(m -> assertThat(m)
                    .contains("job " + jobId + " attempt 1: its command exited 0 at ")
                    .contains("the store refuses to record it now (")
                    .contains("the job stays with this node (no other node takes it over while this one runs)"));

            // The store takes the record again.
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(storeConfig.url());
                    java.sql.Statement d = c.createStatement()) {
                d.execute("DELETE FROM test_refusing");
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        } finally {
            if (b != null) {
                b.stop();
            }
            storeB.close();
        }
        JobDetail done = store.job(jobId).orElseThrow();
        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("ran");
        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).extracting(JobAttempt::exitCode).containsExactly(0);
    }

    /**
     * review57a F1 (M): node-a's stop keeps in its data folder an outcome the store refuses to record (a trigger, no
     * outage), and node-b, a node of the same host with a data folder of its own, runs. node-a's graceful stop gave its
     * claim of its id back, and with it the only place node-b reads node-a's data folder from: node-b's sweep found no
     * note there, took the attempt for node-a's death and ran the command again within a second of the stop, though
     * node-a's WARN and the docs leave it to node-a's next start, or the dead-node limit. The claim now stays while the
     * folder holds what the store has not recorded: node-b leaves the attempt, and node-a's next start records it once
     * the store takes it; the command ran once. Both ways: node-b starts after node-a's stop; or node-a, started again,
     * holds the job (review54 N1) with node-b beside it, and is stopped again.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "node-a started again, holding the job, and stopped again: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aStoppedNodesRefusedOutcomeIsLeftToItsNextStartByANodeOfTheSameHost(boolean stoppedAgain) throws Exception {
        Path runs = dir.resolve("runs");
        String jobId = aRefusedOutcomeOnNodeA(runs);
        Path folderA = store.config().dataDir().toAbsolutePath().normalize();
        Path folderB = dir.resolve("data-b");
        Store storeB = Store.open(StoreConfig.of(storeConfig.url(), folderB));
        JobEngine b = null;
        try (LogCapture sweep = new LogCapture(LeftoverSweep.class); LogCapture stop = new LogCapture(JobEngine.class)) {
            engine.stop();
            // The attempt's JVM is gone from this host (node-a runs in this test's JVM).
            Process gone = new ProcessBuilder("/bin/true").start();
            org.buildhook.runner.exec.ProcessIdentity jvm = org.buildhook.runner.exec.ProcessIdentity.of(gone.pid());
            assertThat(gone.waitFor()).isZero();
            update(jobId, "UPDATE job_attempts SET node_pid = " + gone.pid() + ", node_started = "
                    + (jvm == null ? 7 : jvm.startTicks()) + " WHERE job_id = ?");
            String left = "job " + jobId + " attempt 1: its node node-a (pid " + gone.pid() + " on this host) is gone,"
                    + " and its stop noted the attempt in " + folderA.resolve(StopsNotRecorded.FILE_NAME);
            if (stoppedAgain) {
                engine = JobEngine.create(store, launcher(), steady("node-a"));
                engine.start();
                await().atMost(Duration.ofSeconds(60)).until(() -> execution(jobId).equals("picked by node-a"));
            }
            // A dead-node limit of 60 s: node-b takes nothing of node-a's over at the limit within this test.
            b = JobEngine.create(storeB, launcher(), new EngineConfig("node-b", 4, Duration.ofMillis(200),
                    Duration.ofMillis(200), 300, Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100)));
            b.start();
            // node-b's sweep looked at the attempt (or ran it again).
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.readAllLines(runs).size() > 1 || sweep.events()
                    .stream().anyMatch(e -> e.getFormattedMessage().startsWith(left)));
            if (stoppedAgain) {
                engine.stop();
            }
            // node-b's sweeps, each heartbeat interval, leave the attempt to node-a; one more here, to be sure of one.
            LeftoverSweep look = new LeftoverSweep(storeB.ledger(), "node-b",
                    new StopsNotRecorded(folderB.resolve(StopsNotRecorded.FILE_NAME), "node-b"));
            look.readsFoldersOf(id -> storeB.nodeLeases().dataFolder(id));
            look.sweepDeadNodes();
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(20)).until(() -> Files.readAllLines(runs)
                    .size() == 1 && store.job(jobId).orElseThrow().attempts().stream().map(JobAttempt::outcome)
                            .toList().equals(List.of(AttemptOutcome.RUNNING)));
            assertThat(storeB.nodeLeases().dataFolder("node-a")).contains(folderA);
            assertThat(stop.events()).extracting(e -> e.getFormattedMessage()).anySatisfy(m -> assertThat(m)
                    .startsWith("node id node-a: its claim stays in the store, naming its data folder, while"
                            + " stops-not-recorded there holds what the store has not recorded"));

            // The store takes the record again, and node-a starts again: it records what its stop kept.
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(storeConfig.url());
                    java.sql.Statement d = c.createStatement()) {
                d.execute("DELETE FROM test_refusing");
            }
            engine = JobEngine.create(store, launcher(), steady("node-a"));
            engine.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        } finally {
            if (b != null) {
                b.stop();
            }
            storeB.close();
        }
        JobDetail done = store.job(jobId).orElseThrow();
        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("ran");
        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).extracting(JobAttempt::exitCode).containsExactly(0);
    }

    private void update(String jobId, String sql) throws java.sql.SQLException {
        try (java.sql.Connection c = store.dataSource().getConnection();
                java.sql.PreparedStatement p = c.prepareStatement(sql)) {
            p.setString(1, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }

    private String execution(String jobId) throws java.sql.SQLException {
        try (java.sql.Connection c = store.dataSource().getConnection(); java.sql.PreparedStatement p = c
                .prepareStatement("SELECT picked, picked_by FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                return !rs.next() ? "none" : rs.getBoolean(1) ? "picked by " + rs.getString(2) : "not picked";
            }
        }
    }
}
