package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * tryout53 F1: with this JVM a child subreaper ({@link Orphans}) and attempts in cgroups of their own
 * ({@link AttemptCgroups}), the standalone server as root, a daemon that left its job's session and environment is
 * re-parented to this JVM. The subreaper alone gives such an orphan to every attempt that ran when it started; its
 * cgroup says whose it is. Before, the outcome of a job that started nothing named another job's daemon as "left
 * running for other jobs that may have started them", and the daemon's own job said "started while this job and job
 * … ran". Real processes, real cgroups (root; {@link CgroupsRequired}).
 */
@EnabledOnOs(OS.LINUX)
class CgroupOrphanTest extends LauncherTest {

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    private static JobRequest request(String name, String script) {
        return new JobRequest(Fixtures.jobId(name), 1, List.of("/bin/sh", "-c", script), Map.of(), null, null,
                Duration.ofMinutes(10));
    }

    private static String waitFor(Path file) {
        return "while [ ! -s '" + file + "' ]; do sleep 0.05; done";
    }

    @Test
    void anOrphanInAJobsCgroupIsThatJobsAloneWhateverRanWhenItStarted() throws Exception {
        CgroupsRequired.require();
        Path goFirst = dir.resolve("go-first");
        Path goSecond = dir.resolve("go-second");
        Path pidFile = dir.resolve("second.pid");
        RunningJob first = launcher.start(request("first", waitFor(goFirst) + "; exit 0"));
        assertThat(first.process().get(2, TimeUnit.MINUTES)).isNotNull();
        // The daemon starts once the second's program is in its cgroup (one that detaches before the move stays
        // outside it, as running-jobs.md says): a subshell that exits at once, so the daemon is an orphan.
        RunningJob second = launcher.start(request("second", "until grep -q '^0::.*/buildhook-' /proc/$$/cgroup; do"
                + " sleep 0.01; done; (setsid env -i /bin/sh -c 'echo $$ > " + pidFile + "; exec sleep 1000'"
                + " </dev/null >/dev/null 2>&1 &) ; " + waitFor(goSecond) + "; exit 0"));
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(pidFile)
                && Files.readString(pidFile).endsWith("\n"));
        long daemon = SUBREAPER.leftBehind(Long.parseLong(Files.readString(pidFile).trim()));
        long self = ProcessHandle.current().pid();
        await().atMost(Duration.ofMinutes(2)).until(() -> ProcStat.of(daemon).parent() == self);
        Files.writeString(goFirst, "go\n");

        // The first started nothing: its outcome names nothing, and the daemon runs on.
        assertThat(first.outcome().get(5, TimeUnit.MINUTES).message()).isEqualTo("exited with 0");
        ProcStat still = ProcStat.of(daemon);
        assertThat(still != null && !still.gone()).as("the second job's daemon runs on").isTrue();

        Files.writeString(goSecond, "go\n");
        // In the second's cgroup: the second's alone, though it started while the first ran.
        assertThat(second.outcome().get(5, TimeUnit.MINUTES).message()).isEqualTo("exited with 0;"
                + " 1 leftover process(es) terminated (1 had left the job's session: " + daemon
                + " sleep (detached from the job))");
        await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.of(daemon) == null);
    }
}
