package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop of an attempt ({@link RunningJob#kill}: self-fencing's and a node-id takeover's way; a cancel, the timeout)
 * must not wait for its process's creation to return: an exec can hang (a program or working folder on a hard-mounted
 * NFS share during the network partition that also cut the store off), and the engine's own wait (RunningJobs.awaitCreations) for
 * creations is bounded for that reason. e0fe3dbe made the look at the stop and the creation one step under the
 * attempt's lock, so a stop waited for the creation: the fencing thread, which kills the node's jobs one after the
 * other, stayed blocked on the first, and the others ran on while another node took them over (review29). The
 * hanging creation is a stand-in {@link StartGate.Spawn} given to the attempt's own gate, the step the launcher's
 * executor runs; the attempt itself is a real one, the thread that starts it held by the node's gate before its own
 * look.
 */
class StopDuringASpawnThatHangsTest {

    @TempDir
    Path dir;

    private Fixtures fixtures;

    @AfterEach
    void close() {
        if (fixtures != null) {
            fixtures.close();
        }
    }

    @Test
    void aKillDoesNotWaitForACreationThatHangs() throws Exception {
        fixtures = new Fixtures(dir);
        Path script = fixtures.script("never-started", "sleep 60");
        CommonsExecLauncher launcher = fixtures.launcher(fixtures.config());
        StopBeforeTheExecTest.HeldGate node = new StopBeforeTheExecTest.HeldGate(); // the node's gate
        CompletableFuture<RunningJob> starting = StopBeforeTheExecTest.startHeld(launcher,
                Fixtures.request("hung-exec", script), node);
        Attempt attempt = (Attempt) launcher.attempts().get(0);

        CountDownLatch spawning = new CountDownLatch(1);
        CountDownLatch hung = new CountDownLatch(1);
        CompletableFuture<Object> creation = CompletableFuture.supplyAsync(() -> {
            try {
                return attempt.gate(StartGate.OPEN).pass(() -> {
                    spawning.countDown();
                    try {
                        hung.await(); // an exec that does not return
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new IOException("the stand-in exec never returned");
                });
            } catch (IOException e) {
                return e;
            }
        });
        try {
            assertThat(spawning.await(2, TimeUnit.MINUTES)).isTrue();
            CompletableFuture<Void> kill = CompletableFuture.runAsync(
                    () -> attempt.kill("killed by its own node: no heartbeat could be written"));
            // 1 min: a bound for a stop that waits for the hung creation only; the kill itself takes no time.
            await().atMost(Duration.ofMinutes(1)).until(kill::isDone);
            kill.get();
        } finally {
            hung.countDown();
            creation.get(1, TimeUnit.MINUTES);
            node.release.countDown();
        }
        assertThat(starting.get(2, TimeUnit.MINUTES)).isSameAs(attempt);
        JobOutcome outcome = attempt.outcome().get(2, TimeUnit.MINUTES);
        assertThat(outcome.message())
                .isEqualTo("killed by its own node: no heartbeat could be written; its command was not started");
        assertThat(attempt.process().get(1, TimeUnit.MINUTES)).as("no process was created").isNull();
    }
}
