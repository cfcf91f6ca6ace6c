package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * review30: with this JVM a child subreaper ({@link Orphans}), an orphan that two running attempts could own (it
 * started after both) is ended by the one that ends last, also when both end at the same moment (a superseding push
 * cancelling several jobs, a node's stop). Before, the first one's look left it to the second (still running), and
 * the second one's look, made before the first one's {@link Orphans#ended}, left it to the first: neither ended it,
 * and it outlived both jobs. Real processes; the two terminations are run one after the other in the order of that
 * race, the first attempt's end not yet recorded when the second looks.
 */
@EnabledOnOs(OS.LINUX)
class OrphansEndingTogetherTest {

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void noneLeft() {
        scheduler.shutdownNow();
    }

    @Test
    void anOrphanBothCouldOwnIsEndedWhenTheyEndAtTheSameMoment() throws Exception {
        Object first = SubreaperOn.owner("job-a");
        Object second = SubreaperOn.owner("job-b");
        ProcessTree firstTree = SUBREAPER.attempt(first);
        ProcessTree secondTree = SUBREAPER.attempt(second);
        // A process re-parented to this JVM after both started: either attempt may have left it.
        long orphan = SUBREAPER.orphan();

        // The first ends while the second still runs: it leaves the orphan to the second, which may own it.
        ProcessTree.Termination firstEnd = firstTree.terminate(Duration.ofSeconds(30), scheduler)
                .get(2, TimeUnit.MINUTES);
        assertThat(firstEnd.escaped()).noneMatch(e -> e.startsWith(orphan + " "));
        assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive)).contains(true);

        // The second ends before the first's end is recorded (Orphans.ended): it is the last that could own it.
        ProcessTree.Termination secondEnd = secondTree.terminate(Duration.ofSeconds(30), scheduler)
                .get(2, TimeUnit.MINUTES);
        // Either may have made it: the second's outcome names the first as well (orphan31).
        assertThat(secondEnd.escaped()).as("what the second attempt's end ended")
                .contains(orphan + " sleep (detached; started while this job and job job-a ran)");
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            ProcStat stat = ProcStat.of(orphan);
            return stat == null || stat.gone();
        });
    }
}
