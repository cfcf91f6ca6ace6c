package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the engine tells its {@link JobEvents}: real SQLite store, real processes. */
class JobEventsTest {

    record Ended(String rule, JobEvents.Ending ending, Duration duration) {
    }

    @TempDir
    Path dir;
    Store store;
    CommonsExecLauncher launcher;
    JobEngine engine;
    final List<Ended> ended = new CopyOnWriteArrayList<>();

    @BeforeEach
    void open() {
        store = Store.open(TestStores.sqlite(dir.resolve("data"))
                .withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.stop();
        }
        store.close();
        launcher.close();
    }

    void start(JobEvents events) {
        engine = JobEngine.create(store, launcher, AbstractEngineTest.fast("node-a"), Clock.systemUTC(), events);
        engine.start();
    }

    private int deliveries;

    /** Each job on a delivery of its own: a distinct body, never a duplicate. */
    JobDetail run(PlannedJob job) {
        String body = Plans.fixture().replace("\"build_id\": 67,", "\"build_id\": " + (1000 + deliveries++) + ",");
        String id = store.accept(Plans.delivery(body), List.of(job)).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.job(id).orElseThrow().job().state().isFinal());
        return store.job(id).orElseThrow();
    }

    @Test
    void tellsHowEveryAttemptEndsWithItsRuleAndHowLongItTook() throws IOException {
        start((rule, ending, duration) -> ended.add(new Ended(rule, ending, duration)));
        Path counter = dir.resolve("count");
        Path flaky = Files.writeString(dir.resolve("flaky.sh"),
                "#!/bin/sh\necho x >> " + counter + "\nsleep 0.2\n[ $(wc -l < " + counter + ") -ge 2 ]\n");

        run(Plans.job("flaky", List.of("/bin/sh", flaky.toString()), Map.of(), 1, Duration.ofMillis(50), 0));
        run(Plans.job("absent", List.of(dir.resolve("no-such-program").toString()), Map.of(), 0,
                Duration.ofMillis(50), 0));

        // The event follows the job's final record: wait for it, not for the record.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(ended)
                .extracting(Ended::rule, Ended::ending).containsExactly(
                        tuple("flaky", JobEvents.Ending.FAILED),
                        tuple("flaky", JobEvents.Ending.SUCCEEDED),
                        tuple("absent", JobEvents.Ending.FAILED_TO_START)));
        assertThat(ended.get(1).duration()).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    }

    @Test
    void aListenerThatThrowsDoesNotChangeWhatHappensToTheJob() {
        start((rule, ending, duration) -> {
            throw new IllegalStateException("injected metrics failure");
        });

        JobDetail done = run(Plans.job("fine", List.of("/bin/true"), Map.of(), 2, Duration.ofMillis(50), 0));

        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).hasSize(1);
    }

    @Test
    void logsOneLinePerJobThatEndsBadlyWithItsRuleBuildAndReasonAndTellsEachFinalOutcomeOnce() {
        List<String> finals = new CopyOnWriteArrayList<>();
        start(finals(finals));
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(FinalOutcomeLog.class);
        logger.addAppender(log);
        Map<String, String> build = Map.of("BUILDHOOK_BUILD_ID", "67", "BUILDHOOK_PROJECT", "andy-corp/lmp");
        try {
            String failed = run(Plans.job("deploy", List.of("/bin/sh", "-c", "exit 3"), build, 1, Duration.ofMillis(50), 0))
                    .job().id();
            String absent = run(Plans.job("absent", List.of(dir.resolve("no-such-program").toString()), build, 0,
                    Duration.ofMillis(50), 0)).job().id();
            String slow = run(new org.buildhook.runner.PlannedJob("slow", "name: slow", List.of("/bin/sleep", "60"),
                    build, null, false, Duration.ofSeconds(1), 0, Duration.ofMillis(50), 0, null)).job().id();
            run(Plans.job("fine", List.of("/bin/true"), build, 0, Duration.ofMillis(50), 0));

            // A job's line and its final event follow the commit of its outcome, which is all run()
            // waits for: the next job's may come first, and the last one's after run() returned.
            await().atMost(Duration.ofSeconds(30)).until(() -> finals.size() >= 4 && lines(log).size() >= 3);
            assertThat(lines(log)).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .satisfiesExactlyInAnyOrder(
                            line -> assertThat(line).startsWith("job " + failed + " of rule 'deploy' (build 67 of"
                                    + " andy-corp/lmp) failed after 2 attempt(s): exited with 3; last attempt took "),
                            line -> assertThat(line).startsWith("job " + absent + " of rule 'absent' (build 67 of"
                                    + " andy-corp/lmp) failed to start after 1 attempt(s): executable not found: "),
                            line -> assertThat(line).startsWith("job " + slow + " of rule 'slow' (build 67 of"
                                    + " andy-corp/lmp) timed out after 1 attempt(s): timed out after 1s"))
                    .allSatisfy(line -> assertThat(line).doesNotContainPattern("(?<![0-9A-Z])PT[0-9]"));
            assertThat(lines(log)).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN));
            assertThat(finals).containsExactlyInAnyOrder("deploy=failed", "absent=failed_to_start", "slow=timed_out",
                    "fine=succeeded");
        } finally {
            logger.detachAppender(log);
        }
    }

    /** What {@code log} holds, copied under its lock (job threads append to its plain ArrayList). */
    /**
     * The run's name comes from the payload: in the line it is escaped like every payload value in the
     * server's log (a newline could forge a line) and cut at 200 characters (a 65536-character name
     * made a 195 KB line).
     */
    @Test
    void theLineOfAJobThatEndsBadlyShowsItsRunNameEscapedAndShort() {
        start(new JobEvents() {
            @Override
            public void attemptEnded(String ruleName, Ending ending, Duration duration) {
            }

            @Override
            public void jobEnded(String ruleName, Ending ending) {
            }
        });
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(FinalOutcomeLog.class);
        logger.addAppender(log);
        Map<String, String> build = Map.of("BUILDHOOK_BUILD_ID", "67", "BUILDHOOK_PROJECT", "andy-corp/lmp");
        try {
            String forged = "build-amd64\n2026-11-30T23:00:00.000Z ERROR [main] o.b.Fake - forged " + "x".repeat(1000);
            String id = run(new org.buildhook.runner.PlannedJob("each", "name: each", List.of("/bin/sh", "-c", "exit 3"),
                    build, null, false, Duration.ofSeconds(10), 0, Duration.ofMillis(50), 0, forged)).job().id();

            await().atMost(Duration.ofSeconds(30)).until(() -> lines(log).size() >= 1);
            String line = lines(log).get(0).getFormattedMessage();
            assertThat(line).startsWith("job " + id + " of rule 'each' (build 67 of andy-corp/lmp, run build-amd64\\x0a"
                    + "2026-11-30T23:00:00.000Z ERROR").doesNotContain("\n").contains("…)").hasSizeLessThan(600);
        } finally {
            logger.detachAppender(log);
        }
    }

    private static List<ch.qos.logback.classic.spi.ILoggingEvent> lines(
            ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log) {
        synchronized (log) {
            return List.copyOf(log.list);
        }
    }

    @Test
    void durationsAreWrittenForPeopleNeverInIso8601() {
        assertThat(org.buildhook.runner.rules.Durations.describe(Duration.ofSeconds(2))).isEqualTo("2s");
        assertThat(org.buildhook.runner.rules.Durations.describe(Duration.ofMillis(2_345))).isEqualTo("2.3s");
        assertThat(org.buildhook.runner.rules.Durations.describe(Duration.ofMillis(850))).isEqualTo("850ms");
        assertThat(org.buildhook.runner.rules.Durations.describe(Duration.ofSeconds(90))).isEqualTo("1m30s");
        assertThat(org.buildhook.runner.rules.Durations.describe(Duration.ofMinutes(125).plusMillis(300))).isEqualTo("2h5m");
    }

    @Test
    void theEndingsAreLabelledInSnakeCase() {
        assertThat(JobEvents.Ending.TIMED_OUT.label()).isEqualTo("timed_out");
        assertThat(JobEvents.Ending.FAILED_TO_START.label()).isEqualTo("failed_to_start");
    }

    /**
     * values43 V3: a job planning stores FAILED (a payload value refused: {@code ../victim} after {@code /srv/}) reached
     * its final state on this node, as one refused at its pick for its stored values does, which is told: it is told
     * failed too, once, at a delivery's accept, a replay and a follow-up's start. Before, only the pick's counted.
     */
    @Test
    void aJobPlanningStoresFailedIsToldFailedOnceAtAnAcceptAReplayAndAFollowUpsStart() {
        List<String> finals = new CopyOnWriteArrayList<>();
        start(finals(finals));
        String body = Plans.fixture().replace("\"trigger_name\": \"containers-devel\"", "\"trigger_name\": \"../victim\"");
        String followUps = "{\"on-failure\":{\"command\":[\"/bin/echo\",\"/srv/pages/${build.trigger}\"]},\"depth\":1}";

        String delivery = store.accept(Plans.delivery(body), List.of(refused("cleanup", followUps))).deliveryId();
        store.replay(delivery, List.of(refused("replayed", null)));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(finals)
                .containsExactlyInAnyOrder("cleanup=failed", "replayed=failed", "cleanup/on-failure=failed"));
        assertThat(store.jobs(new org.buildhook.runner.store.JobQuery(null, null, null, null, 10, null)).items())
                .extracting(j -> j.ruleName() + "=" + j.state()).containsExactlyInAnyOrder("cleanup=FAILED",
                        "replayed=FAILED", "cleanup/on-failure=FAILED");
    }

    /** Events that add {@code <rule>=<outcome>} to {@code finals} for each job told ended, and nothing else. */
    private static JobEvents finals(List<String> finals) {
        return new JobEvents() {
            @Override
            public void attemptEnded(String ruleName, Ending ending, Duration duration) {
            }

            @Override
            public void jobEnded(String ruleName, Ending ending) {
                finals.add(ruleName + "=" + ending.label());
            }
        };
    }

    /** A job planning refused, as it stores one: FAILED, with {@code followUps} (or none). */
    private static PlannedJob refused(String rule, String followUps) {
        PlannedJob plain = Plans.job(rule, List.of("/bin/rm", "-rf", "/srv/builds/${build.trigger}"));
        org.buildhook.runner.JobWorkflow workflow = new org.buildhook.runner.JobWorkflow(67L, null, false, null,
                Map.of(), Map.of(), followUps, null, 0);
        return new PlannedJob(rule, plain.ruleSnapshot(), plain.argv(), Map.of(), null, true, Duration.ofSeconds(30),
                0, Duration.ofSeconds(1), 0, null, workflow, "not started: rule '" + rule + "' writes ${build.trigger}"
                        + " into argument 2 of 'command', …");
    }
}
