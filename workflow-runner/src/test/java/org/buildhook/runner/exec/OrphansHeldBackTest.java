package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * orphan31 (review30 L2, contain30 L1): an orphan that its attempt's last look could not take (a start under way
 * held it back as one possibly being spawned; or it was handed to this JVM only later) is ended by the periodic look
 * ({@link Orphans#reapAllNow}) once nothing holds it back, as one that started while that attempt ran; before, it
 * was nobody's and outlived the job. That look never ends a process a running attempt could own, nor one that
 * started while no attempt ran. Real processes; the start that hangs is a real start held by a latch.
 */
@EnabledOnOs(OS.LINUX)
class OrphansHeldBackTest {

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void noneLeft() {
        scheduler.shutdownNow();
    }

    private static boolean alive(long pid) {
        ProcStat stat = ProcStat.of(pid);
        return stat != null && !stat.gone();
    }

    @Test
    void anOrphanHeldBackByAStartUnderWayIsEndedOnceTheStartReturned() throws Exception {
        Object owner = SubreaperOn.owner("job-a");
        ProcessTree tree = SUBREAPER.attempt(owner);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // A start that hangs (an exec on a hard-mounted NFS share): under way while the orphan starts and while the
        // attempt ends.
        CompletableFuture<Process> hanging = CompletableFuture.supplyAsync(() -> {
            try {
                return Orphans.spawn(null, () -> {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return new ProcessBuilder("sleep", "600").start();
                });
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(entered.await(1, TimeUnit.MINUTES)).isTrue();
        long orphan = SUBREAPER.orphan();

        ProcessTree.Termination end = tree.terminate(Duration.ofSeconds(30), scheduler).get(2, TimeUnit.MINUTES);
        assertThat(end.escaped()).as("held back: it may be the one being started").isEmpty();
        Orphans.ended(owner);
        Orphans.reapAllNow();
        assertThat(alive(orphan)).as("still held back while the start is under way").isTrue();

        release.countDown();
        Process madeByThatStart = SUBREAPER.started(hanging.get(1, TimeUnit.MINUTES));
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            Orphans.reapAllNow();
            return ProcStat.of(orphan) == null;
        });
        assertThat(madeByThatStart.isAlive()).as("the process that start made").isTrue();
    }

    @Test
    void theLateLookLeavesWhatARunningAttemptCouldOwnAndWhatStartedWhileNoneRan() throws Exception {
        Object first = SubreaperOn.owner("job-a");
        ProcessTree firstTree = SUBREAPER.attempt(first);
        Object second = SubreaperOn.owner("job-b");
        ProcessTree secondTree = SUBREAPER.attempt(second);
        long shared = SUBREAPER.orphan();
        firstTree.terminate(Duration.ofSeconds(30), scheduler).get(2, TimeUnit.MINUTES);
        Orphans.ended(first);

        Orphans.reapAllNow();
        assertThat(alive(shared)).as("job-b, still running, may have made it").isTrue();

        ProcessTree.Termination secondEnd = secondTree.terminate(Duration.ofSeconds(30), scheduler)
                .get(2, TimeUnit.MINUTES);
        assertThat(secondEnd.escaped()).containsExactly(shared + " sleep (detached; started while this job and"
                + " job job-a ran)");
        Orphans.ended(second);
        long endedAt = Orphans.now();
        await().atMost(Duration.ofMinutes(1)).until(() -> Orphans.now() > endedAt); // a tick after the end

        long afterAll = SUBREAPER.orphan(); // started once no attempt ran: nothing says it is a job's
        Orphans.reapAllNow();
        Orphans.reapAllNow();
        assertThat(alive(afterAll)).isTrue();
    }
}
