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
 * contain30: with this JVM a child subreaper ({@link Orphans}), a process that leaves the job's session, clears its
 * environment and closes every descriptor of the job ({@code setsid env -i daemon </dev/null >/dev/null 2>&1 &})
 * is re-parented to the JVM and ended with the job, and named; before, it outlived the job. A daemon that a second
 * running job started is not ended by the end of the first, only by its own job's; the first's outcome names it as
 * left running for the second. A {@code java} re-parented to
 * this JVM that holds the job's pipe is found by it (it used to be taken for a child being spawned). Orphans that
 * exit, by a kill or by themselves, are reaped: no zombie stays. With attempts' cgroups off, as under the shipped
 * systemd unit: where they are on, an orphan's cgroup says whose it is ({@link CgroupOrphanTest}).
 */
@EnabledOnOs(OS.LINUX)
class DetachedDaemonTest extends LauncherTest {

    @RegisterExtension
    static final CgroupsOff CGROUPS_OFF = new CgroupsOff();

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    private JobRequest request(String name, String script) {
        return new JobRequest(Fixtures.jobId(name), 1, List.of("/bin/sh", "-c", script), Map.of(), null, null,
                Duration.ofMinutes(10));
    }

    /** Starts {@code command} detached from everything of the job; it writes its pid to {@code pidFile} first. */
    private static String detached(Path pidFile, String command) {
        return "setsid env -i /bin/sh -c 'echo $$ > " + pidFile + "; exec " + command
                + "' </dev/null >/dev/null 2>&1 &";
    }

    private static String waitFor(Path file) {
        return "while [ ! -s '" + file + "' ]; do sleep 0.05; done";
    }

