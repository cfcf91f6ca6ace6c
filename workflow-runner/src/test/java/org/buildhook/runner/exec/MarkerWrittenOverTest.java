package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * escape50 F1: {@code /proc/<pid>/environ} is the process's own memory. A program that writes its title over its
 * arguments and the environment after them (nginx, PostgreSQL, Perl's {@code $0}) carries no
 * {@code BUILDHOOK_ATTEMPT} from then on. In the attempt's cgroup ({@link AttemptCgroups}), the sweep of a node that
 * starts again and the watchdog ({@link Leftovers}) find and end it all the same, and nothing outside that cgroup;
 * without one (a node that cannot make cgroups), out of the attempt's session, it is not found (what
 * docs/running-jobs.md, "Not contained", says of such nodes); kept in the attempt's session, it is found there
 * whatever its environment shows (the advice those docs give). Real processes, real {@code /proc}, real cgroups.
 */
class MarkerWrittenOverTest {

    private static final String PERL = "/usr/bin/perl";
    private final List<Process> started = new ArrayList<>();
    private final List<TitledDaemon> daemons = new ArrayList<>();

    @org.junit.jupiter.api.io.TempDir
    Path dir;

    @AfterEach
    void end() throws InterruptedException {
        for (TitledDaemon daemon : daemons) {
            daemon.end();
        }
        started.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        for (Process p : started) {
            try {
                p.waitFor(); // reaped: no shell of a test left behind, not even as a zombie
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A shell in a session of its own, with the marker, that runs {@code script}. */
    private Process session(AttemptMarker marker, String script) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "sh", "-c", script);
        builder.environment().clear();
        builder.environment().putAll(Map.of(AttemptMarker.VARIABLE, marker.value(), "PATH", System.getenv("PATH")));
        builder.redirectErrorStream(true);
        Process p = builder.start();
        started.add(p);
        return p;
    }

    /**
     * escape50 F1 fixed: the attempt's program moved into its cgroup right after its creation, as the launcher does,
     * before it started the daemon. After its node's death (the program still runs here, as a dead node's leaves
     * it), the sweep's and the watchdog's look finds the daemon by the cgroup alone, and their kill ends it and
     * removes the cgroup; a like daemon of another attempt's cgroup, and one in no cgroup of an attempt, are left
     * alone. Failed before: the look found the program only, and the daemon ran on beside the next attempt.
     */
    @Test
    void inTheAttemptsCgroupADaemonThatLeftTheSessionAndWroteItsTitleOverItsEnvironmentIsEnded() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PERL)) && ProcStat.available(), "needs perl and /proc");
        CgroupsRequired.require();
        AttemptMarker marker = AttemptMarker.of("escape50-" + UUID.randomUUID(), 1);
        AttemptMarker other = AttemptMarker.of("escape50-other-" + UUID.randomUUID(), 1);
        TitledDaemon job = started(TitledDaemon.start(marker, "escape50-mine-" + UUID.randomUUID(), dir,
                AttemptCgroups.create(marker)));
        TitledDaemon anotherAttempts = started(TitledDaemon.start(other, "escape50-other-" + UUID.randomUUID(), dir,
                AttemptCgroups.create(other)));
        TitledDaemon inNoCgroup = started(TitledDaemon.start(AttemptMarker.of("escape50-none-" + UUID.randomUUID(), 1),
                "escape50-none-" + UUID.randomUUID(), dir, null));
        long program = job.shell().pid();
        ProcessIdentity recorded = new ProcessIdentity(program, program, ProcStat.startTime(program));
        assertThat(ProcStat.of(job.daemon()).session()).isNotEqualTo(program);
        assertThat(marker.isCarriedBy(job.daemon())).as("its title is written over its marker").isFalse();
        assertThat(AttemptCgroups.cgroupsOf(marker)).containsExactly(job.cgroup());

        assertThat(Leftovers.find(marker, recorded)).containsExactlyInAnyOrder(program, job.daemon());
        List<String> killed = Leftovers.kill(marker, recorded, 0);

        assertThat(killed).hasSize(2).contains(program + " sh").anyMatch(k -> k.startsWith(job.daemon() + " "));
        Awaitility.await().atMost(Duration.ofMinutes(1)).until(job::daemonGone);
        assertThat(Files.exists(job.cgroup())).as("its cgroup removed").isFalse();
        assertThat(anotherAttempts.daemonGone()).as("another attempt's cgroup is left alone").isFalse();
        assertThat(inNoCgroup.daemonGone()).as("a process in no attempt's cgroup is left alone").isFalse();
        assertThat(anotherAttempts.shell().isAlive()).isTrue();
    }

    private TitledDaemon started(TitledDaemon daemon) {
        daemons.add(daemon);
        return daemon;
    }

    /**
     * Pins the limit of a node that cannot make cgroups (docs/running-jobs.md, "Not contained"), not a behaviour
     * wanted for itself: without a cgroup, such a process is found by nothing a node that starts again can read.
     */
    @Test
    void withoutACgroupAProcessThatLeftTheSessionAndWroteItsTitleOverItsEnvironmentIsNotFound() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PERL)) && ProcStat.available(), "needs perl and /proc");
        String title = "escape50-worker-" + UUID.randomUUID();
        AttemptMarker marker = AttemptMarker.of("escape50-" + UUID.randomUUID(), 1);
        // The daemon leaves the attempt's session (setsid) and keeps its environment, then sets its title.
        Process job = session(marker, "setsid " + PERL + " -e '$0 = \"" + title
                + "\" . (\".\" x 4000); sleep 300' </dev/null >/dev/null 2>&1 & read x");
        long daemon = TitledDaemon.titled(title);
        try {
            ProcessIdentity recorded = new ProcessIdentity(job.pid(), job.pid(), ProcStat.startTime(job.pid()));
            assertThat(ProcStat.of(daemon).session()).isNotEqualTo(job.pid());
            assertThat(marker.isCarriedBy(daemon)).isFalse();
            assertThat(Leftovers.find(marker, recorded)).containsExactly(job.pid()).doesNotContain(daemon);
        } finally {
            ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void oneKeptInTheAttemptsSessionIsFoundThereWhateverItsEnvironmentShows() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PERL)) && ProcStat.available(), "needs perl and /proc");
        String title = "escape50-worker-" + UUID.randomUUID();
        AttemptMarker marker = AttemptMarker.of("escape50-" + UUID.randomUUID(), 1);
        Process job = session(marker, PERL + " -e '$0 = \"" + title
                + "\" . (\".\" x 4000); sleep 300' </dev/null >/dev/null 2>&1 & read x");
        long worker = TitledDaemon.titled(title);
        try {
            ProcessIdentity recorded = new ProcessIdentity(job.pid(), job.pid(), ProcStat.startTime(job.pid()));
            assertThat(marker.isCarriedBy(worker)).isFalse();
            assertThat(Leftovers.find(marker, recorded)).containsExactlyInAnyOrder(job.pid(), worker);
        } finally {
            ProcessHandle.of(worker).ifPresent(ProcessHandle::destroyForcibly);
        }
    }
}
