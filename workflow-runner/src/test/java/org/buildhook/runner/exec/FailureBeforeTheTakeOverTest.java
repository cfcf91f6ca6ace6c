package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyMap;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.commons.exec.CommandLine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.Mockito;

/**
 * review38 F5: since perf37 the attempt's process is created on the thread that starts the attempt ({@link
 * ExactArgvExecutor#spawnNow}) and taken over by the job thread's {@code execute} when its launch returns it. A job
 * thread whose {@code execute} failed before that (Commons Exec first looks at its working directory: for a JVM whose
 * user cannot search its own current folder, {@code stat(".")} fails and the look says it does not exist) ended the
 * attempt "could not start" while the process ran on, its output not read, in no tree, never ended. And a start gate
 * that failed when told the attempt ({@link StartGate#attempt}) left the job thread waiting for a process nobody would
 * create, for ever.
 */
class FailureBeforeTheTakeOverTest {

    @TempDir
    Path dir;

    private Fixtures fixtures;
    private final ExecutorService outputThreads = Executors.newCachedThreadPool(
            new JobThreadFactory("buildhook-job-output", true));

    @AfterEach
    void close() {
        outputThreads.shutdownNow();
        if (fixtures != null) {
            fixtures.close();
        }
    }

    /**
     * locks39 F5b: the look Commons Exec takes before its launch is at the executor's working directory, "." (the JVM's
     * current folder) unless set, which a non-root server started from a folder its user cannot search cannot stat.
     * The suite runs as root, which can stat any folder, so this asks the executor which folder it looks at: "/",
     * which every user can; the process's own folder stays the job's (the other tests of this package run there).
     */
    @Test
    void theLookBeforeTheLaunchIsAtAFolderEveryUserCanSeeNotTheServersCurrentOne() throws Exception {
        fixtures = new Fixtures(dir);
        Path logFile = dir.resolve("look.log");
        CappedLog log = CappedLog.open(logFile, 1 << 20);
        Attempt attempt = new Attempt(Clock.systemUTC(), Instant.now(), logFile, log, Duration.ofSeconds(1), true,
                AttemptMarker.of(Fixtures.jobId("look"), 1), fixtures.scheduler, ended -> { });
        PooledStreamHandler streams = new PooledStreamHandler(outputThreads, log, null, Duration.ofSeconds(30),
                attempt);
        ExactArgvExecutor executor = new ExactArgvExecutor(List.of("/bin/true"), dir, true, ProcessEncoding.current(),
                streams, attempt, attempt.gate(StartGate.OPEN));

        assertThat(executor.getWorkingDirectory()).isEqualTo(new java.io.File("/"));
        log.close();
    }

    @Test
    void aJobThreadThatFailsBeforeItTakesTheCreatedProcessOverEndsItsTreeAndTheAttemptCouldNotStart() throws Exception {
        fixtures = new Fixtures(dir);
        // A launcher opens the native spawn, as the server's does; the attempt is then made as its start makes one.
        CommonsExecLauncher launcher = fixtures.launcher(fixtures.config());
        Path pids = dir.resolve("pids");
        Path script = fixtures.script("created", "echo $$ >> '" + pids + "'\nsleep 600 &\necho $! >> '" + pids
                + "'\nwait");
        Path logFile = dir.resolve("created.log");
        CappedLog log = CappedLog.open(logFile, 1 << 20);
        AttemptMarker marker = AttemptMarker.of(Fixtures.jobId("created"), 1);
        Attempt attempt = new Attempt(Clock.systemUTC(), Instant.now(), logFile, log, Duration.ofSeconds(1), true,
                marker, fixtures.scheduler, ended -> { });
        PooledStreamHandler streams = new PooledStreamHandler(outputThreads, log, null, Duration.ofSeconds(30),
                attempt);
        ExactArgvExecutor executor = Mockito.spy(new ExactArgvExecutor(List.of(script.toString()), dir, true,
                ProcessEncoding.current(), streams, attempt, attempt.gate(StartGate.OPEN)));
        // The one failure: the job thread's execute throws before its launch takes the process, as Commons Exec's
        // look at its working directory does when it fails.
        Mockito.doThrow(new IOException(". doesn't exist.")).when(executor).execute(any(CommandLine.class), anyMap());
        Map<String, String> env = new HashMap<>(Fixtures.BASE_ENV);
        env.put(AttemptMarker.VARIABLE, marker.value());

        executor.spawnNow(env); // on this thread, as CommonsExecLauncher.start creates it
        await().atMost(Duration.ofSeconds(60)).until(() -> Fixtures.pids(pids).size() == 2);
        List<Long> created = Fixtures.pids(pids);
        Thread jobThread = new Thread(() -> attempt.run(executor, new CommandLine(script.toFile()), env),
                "buildhook-job-test");
        jobThread.start();
        JobOutcome outcome = attempt.outcome().get(2, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).startsWith("could not start " + script + ": . doesn't exist");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(created)
                .as("the program and its child, ended").allMatch(Fixtures::isGone));
        jobThread.join(TimeUnit.MINUTES.toMillis(1));
        launcher.close();
    }

    @Test
    void aStartGateThatFailsWhenToldTheAttemptEndsItNotStartedInsteadOfLeavingItsJobThreadWaiting() throws Exception {
        fixtures = new Fixtures(dir);
        Path ran = dir.resolve("ran");
        Path script = fixtures.script("gate-fails", "echo ran > '" + ran + "'\nsleep 60");
        CommonsExecLauncher launcher = fixtures.launcher(fixtures.config());
        StartGate failing = new StartGate() {
            @Override
            public <T> T pass(Spawn<T> spawn) throws IOException {
                return spawn.create();
            }

            @Override
            public void attempt(RunningJob attempt) {
                throw new IllegalStateException("the node's gate failed");
            }
        };

        RunningJob job = launcher.start(Fixtures.request("gate-fails", script), failing);
        JobOutcome outcome = job.outcome().get(2, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).contains("the node's gate failed");
        assertThat(job.process().get(1, TimeUnit.MINUTES)).as("no process was created").isNull();
        assertThat(ran).doesNotExist();
        assertThat(launcher.attempts()).isEmpty();
        launcher.close();
    }
}
