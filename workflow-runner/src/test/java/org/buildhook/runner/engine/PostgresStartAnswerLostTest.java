package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.PgFront;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * review51 S1: PostgreSQL committed the start of a job's first attempt, and the connection broke before its answer (a
 * crash of the server, {@code pg_ctl stop -m immediate}, a network cut just after the commit). The job's thread tried
 * the start again once the store answered: that try found attempt 1 running, of this very process, recorded it
 * {@code INTERRUPTED} "the store lost that record (a database server that crashed and lost commits it had
 * acknowledged …)" and ran the command as attempt 2: a history with an attempt that never ran, blaming a healthy
 * database. Now the start tried again goes on with the attempt the lost try made: one attempt, the command run once.
 * Real PostgreSQL behind a {@link PgFront} that forwards the start whole and drops its answer; a real engine and
 * process. Both ways a first attempt starts: with the job's read ({@code jobToStart}, a job that waits for nothing),
 * and by the start after it (a job with a concurrency limit, which takes its slot first).
 */
class PostgresStartAnswerLostTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "started with its read|0|, attempt AS (INSERT INTO job_attempts",
        "started after its slot was taken|1|WHERE id = $1 FOR UPDATE), lease AS ("})
    void aStartWhoseAnswerWasLostRunsAsThatAttemptAndTheCommandOnce(String how, int concurrency, String statement)
            throws Exception {
        String url = TestStores.postgresUrl();
        PgFront front = PgFront.to(url);
        closing.add(front);
        Store store = Store.open(StoreConfig.of(front.url(url), dir.resolve("data")));
        closing.add(store);
        CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        closing.add(launcher);
        Path runs = dir.resolve("runs");
        Path script = Files.writeString(dir.resolve("count.sh"), "#!/bin/sh\necho ran >> " + runs + "\n");
        front.cutAnswerAt(statement);
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy",
                List.of("/bin/sh", script.toString()), Map.of(), 0, Duration.ofMillis(100), concurrency)))
                .jobIds().get(0);
        JobEngine engine = JobEngine.create(store, launcher, AbstractEngineTest.steady("node-a"));
        closing.add(engine::stop);
        engine.start();

        await().atMost(Duration.ofSeconds(60)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        JobDetail done = store.job(jobId).orElseThrow();

        assertThat(front.cutAnswers()).as("the start was sent, and its answer dropped").isEqualTo(1);
        assertThat(Files.readAllLines(runs)).as("the command ran once").containsExactly("ran");
        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.attempts()).as("no attempt that never ran, no 'the store lost that record'")
                .extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
    }

    /**
     * record53 B: the answer to the read that started the job's first attempt (a job that waits for nothing starts
     * with its read) was lost, and the operator cancelled the job meanwhile (its execution picked: only flagged). The
     * read tried again found the job running with attempt 1 and its cancel asked, and ended it "cancelled while attempt
     * 1 ran; its node stopped before the attempt ended", its attempt 1 left RUNNING under it, though no command was
     * launched. Now that attempt, never launched, is ended by its cancel, and the job says it never ran.
     */
    @org.junit.jupiter.api.Test
    void aCancelAskedWhileTheAnswerToTheReadThatStartedTheJobWasLostEndsItsAttemptNeverLaunched() throws Exception {
        String url = TestStores.postgresUrl();
        PgFront front = PgFront.to(url);
        closing.add(front);
        Store store = Store.open(StoreConfig.of(front.url(url), dir.resolve("data")));
        closing.add(store);
        CommonsExecLauncher launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        closing.add(launcher);
        Path runs = dir.resolve("runs");
        Path script = Files.writeString(dir.resolve("count.sh"), "#!/bin/sh\necho ran >> " + runs + "\n");
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("deploy",
                List.of("/bin/sh", script.toString()), Map.of(), 0, Duration.ofMillis(100), 0))).jobIds().get(0);
        java.util.concurrent.atomic.AtomicReference<Object> cancelled = new java.util.concurrent.atomic.AtomicReference<>();
        // The cancel is committed before the job's thread can see its read's connection broken.
        front.cutAnswerAt(", attempt AS (INSERT INTO job_attempts", () -> {
            try {
                cancelled.set(store.cancel(jobId));
            } catch (RuntimeException e) {
                cancelled.set(e);
            }
        });
        JobEngine engine = JobEngine.create(store, launcher, AbstractEngineTest.steady("node-a"));
        closing.add(engine::stop);
        engine.start();

        await().atMost(Duration.ofSeconds(60)).until(() -> store.job(jobId).orElseThrow().job().state().isFinal());
        JobDetail done = store.job(jobId).orElseThrow();

        assertThat(front.cutAnswers()).as("the read that started it was sent, and its answer dropped").isEqualTo(1);
        assertThat(cancelled.get()).as("the cancel, flagged while that answer was lost").isEqualTo(Boolean.TRUE);
        assertThat(runs).as("no command launched").doesNotExist();
        assertThat(done.job().state()).isEqualTo(JobState.CANCELLED);
        assertThat(done.job().message()).isEqualTo("cancelled before it ran");
        assertThat(done.attempts()).as("its attempt ended as what it is: never launched, ended by the cancel")
                .extracting(JobAttempt::outcome, JobAttempt::message)
                .containsExactly(org.assertj.core.api.Assertions.tuple(AttemptOutcome.CANCELLED,
                        "not launched: its cancel (or a newer build's supersede) was asked while the answer to its"
                                + " start was lost"));
    }
}
