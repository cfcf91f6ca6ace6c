package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop asked of the attempt itself after {@link CommonsExecLauncher#start(JobRequest, StartGate)} returned but
 * before its job thread created the process (an operator's cancel, a supersede, the node's self-fencing, the
 * launcher's close) must keep the command from starting at all: it used to be created, its first lines run, and
 * only then killed by {@link Attempt#add} (prestart27 P2; for self-fencing that is a command running on a node
 * that has given its job up). The moment is held open by the engine's gate, which the launcher asks on the job
 * thread just before the exec: the test stops the attempt while the gate waits, then lets the gate go on.
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
     * A gate that waits, on the job thread, until the test lets it go on; then lets the creation happen (also
     * StopDuringASpawnThatHangsTest's node gate).
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

        RunningJob job = launcher.start(Fixtures.request(name, script), gate);
        assertThat(gate.reached.await(2, TimeUnit.MINUTES)).isTrue();
        stop.accept(job);
        gate.release.countDown();
        JobOutcome outcome = job.outcome().get(2, TimeUnit.MINUTES);

        assertThat(job.process().get(1, TimeUnit.MINUTES)).as("no process was created").isNull();
        assertThat(ran).doesNotExist();
        return outcome;
    }
}
