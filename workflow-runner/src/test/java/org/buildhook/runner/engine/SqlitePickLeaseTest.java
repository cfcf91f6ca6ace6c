package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.kagkarlsson.scheduler.task.CompletionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;

class SqlitePickLeaseTest extends AbstractPickLeaseTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    /**
     * The gate's look at the lease's age (chaos33 F2, PostgresPickLeaseTest) is for stores other nodes share: a SQLite
     * store is one node's (its lock), and no other takes its jobs over, so a node held between its attempt's start
     * record and its command's creation for longer than the dead-node limit still runs the command, once.
     */
    @Test
    void aNodeHeldBetweenItsAttemptsStartAndItsProcessCreationRunsTheCommandOnceWhenNoOtherNodeCanTakeTheJob()
            throws Exception {
        Path ran = dir.resolve("ran");
        String jobId = accept("echo \"$BUILDHOOK_ATTEMPT\" >> " + ran);
        EngineConfig fast = AbstractEngineTest.fast(NODE);
        Duration limit = fast.heartbeatInterval().multipliedBy(fast.missedHeartbeats());
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        try (var real = org.buildhook.runner.exec.CommonsExecLauncher.create(
                org.buildhook.runner.exec.LauncherConfig.defaults(dir.resolve("logs-a")))) {
            JobTask node = nodeTask(new HeldLauncher(real, holdUntil(held, go), started -> { }), NODE, running);
            Execution picked = pick(jobId, Instant.now());
            Future<CompletionHandler<Void>> first = threads.submit(() -> node.execute(picked.taskInstance,
                    context(picked)));
            assertThat(held.await(60, TimeUnit.SECONDS)).as("the node reached its launch").isTrue();
            long since = System.nanoTime();
            // What is waited for is time itself: twice the dead-node limit held.
            await().atMost(Duration.ofSeconds(60)).until(() -> System.nanoTime() - since > 2 * limit.toNanos());
            go.countDown();
            complete(first.get(60, TimeUnit.SECONDS));
        }
        assertThat(Files.readAllLines(ran)).hasSize(1);
        JobDetail job = store.job(jobId).orElseThrow();
        assertThat(job.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(job.attempts()).extracting(JobAttempt::outcome).containsExactly(AttemptOutcome.SUCCEEDED);
    }
}
