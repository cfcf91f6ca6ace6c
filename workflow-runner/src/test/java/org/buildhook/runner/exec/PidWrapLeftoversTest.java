package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * escape50 F2: on a host whose pid counter goes round (pid_max 32768: minutes on a busy host), a process a job
 * started after the wrap has a lower pid than the job's program. The look for what the job left running when it
 * exited read only the pids handed out since its program, so such leftovers, in its own session or carrying its
 * marker, ran on, and the outcome said its output was still held by them. The wrap is made here by moving the
 * counter back ({@code /proc/sys/kernel/ns_last_pid}: root only; skipped otherwise), and seen as a running job's
 * cancel checks see it ({@link Leftovers#notePidCounter}). Real processes, real {@code /proc}.
 */
class PidWrapLeftoversTest extends LauncherTest {

    private static final Path COUNTER = Path.of("/proc/sys/kernel/ns_last_pid");

    @Test
    void leftoversBornAfterThePidCounterWentRoundAreEndedWhenTheJobExits() throws Exception {
        assumeTrue(ProcStat.available() && Files.isWritable(COUNTER), "needs root to move the pid counter");
        Path pids = dir.resolve("pids");
        Path low = dir.resolve("low");
        Path go = dir.resolve("go");
        Path begin = dir.resolve("begin");
        // Once started: back below its own pid (as after a wrap), two leftovers (one in its session, one that left it
        // with the marker), then up above its own pid again (as the counter climbs back) before it exits.
        Path script = fixtures.script("wraps.sh", "while [ ! -e '" + begin + "' ]; do sleep 0.05; done\n"
                + "back=$(( $$ > 2300 ? $$ - 2000 : 300 ))\n"
                + "echo $back > " + COUNTER + "\n"
                + "sleep 1000 & echo $! >> '" + pids + "'\n"
                + "setsid sh -c 'echo $$ >> \"$1\"; exec sleep 1001' sh '" + pids + "' &\n"
                + "while [ $(wc -l < '" + pids + "') -lt 2 ]; do sleep 0.05; done\n"
                + "echo $$ > '" + low + "'\n"
                + "while [ ! -e '" + go + "' ]; do sleep 0.05; done\n"
                + "echo $(( $$ + 20 )) > " + COUNTER + "\n"
                + "exit 0");
        RunningJob job = launcher.start(new JobRequest(Fixtures.jobId("wrap"), 1, List.of(script.toString()), Map.of(),
                null, null, Duration.ofHours(1)));
        List<Long> left = List.of();
        try {
            Files.writeString(begin, ""); // the launcher knows the program now: the counter goes back after that
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(low) && !Files.readString(low).isBlank());
            long program = Long.parseLong(Files.readString(low).trim());
            left = Fixtures.pids(pids);
            assertThat(left).hasSize(2).allMatch(pid -> pid < program, "born below the program's pid");
            Leftovers.notePidCounter(); // a running job's cancel check, while the counter is below the program's pid
            Files.writeString(go, "");

            JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

            assertThat(outcome.message()).startsWith("exited with 0; 2 leftover process(es) terminated");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Fixtures.pids(pids))
                    .allMatch(Fixtures::isGone, "gone"));
        } finally {
            Files.writeString(go, "");
            for (long pid : Fixtures.pids(pids)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
