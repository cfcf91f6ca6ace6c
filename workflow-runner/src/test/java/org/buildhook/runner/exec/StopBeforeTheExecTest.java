package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop asked of the attempt itself while it is being started, before its process is created (its timeout, the
 * launcher's close, a cancel or a kill by whoever holds it) must keep the command from starting at all: it used to be
 * created, its first lines run, and only then killed by {@link Attempt#add} (prestart27 P2; for self-fencing that is a
 * command running on a node that has given its job up). The moment is held open by the engine's gate, which the
 * launcher asks just before the exec, on the thread that starts the attempt (perf37 F4; before, on the job thread
 * after {@code start} had returned): the test starts the attempt on a thread of its own, stops it while the gate
 * waits, then lets the gate go on.
 */
class StopBeforeTheExecTest {

    @TempDir
    Path dir;

    private Fixtures fixtures;

    @AfterEach
    void close() {
        if (fixtures != null) {
            fixtures.close();
        }
    }

    /**
     * A gate that waits, on the thread that starts the attempt, until the test lets it go on; then lets the creation
     * happen (also StopDuringASpawnThatHangsTest's node gate).
     */
    static final class HeldGate implements StartGate {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public <T> T pass(Spawn<T> spawn) throws IOException {
            reached.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            return spawn.create();
        }
    }

    /**
     * Starts the attempt on a thread of its own, which {@code gate} holds just before the exec; returns once it holds
     * it, with the start's return to come. The attempt is then the launcher's only one ({@link
     * CommonsExecLauncher#attempts()}).
     */
    static CompletableFuture<RunningJob> startHeld(CommonsExecLauncher launcher, JobRequest request, HeldGate gate)
            throws InterruptedException {
        CompletableFuture<RunningJob> starting = CompletableFuture.supplyAsync(() -> launcher.start(request, gate));
        assertThat(gate.reached.await(2, TimeUnit.MINUTES)).isTrue();
        assertThat(launcher.attempts()).hasSize(1);
        return starting;
    }

    @Test
    void aCancelBeforeTheExecStartsNothing() throws Exception {
        JobOutcome outcome = stopBeforeTheExec("cancel-before-exec", job -> job.cancel("cancelled by the operator"));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.CANCELLED);
        assertThat(outcome.message()).isEqualTo("cancelled by the operator; its command was not started");
        assertThat(outcome.commandNotStarted()).isTrue();
        assertThat(Files.readString(outcome.logFile())).contains("not started: cancelled by the operator");
    }

    @Test
    void aKillBeforeTheExecStartsNothing() throws Exception {
        // RunningJobs.fence's way (self-fencing, a takeover of the node's id): kill, no grace.
        JobOutcome outcome = stopBeforeTheExec("kill-before-exec",
                job -> job.kill("killed by its own node: no heartbeat could be written"));

        assertThat(outcome.message())
                .isEqualTo("killed by its own node: no heartbeat could be written; its command was not started");
        assertThat(outcome.commandNotStarted()).isTrue();
    }

    /**
     * Starts a job whose script's first line writes a file, stops it with {@code stop} while its gate holds the job
     * thread before the exec, lets the gate go on; checks that no process was made and the first line never ran.
     *
     * @return the attempt's outcome
     */
    private JobOutcome stopBeforeTheExec(String name, java.util.function.Consumer<RunningJob> stop) throws Exception {
        fixtures = new Fixtures(dir);
        Path ran = dir.resolve("ran");
        Path script = fixtures.script("first-line", "echo ran > '" + ran + "'\nsleep 60");
        CommonsExecLauncher launcher = fixtures.launcher(fixtures.config());
        HeldGate gate = new HeldGate();

        CompletableFuture<RunningJob> starting = startHeld(launcher, Fixtures.request(name, script), gate);
        RunningJob job = launcher.attempts().get(0);
        stop.accept(job);
        gate.release.countDown();
        assertThat(starting.get(2, TimeUnit.MINUTES)).isSameAs(job);
        JobOutcome outcome = job.outcome().get(2, TimeUnit.MINUTES);

        assertThat(job.process().get(1, TimeUnit.MINUTES)).as("no process was created").isNull();
        assertThat(ran).doesNotExist();
        return outcome;
    }
}