    private long daemon(Path pidFile) throws Exception {
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(pidFile)
                && Files.readString(pidFile).endsWith("\n"));
        return SUBREAPER.leftBehind(Long.parseLong(Files.readString(pidFile).trim()));
    }

    /** Alive: neither gone nor a zombie. */
    private static boolean alive(long pid) {
        ProcStat stat = ProcStat.of(pid);
        return stat != null && !stat.gone();
    }

    /** Reaped: not even a zombie is left. */
    private static boolean reaped(long pid) {
        return ProcStat.of(pid) == null;
    }

    @Test
    void aDaemonThatClosedEveryDescriptorIsEndedWithItsJobAndReaped() throws Exception {
        Path pidFile = dir.resolve("daemon.pid");
        RunningJob job = launcher.start(request("detached",
                detached(pidFile, "sleep 1000") + " " + waitFor(pidFile) + "; exit 0"));

        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);
        long daemon = daemon(pidFile);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.message()).isEqualTo("exited with 0; 1 leftover process(es) terminated"
                + " (1 had left the job's session: " + daemon + " sleep (detached from the job))");
        assertThat(reaped(daemon)).as("ended and reaped, no zombie").isTrue();
    }

    @Test
    void anOrphanOfARunningJobIsNotEndedByTheEndOfAJobStartedBeforeIt() throws Exception {
        // The daemon is an orphan (its parent, a subshell, has exited) while both jobs run: the first job's end
        // finds it a child of this JVM started after the first job did, and leaves it to the second.
        Path goFirst = dir.resolve("go-first");
        Path goSecond = dir.resolve("go-second");
        Path pidFile = dir.resolve("second.pid");
        RunningJob first = launcher.start(request("first", waitFor(goFirst) + "; exit 0"));
        assertThat(first.process().get(2, TimeUnit.MINUTES)).isNotNull();
        RunningJob second = launcher.start(request("second",
                "(" + detached(pidFile, "sleep 1000") + ") ; " + waitFor(goSecond) + "; exit 0"));
        long daemon = daemon(pidFile);
        long self = ProcessHandle.current().pid();
        await().atMost(Duration.ofMinutes(2)).until(() -> ProcStat.of(daemon).parent() == self);
        Files.writeString(goFirst, "go\n");

        // It says what it left running, and for which job (tryout48 F5: it said only "exited with 0", and the
        // daemon ran on under this JVM with nothing naming it until the second job ended).
        assertThat(first.outcome().get(5, TimeUnit.MINUTES).message()).isEqualTo("exited with 0; 1 detached"
                + " process(es) left running for other jobs that may have started them (the last of those jobs to end"
                + " ends each): " + daemon + " sleep (job " + Fixtures.jobId("second") + ")");
        assertThat(alive(daemon)).isTrue();

        Files.writeString(goSecond, "go\n");
        // It started while both ran: which of them made it cannot be told, and the outcome says so (orphan31).
        assertThat(second.outcome().get(5, TimeUnit.MINUTES).message()).isEqualTo("exited with 0;"
                + " 1 leftover process(es) terminated (1 had left the job's session: " + daemon
                + " sleep (detached; started while this job and job " + Fixtures.jobId("first") + " ran))");
        assertThat(reaped(daemon)).isTrue();
    }

    @Test
    void aDaemonProvablyAnotherJobsIsNotNamedInTheOutcomeOfAJobStartedBeforeIt() throws Exception {
        // review48 F4: the second job leaves three orphans of this JVM while the first runs: one still in the second's
        // session without its marker (a double fork, env -i, no setsid), one that left the session but carries the
        // second's marker (setsid, no env -i), and one truly detached (setsid env -i). The first two cannot be the
        // first job's (a session is only inherited; the marker is the second's): its outcome named all three as "left
        // running for other jobs that may have started them". Only the third is still named.
        Path goFirst = dir.resolve("go-first");
        Path goSecond = dir.resolve("go-second");
        Path inSession = dir.resolve("in-session.pid");
        Path marked = dir.resolve("marked.pid");
        Path detachedPid = dir.resolve("detached.pid");
        RunningJob first = launcher.start(request("first", waitFor(goFirst) + "; exit 0"));
        assertThat(first.process().get(2, TimeUnit.MINUTES)).isNotNull();
        RunningJob second = launcher.start(request("second",
                "(env -i /bin/sh -c 'echo $$ > " + inSession + "; exec sleep 1001' </dev/null >/dev/null 2>&1 &) ;"
                        + " (setsid /bin/sh -c 'echo $$ > " + marked + "; exec sleep 1002' </dev/null >/dev/null 2>&1 &)"
                        + " ; (" + detached(detachedPid, "sleep 1003") + ") ; " + waitFor(goSecond) + "; exit 0"));
        long self = ProcessHandle.current().pid();
        long own = daemon(inSession);
        long carrying = daemon(marked);
        long daemon = daemon(detachedPid);
        await().atMost(Duration.ofMinutes(2)).until(() -> ProcStat.of(own).parent() == self
                && ProcStat.of(carrying).parent() == self && ProcStat.of(daemon).parent() == self);
        Files.writeString(goFirst, "go\n");

        assertThat(first.outcome().get(5, TimeUnit.MINUTES).message()).isEqualTo("exited with 0; 1 detached"
                + " process(es) left running for other jobs that may have started them (the last of those jobs to end"
                + " ends each): " + daemon + " sleep (job " + Fixtures.jobId("second") + ")");
        assertThat(alive(own)).isTrue();
        assertThat(alive(carrying)).isTrue();
        assertThat(alive(daemon)).isTrue();

        Files.writeString(goSecond, "go\n");
        assertThat(second.outcome().get(5, TimeUnit.MINUTES).message()).startsWith("exited with 0;"
                + " 3 leftover process(es) terminated").contains(carrying + " sleep", daemon + " sleep");
        await().atMost(Duration.ofMinutes(2)).until(() -> reaped(own) && reaped(carrying) && reaped(daemon));
    }

    @Test
    void anOrphanHandedOverOnlyAfterItsJobEndedIsEndedByTheNextLook() throws Exception {
        // contain30 L1: the detached parent ignores SIGTERM, so the job's end kills it only in its last round
        // (SIGKILL after the 1 s grace), and its own detached child is handed to this JVM only after that last
        // look. Before, nobody claimed it (the job had ended, no other job ran) and it lived on.
        Path pidFile = dir.resolve("child.pid");
        RunningJob job = launcher.start(request("late", "(setsid env -i /bin/sh -c 'trap \"\" TERM;"
                + " setsid sleep 1000 & echo $! > " + pidFile + "; wait' </dev/null >/dev/null 2>&1 &) ; "
                + waitFor(pidFile) + "; exit 0"));

        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);
        long child = daemon(pidFile);
        // Its parent, killed in the last round. The child is handed to this JVM once its parent is gone: the job's
        // end kills it in a later SIGKILL round when it is handed over before that round's look (named then, since
        // review55b F3's rounds: "2 had left the job's session: … sh …, … sleep …"), else the next look does.
        assertThat(outcome.message()).startsWith("exited with 0; 1 leftover process(es) terminated (")
                .contains(" sh (detached from the job)");

        // Ended and reaped by the job's end or by the launcher's periodic look (every 10 s), with no job running.
        await().atMost(Duration.ofMinutes(2)).until(() -> reaped(child));
    }

    @Test
    void anOrphanThatExitsByItselfIsReaped() throws Exception {
        Path go = dir.resolve("go");
        Path stop = dir.resolve("stop");
        Path pidFile = dir.resolve("daemon.pid");
        RunningJob job = launcher.start(request("exits",
                "(" + detached(pidFile, "sh -c \"while [ ! -e " + stop + " ]; do sleep 0.05; done\"") + ") ; "
                        + waitFor(go) + "; exit 0"));
        long daemon = daemon(pidFile);
        long self = ProcessHandle.current().pid();
        await().atMost(Duration.ofMinutes(2)).until(() -> ProcStat.of(daemon).parent() == self);

        Files.writeString(stop, "stop\n");

        // Reaped by the launcher's periodic reap, with no job ending meanwhile.
        await().atMost(Duration.ofMinutes(2)).until(() -> reaped(daemon));
        Files.writeString(go, "go\n");
        assertThat(job.outcome().get(5, TimeUnit.MINUTES).message()).isEqualTo("exited with 0");
    }

    /** Writes its pid to the file named by its argument, then waits. */
    public static final class SleepingJava {
        public static void main(String[] args) throws Exception {
            Files.writeString(Path.of(args[0]), ProcessHandle.current().pid() + "\n");
            Thread.sleep(600_000);
        }
    }

    @Test
    void aJavaReparentedToThisJvmHoldingTheJobsPipeIsFoundByIt() throws Exception {
        Path pidFile = dir.resolve("java.pid");
        String java = ProcessHandle.current().info().command().orElseThrow();
        RunningJob job = launcher.start(request("java",
                "(setsid env -i " + java + " -Xshare:auto -XX:TieredStopAtLevel=1 -Xmx32m -cp '"
                        + System.getProperty("java.class.path") + "' '" + SleepingJava.class.getName() + "' '"
                        + pidFile + "' </dev/null &) ; " + waitFor(pidFile) + "; exit 0"));

        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);
        long escaped = daemon(pidFile);

        assertThat(outcome.message()).isEqualTo("exited with 0; 1 leftover process(es) terminated"
                + " (1 had left the job's session: " + escaped + " java (holding the job's pipe))");
        // Ended before the outcome; reaped by this JVM (its child subreaper) a moment later at load 5 (ci43-f).
        await().atMost(Duration.ofMinutes(2)).until(() -> reaped(escaped));
    }
}
