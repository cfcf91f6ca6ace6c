package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * review26 R1, its other case: the stop's end of the grace period kills the commands running then, in one look. A
 * command whose launch was under way at that look (started, not yet among the running ones) was missed: it ran on
 * until the stop's last wait was over and the scheduler interrupted its thread, whose record then said the store could
 * not be reached. The launcher here holds the launch's return until the stop has made its look, where the window is.
 */
class LaunchAcrossStopTest {

    @TempDir
    Path dir;
    final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void listen() {
        log.start();
        engineLog().addAppender(log);
    }

    @AfterEach
    void stopListening() {
        engineLog().detachAppender(log);
    }

    private static ch.qos.logback.classic.Logger engineLog() {
        return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobEngine.class);
    }

    /** Until the stop's grace is over: logged once RunningJobs.stop has killed what was running (JobEngine.awaitJobsEnded). */
    private void awaitTheGracesEnd() {
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            synchronized (log) {
                return log.list.stream().anyMatch(e -> e.getFormattedMessage().startsWith("stopping: waiting"));
            }
        });
    }

    @Test
    void aCommandWhoseLaunchWasUnderWayWhenTheGraceEndedIsStoppedToo() throws Exception {
        Path pidFile = dir.resolve("pid");
        Path go = dir.resolve("go");
        Path script = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\necho $$ > " + pidFile + ".tmp && mv "
                + pidFile + ".tmp " + pidFile + "\nwhile [ ! -f " + go + " ]; do [ -d " + go.getParent()
                + " ] || exit 1; sleep 0.05; done\n");
        CommonsExecLauncher real = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        CountDownLatch launching = new CountDownLatch(1);
        HeldLauncher heldAcrossTheStop = new HeldLauncher(real, () -> {
            launching.countDown();
            awaitTheGracesEnd();
        });
        try (Store store = Store.open(TestStores.sqlite(dir.resolve("data")))) {
            // Its own timeout far beyond the test's waits: only the stop may end it.
            store.accept(Plans.delivery(Plans.fixture()), List.of(new PlannedJob("slow", "name: slow",
                    List.of("/bin/sh", script.toString()), Map.of(), null, false, Duration.ofHours(1), 0,
                    Duration.ofMillis(100), 0, null)));
            JobEngine engine = JobEngine.create(store, heldAcrossTheStop, AbstractEngineTest.fast("node-a"));
            engine.start();
            assertThat(launching.await(2, TimeUnit.MINUTES)).as("the command started").isTrue();
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(pidFile));
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            Thread stopper = new Thread(engine::stop, "test-stop");
            stopper.start();

            await("process " + pid + " ended by the stop").atMost(Duration.ofMinutes(2))
                    .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
            stopper.join(TimeUnit.MINUTES.toMillis(2));
            assertThat(stopper.isAlive()).as("the stop ended").isFalse();
            synchronized (log) {
                // Before: missed by the grace's end, the command ran on until the stop's last wait (runner.kill-grace
                // and two store.connect-timeout) was over and the scheduler interrupted its thread, whose record then
                // said "the store could not be reached".
                assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).as("the command ended with the"
                        + " grace's end, not when the scheduler interrupted its thread")
                        .noneMatch(m -> m.contains("had not ended, or not recorded how"));
            }
        } finally {
            Files.writeString(go, "");
            real.close();
        }
    }

    /**
     * ci-h38 (a stressed full run, AbstractCrashTest's stops killed in their grace): the launcher creates a command
     * before its start returns (perf37 F4), and the engine adds it to its running ones only then. A stop that began in
     * between did not note that attempt in {@code stops-not-recorded} as one it was about to cut short, so a stop
     * killed in its grace (a stop timeout) left it to be counted as its node's death at the next start. Here the launch's
     * return is held, its command created, until the stop's grace is over: the note must name the attempt by then.
     */
    @Test
    void aStopNotesTheAttemptOfACommandCreatedAndNotYetAdded() throws Exception {
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        Path script = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\n: > " + started + "\nwhile [ ! -f " + go
                + " ]; do [ -d " + go.getParent() + " ] || exit 1; sleep 0.05; done\n");
        Path noted = dir.resolve("data").resolve(StopsNotRecorded.FILE_NAME);
        CommonsExecLauncher real = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        CountDownLatch launching = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<List<String>> notedThen = new java.util.concurrent.atomic
                .AtomicReference<>(List.of());
        HeldLauncher heldAcrossTheStop = new HeldLauncher(real, () -> {
            launching.countDown();
            awaitTheGracesEnd();
            try {
                notedThen.set(Files.exists(noted) ? Files.readAllLines(noted) : List.of());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Store store = Store.open(TestStores.sqlite(dir.resolve("data")))) {
            String job = store.accept(Plans.delivery(Plans.fixture()), List.of(new PlannedJob("slow", "name: slow",
                    List.of("/bin/sh", script.toString()), Map.of(), null, false, Duration.ofHours(1), 0,
                    Duration.ofMillis(100), 0, null))).jobIds().get(0);
            JobEngine engine = JobEngine.create(store, heldAcrossTheStop, AbstractEngineTest.fast("node-a"));
            engine.start();
            assertThat(launching.await(2, TimeUnit.MINUTES)).as("the command was created").isTrue();
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(started));
            engine.stop();

            assertThat(notedThen.get()).as("the stop noted, as it began, the attempt it was about to cut short")
                    .contains("node-a " + job + " 1 begun");
        } finally {
            Files.writeString(go, "");
            real.close();
        }
    }

    /**
     * review26 R6: a launch that had passed its checks when the stop began still started its command, which the stop
     * then killed at once (R1): a deploy script's first lines ran. The launcher asks the node just before the exec
     * now; here the launch is held before it until the stop's grace is over. The command never starts (its first line
     * writes the marker), its record says so, and it runs after the next start.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aCommandWhoseLaunchBeganAfterTheStopBeganNeverStarts(String kind) throws Exception {
        Path marker = dir.resolve("marker");
        Path script = Files.writeString(dir.resolve("deploy.sh"), "#!/bin/sh\necho \"$BUILDHOOK_ATTEMPT\" >> " + marker
                + "\n");
        CommonsExecLauncher real = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        CountDownLatch launching = new CountDownLatch(1);
        HeldLauncher heldAcrossTheStop = new HeldLauncher(real, () -> {
            launching.countDown();
            awaitTheGracesEnd(); // this launch kept the stop waiting for it
        }, launched -> await().atMost(Duration.ofMinutes(1)) // the exec, or its refusal
                .until(() -> Files.exists(marker) || launched.outcome().isDone()));
        StoreConfig config = kind.equals("sqlite") ? TestStores.sqlite(dir.resolve("data"))
                : TestStores.postgres(dir.resolve("data"));
        try (Store store = Store.open(config)) {
            String job = store.accept(Plans.delivery(Plans.fixture()), List.of(new PlannedJob("deploy",
                    "name: deploy", List.of("/bin/sh", script.toString()), Map.of(), null, false, Duration.ofHours(1),
                    0, Duration.ofMillis(100), 0, null))).jobIds().get(0);
            JobEngine engine = JobEngine.create(store, heldAcrossTheStop, AbstractEngineTest.steady("node-a"));
            engine.start();
            assertThat(launching.await(2, TimeUnit.MINUTES)).as("the launch began").isTrue();
            engine.stop();

            assertThat(marker).as("the command never started").doesNotExist();
            JobDetail stopped = store.job(job).orElseThrow();
            assertThat(stopped.job().state()).as("back in the queue").isEqualTo(JobState.QUEUED);
            assertThat(stopped.attempts()).singleElement().satisfies(attempt -> {
                assertThat(attempt.message()).isEqualTo("not started: node node-a was stopping; back in the queue, its"
                        + " retries untouched");
                assertThat(Files.readString(Path.of(attempt.logPath()))).contains("not started: node node-a was"
                        + " stopping").doesNotContain("killed");
            });

            JobEngine next = JobEngine.create(store, real, AbstractEngineTest.steady("node-a"));
            next.start();
            try {
                await().atMost(Duration.ofMinutes(1)).until(() -> store.job(job).orElseThrow().job().state()
                        == JobState.SUCCEEDED);
            } finally {
                next.stop();
            }
            assertThat(Files.readAllLines(marker)).as("run once, after the next start").containsExactly(job + "/2");
        } finally {
            real.close();
        }
    }
    /**
     * review28 R5: a launch whose node gate passed just before the stop began, then met by the stop (its grace's end
     * cancels it) before the attempt's own look, ended {@code CANCELLED "…; its command was not started"} and was
     * counted as a stop in a row ({@code runner.stops-in-a-row}, node_died 0), although nothing ran. It is a launch
     * the stop refused: back in the queue, its retries untouched, counted as nothing.
     */
    @Test
    void aLaunchTheStopMetBetweenTheNodesGateAndTheExecIsNoStopInARow() throws Exception {
        Path marker = dir.resolve("marker");
        Path script = Files.writeString(dir.resolve("deploy.sh"), "#!/bin/sh\necho \"$BUILDHOOK_ATTEMPT\" >> " + marker
                + "\n");
        CommonsExecLauncher real = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        CountDownLatch gatePassed = new CountDownLatch(1);
        org.buildhook.runner.exec.JobLauncher heldAfterTheNodesGate = new org.buildhook.runner.exec.JobLauncher() {
            @Override
            public org.buildhook.runner.exec.RunningJob start(org.buildhook.runner.exec.JobRequest request) {
                return start(request, org.buildhook.runner.exec.StartGate.OPEN);
            }

            @Override
            public org.buildhook.runner.exec.RunningJob refuse(org.buildhook.runner.exec.JobRequest request,
                    String why) {
                return real.refuse(request, why);
            }

            @Override
            public List<org.buildhook.runner.exec.NodeFolders.Folder> nodeFolders() {
                return real.nodeFolders();
            }

            @Override
            public Duration killGrace() {
                return real.killGrace();
            }

            @Override
            public org.buildhook.runner.exec.RunningJob start(org.buildhook.runner.exec.JobRequest request,
                    org.buildhook.runner.exec.StartGate gate) {
                return real.start(request, new org.buildhook.runner.exec.StartGate() {
                    @Override
                    public void attempt(org.buildhook.runner.exec.RunningJob attempt) {
                        gate.attempt(attempt);
                    }

                    @Override
                    public <T> T pass(Spawn<T> spawn) throws java.io.IOException {
                        return gate.pass(() -> {
                            gatePassed.countDown();
                            awaitTheGracesEnd(); // the stop's grace ends, which cancels the attempt
                            return spawn.create();
                        });
                    }
                });
            }
        };
        try (Store store = Store.open(TestStores.sqlite(dir.resolve("data")))) {
            String job = store.accept(Plans.delivery(Plans.fixture()), List.of(new PlannedJob("deploy",
                    "name: deploy", List.of("/bin/sh", script.toString()), Map.of(), null, false, Duration.ofHours(1),
                    0, Duration.ofMillis(100), 0, null))).jobIds().get(0);
            JobEngine engine = JobEngine.create(store, heldAfterTheNodesGate, AbstractEngineTest.steady("node-a"));
            engine.start();
            assertThat(gatePassed.await(2, TimeUnit.MINUTES)).as("the node's gate passed").isTrue();
            engine.stop();

            assertThat(marker).as("the command never started").doesNotExist();
            JobDetail stopped = store.job(job).orElseThrow();
            assertThat(stopped.job().state()).as("back in the queue").isEqualTo(JobState.QUEUED);
            assertThat(stopped.attempts()).singleElement().satisfies(attempt -> assertThat(attempt.message())
                    .isEqualTo("not started: node node-a was stopping; back in the queue, its retries untouched"));
            try (var c = store.dataSource().getConnection(); var p = c.prepareStatement(
                    "SELECT node_died FROM job_attempts WHERE job_id = ?")) {
                p.setString(1, job);
                try (var rs = p.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getObject(1)).as("neither a stop (0) nor a death (1) in a row").isNull();
                }
            }
        } finally {
            real.close();
        }
    }
}
