package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommonsExecLauncherTest extends LauncherTest {

    @ParameterizedTest
    @CsvSource({"0, SUCCEEDED", "1, FAILED", "42, FAILED"})
    void turnsTheExitCodeIntoTheOutcome(int code, JobOutcome.Result expected) throws Exception {
        Path script = fixtures.script("exit.sh", "exit " + code);
        Instant before = Instant.now();

        JobOutcome outcome = run(Fixtures.request("exit-" + code, script));

        assertThat(outcome.result()).isEqualTo(expected);
        assertThat(outcome.exitCode()).isEqualTo(code);
        assertThat(outcome.message()).isEqualTo("exited with " + code);
        assertThat(outcome.started()).isAfterOrEqualTo(before.minusSeconds(1));
        assertThat(outcome.ended()).isAfterOrEqualTo(outcome.started());
        assertThat(outcome.succeeded()).isEqualTo(code == 0);
    }

    /**
     * Once an attempt's outcome is known it is no longer among the launcher's running attempts: whatever the outcome
     * wakes sees the count without it. Before, the outcome was completed first and the attempt left the list after
     * (FailureBeforeTheTakeOverTest failed on that window once under load). A dependent action of the outcome runs
     * inside its completion, so it sees exactly the order.
     */
    @Test
    void anAttemptWhoseOutcomeIsKnownIsNoLongerCountedAsRunning() throws Exception {
        Path go = dir.resolve("go");
        Path script = fixtures.script("waits.sh", "while [ ! -e '" + go + "' ]; do sleep 0.05; done");
        RunningJob job = launcher.start(Fixtures.request("counted", script));
        java.util.concurrent.CompletableFuture<List<RunningJob>> seen = job.outcome()
                .thenApply(outcome -> launcher.attempts());
        assertThat(seen).as("registered before the end").isNotDone();
        assertThat(launcher.attempts()).containsExactly(job);

        Files.writeString(go, "");

        assertThat(seen.get(60, TimeUnit.SECONDS)).isEmpty();
        assertThat(launcher.runningCount()).isZero();
    }

    @Test
    void aFinishedAttemptLeavesNoTimeoutQueuedInTheLaunchersOwnTimer() throws Exception {
        try (CommonsExecLauncher own = CommonsExecLauncher.create(fixtures.config())) {
            for (int i = 0; i < 10; i++) {
                JobOutcome outcome = own.start(new JobRequest(Fixtures.jobId("timer-" + i), 1, List.of("/bin/true"),
                        Map.of(), null, null, Duration.ofMinutes(10))).outcome().get(60, TimeUnit.SECONDS);
                assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
            }

            assertThat(own.timerTasksQueued()).as("each held its attempt for 10 minutes").isZero();
        }
    }

    @Test
    void writesStdoutAndStderrToOneLogFilePerAttempt() throws Exception {
        Path script = fixtures.script("both.sh", "echo to-stdout; echo to-stderr >&2");

        JobOutcome outcome = launcher.start(new JobRequest(Fixtures.jobId("job-7"), 3, List.of(script.toString()), Map.of(), null,
                null, Duration.ofMinutes(1))).outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.logFile())
                .isEqualTo(dir.resolve("logs").resolve(Fixtures.jobId("job-7")).resolve("attempt-3.log"));
        assertThat(Files.readString(outcome.logFile())).contains("to-stdout\n").contains("to-stderr\n");
        assertThat(outcome.logTruncated()).isFalse();
    }

    @Test
    void feedsTheRequestBytesToStdinExactly() throws Exception {
        Path received = dir.resolve("stdin.bin");
        Path script = fixtures.script("cat.sh", "cat > '" + received + "'");
        byte[] body = new byte[70_000]; // more than a pipe buffer
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) (i * 31);
        }

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("stdin"), 1, List.of(script.toString()), Map.of(), null, body,
                Duration.ofMinutes(1)));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(Files.readAllBytes(received)).isEqualTo(body);
    }

    @Test
    void givesAnEmptyClosedStdinWhenTheRequestHasNone() throws Exception {
        Path received = dir.resolve("stdin.bin");
        Path script = fixtures.script("cat.sh", "cat > '" + received + "'");

        JobOutcome outcome = run(Fixtures.request("no-stdin", script));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(Files.readAllBytes(received)).isEmpty();
    }

    @Test
    void passesTheBaseEnvironmentWithTheRequestVariablesOnTop() throws Exception {
        Path printed = dir.resolve("env.txt");
        Path script = fixtures.script("env.sh", "env > '" + printed + "'");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("env"), 1, List.of(script.toString()),
                Map.of("BUILDHOOK_BUILD_ID", "123", "OVERRIDDEN", "request value"), null, null, Duration.ofMinutes(1)));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(Files.readAllLines(printed)).contains("BASE_ONLY=from the base", "BUILDHOOK_BUILD_ID=123",
                "OVERRIDDEN=request value", "PATH=/usr/local/bin:/usr/bin:/bin");
        assertThat(Files.readAllLines(printed)).doesNotContain("OVERRIDDEN=base value");
    }

    @Test
    void runsInTheRequestedWorkingDirectoryOrTheDefault() throws Exception {
        Path workdir = Files.createDirectory(dir.resolve("work dir"));
        Path script = fixtures.script("pwd.sh", "pwd > pwd.txt");

        run(new JobRequest(Fixtures.jobId("cwd"), 1, List.of(script.toString()), Map.of(), workdir, null, Duration.ofMinutes(1)));
        run(Fixtures.request("default-cwd", script));

        assertThat(Files.readString(workdir.resolve("pwd.txt")).trim()).isEqualTo(workdir.toRealPath().toString());
        assertThat(Files.readString(dir.resolve("pwd.txt")).trim()).isEqualTo(dir.toRealPath().toString());
    }

    @Test
    void findsAProgramWithoutSlashOnThePathOfTheJobEnvironment() throws Exception {
        Path bin = Files.createDirectory(dir.resolve("bin"));
        Path tool = fixtures.script("bin/my-tool", "echo tool ran");
        assertThat(tool.getParent()).isEqualTo(bin);

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("path"), 1, List.of("my-tool"), Map.of("PATH", bin.toString()), null,
                null, Duration.ofMinutes(1)));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(Files.readString(outcome.logFile())).isEqualTo("tool ran\n");
    }

    @Test
    void keepsNonUtf8OutputByteForByte() throws Exception {
        Path script = fixtures.script("bytes.sh", "printf '\\377\\376\\000\\200abc\\303\\050\\n'");

        JobOutcome outcome = run(Fixtures.request("bytes", script));

        assertThat(Files.readAllBytes(outcome.logFile())).isEqualTo(
                new byte[] {(byte) 0xff, (byte) 0xfe, 0, (byte) 0x80, 'a', 'b', 'c', (byte) 0xc3, 0x28, '\n'});
    }

    /**
     * The attempt's end (its outcome) comes on a {@code buildhook-job-N} thread. The command waits until the test has
     * registered its look at that thread: since perf37 F4 {@code start} returns once the process is created, and a
     * command that ended before the look was registered had it run on the test's own thread.
     */
    @Test
    void runsTheJobOnANamedJobThread() throws Exception {
        Path go = fifo("go");
        Path script = fixtures.script("true.sh", "read line < '" + go + "'; exit 0");
        String[] threadName = new String[1];

        java.util.concurrent.CompletableFuture<Void> looked = launcher.start(Fixtures.request("thread", script))
                .outcome().thenRun(() -> threadName[0] = Thread.currentThread().getName());
        release(go);
        looked.get(60, TimeUnit.SECONDS);

        assertThat(threadName[0]).startsWith("buildhook-job-");
    }

    /** Writes a line into {@code fifo}, once the command has opened it, for at most a minute. */
    private static void release(Path fifo) throws Exception {
        java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                Files.writeString(fifo, "go\n");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(60, TimeUnit.SECONDS);
    }

    /** A named pipe in the test's folder: its writer and its reader wait for each other. */
    private Path fifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor()).isZero();
        return fifo;
    }

    /**
     * perf37 F4: the process is created on the thread that starts the attempt (the engine's job thread), before
     * {@code start} returns; only the wait for its exit and its output go to a {@code buildhook-job-N} thread. Before,
     * the whole of Commons Exec's {@code execute} (the exec, then the wait) was handed to that thread, and the exec
     * waited for it to be scheduled: a hand-off on the path from a delivery to its command's start.
     */
    @Test
    void createsTheProcessOnTheThreadThatStartsTheAttemptAndWaitsForItOnAJobThread() throws Exception {
        Path go = fifo("go");
        Path script = fixtures.script("spawned-here.sh", "read line < '" + go + "'; exit 0");
        Thread[] creator = new Thread[1];
        boolean[] created = new boolean[1];
        StartGate recording = new StartGate() {
            @Override
            public <T> T pass(Spawn<T> spawn) throws java.io.IOException {
                creator[0] = Thread.currentThread();
                T process = spawn.create();
                created[0] = true;
                return process;
            }
        };
        String[] endedOn = new String[1];

        RunningJob job = launcher.start(Fixtures.request("spawned-here", script), recording);
        boolean createdOnReturn = created[0];
        java.util.concurrent.CompletableFuture<JobOutcome> looked = job.outcome().thenApply(o -> {
            endedOn[0] = Thread.currentThread().getName();
            return o;
        });
        // Its identity read before it may end: through the setsid launch it is read when the process is handed to the
        // job thread, and a process that had exited by then is already reaped by the JDK (no /proc entry left to
        // read): the command let go first failed this at load in the final run of session 50.
        ProcessIdentity identity = job.process().get(60, TimeUnit.SECONDS);
        release(go); // the command ends once the look at its end's thread is registered
        JobOutcome outcome = looked.get(60, TimeUnit.SECONDS);

        assertThat(creator[0]).as("the thread that created the process").isSameAs(Thread.currentThread());
        assertThat(createdOnReturn).as("created before start returned").isTrue();
        assertThat(outcome.result()).as(outcome.message()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(identity).isNotNull();
        assertThat(endedOn[0]).as("the wait for its exit").startsWith("buildhook-job-");
    }

    /**
     * perf37 F4: with no job thread to wait for it, nothing is created: the process is created only once the wait for
     * it was handed to its thread, and the attempt ends as before.
     */
    @Test
    void createsNothingWhenNoJobThreadCanWaitForIt() throws Exception {
        Path ran = dir.resolve("ran");
        Path script = fixtures.script("no-thread.sh", "echo ran > '" + ran + "'");
        java.util.concurrent.ExecutorService none = java.util.concurrent.Executors.newSingleThreadExecutor();
        none.shutdown();
        boolean[] asked = new boolean[1];
        StartGate gate = new StartGate() {
            @Override
            public <T> T pass(Spawn<T> spawn) throws java.io.IOException {
                asked[0] = true;
                return spawn.create();
            }
        };
        try (CommonsExecLauncher noThreads = new CommonsExecLauncher(fixtures.config(), Clock.systemUTC(), none,
                fixtures.scheduler)) {
            JobOutcome outcome = noThreads.start(Fixtures.request("no-thread", script), gate).outcome()
                    .get(60, TimeUnit.SECONDS);

            assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
            assertThat(outcome.message()).startsWith("no thread to run the job: ");
            assertThat(asked[0]).as("the gate asked").isFalse();
            assertThat(ran).doesNotExist();
        }
    }

    /**
     * tryout17 F3: a log that cannot be created is the node's fault (its disk, its folders), not the job's,
     * and a command never runs without its log. Before, the command ran with its output lost ("log incomplete").
     * A log that fills up once open still lets the command run (DiskFullReliabilityIT).
     */
    @Test
    void startsNothingAndSaysWhichFolderWhenTheLogCannotBeCreated() throws Exception {
        // A file where the job's log folder should be: the folder cannot be created.
        Files.createDirectories(dir.resolve("logs"));
        Path folder = dir.resolve("logs").resolve(Fixtures.jobId("unloggable"));
        Files.writeString(folder, "in the way");
        Path marker = dir.resolve("ran");
        Path script = fixtures.script("touch.sh", "echo output; touch '" + marker + "'");

        assertThatThrownBy(() -> launcher.start(Fixtures.request("unloggable", script)))
                .isInstanceOfSatisfying(NodeFilesException.class, e -> assertThat(e.folder()).isEqualTo(folder))
                .hasMessageStartingWith("cannot write the log file " + folder.resolve("attempt-1.log"))
                .satisfies(e -> assertThat(e.getMessage()).as("in words, not a Java class").doesNotContain("Exception"));
        assertThat(marker).doesNotExist();
        assertThat(launcher.runningCount()).isZero();
    }

    @Test
    void capsTheLogKeepingTheTailAndNotingTheTruncation() throws Exception {
        long cap = 64 * 1024;
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withLogCapBytes(cap));
        // About 5 x the cap, numbered lines so the last one is recognisable.
        Path script = fixtures.script("spew.sh",
                "i=0; while [ $i -lt 6000 ]; do echo \"line $i of the output, padded to fill the log up\"; "
                        + "i=$((i+1)); done; echo 'the very last line'");

        JobOutcome outcome = run(Fixtures.request("spew", script));

        String log = Files.readString(outcome.logFile(), StandardCharsets.ISO_8859_1);
        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.logTruncated()).isTrue();
        assertThat(Files.size(outcome.logFile())).isLessThanOrEqualTo(cap + 200);
        assertThat(log.startsWith("line 0 of the output")).as("head kept").isTrue();
        assertThat(log.endsWith("line 5999 of the output, padded to fill the log up\nthe very last line\n"))
                .as("tail kept").isTrue();
        assertThat(log).containsPattern("\\[buildhook\\] log truncated: \\d+ bytes dropped here");
        assertThat(log).doesNotContain("line 3000 of the output");
    }

    @Test
    void takesTheTimesFromTheInjectedClock() throws Exception {
        Instant fixed = Instant.parse("2026-01-02T03:04:05Z");
        launcher.close();
        launcher = new CommonsExecLauncher(fixtures.config(), Clock.fixed(fixed, ZoneOffset.UTC), fixtures.jobThreads,
                fixtures.scheduler);

        JobOutcome outcome = run(Fixtures.request("clock", fixtures.script("true.sh", "exit 0")));

        assertThat(outcome.started()).isEqualTo(fixed);
        assertThat(outcome.ended()).isEqualTo(fixed);
    }

    @Test
    void endsNormallyWhenTheProgramIgnoresALargeStdin() throws Exception {
        Path script = fixtures.script("ignore.sh", "exit 0");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("ignored-stdin"), 1, List.of(script.toString()), Map.of(), null,
                new byte[1024 * 1024], Duration.ofMinutes(1)));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
    }

    @Test
    void refusesATimeoutThatIsNotPositive() throws Exception {
        Path script = fixtures.script("true.sh", "exit 0");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("no-time"), 1, List.of(script.toString()), Map.of(), null, null,
                Duration.ZERO));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("the timeout must be positive, was 0ms");
    }
}
