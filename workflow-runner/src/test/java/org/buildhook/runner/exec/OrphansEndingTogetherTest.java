package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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

    private static final long SELF = ProcessHandle.current().pid();

    private final List<Process> started = new ArrayList<>();
    private final List<Object> owners = new ArrayList<>();
    private long orphan = -1;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    @AfterEach
    void noneLeft() {
        started.forEach(Process::destroyForcibly);
        owners.forEach(Orphans::ended);
        scheduler.shutdownNow();
    }

    /** An attempt as {@link Orphans} sees it: its name is its job's id. */
    private static Object owner(String job) {
        return new Object() {
            @Override
            public String toString() {
                return job;
            }
        };
    }

    /** An attempt's program: {@code sleep 600} in a session of its own, started as the launcher starts one. */
    private ProcessTree attempt(Object owner) throws Exception {
        owners.add(owner);
        Process p = Orphans.spawn(owner, () -> new ProcessBuilder("setsid", "sleep", "600").start());
        started.add(p);
        // setsid execs sleep (the JVM's child is no group leader): the pid is the session's.
        await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.name(p.pid()).equals("sleep"));
        return new ProcessTree(p.toHandle(), true, null, Set.of(), owner);
    }

    @Test
    void anOrphanBothCouldOwnIsEndedWhenTheyEndAtTheSameMoment() throws Exception {
        Object first = owner("job-a");
        Object second = owner("job-b");
        ProcessTree firstTree = attempt(first);
        ProcessTree secondTree = attempt(second);
        // A process re-parented to this JVM after both started: either attempt may have left it.
        Process maker = Orphans.spawn(null, () -> new ProcessBuilder("/bin/sh", "-c",
                "sleep 600 </dev/null >/dev/null 2>&1 & echo $!").start());
        started.add(maker);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(maker.getInputStream(),
                StandardCharsets.US_ASCII))) {
            orphan = SUBREAPER.leftBehind(Long.parseLong(out.readLine().trim()));
        }
        assertThat(maker.waitFor(1, TimeUnit.MINUTES)).isTrue();
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            ProcStat stat = ProcStat.of(orphan);
            return stat != null && stat.parent() == SELF;
        });

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
