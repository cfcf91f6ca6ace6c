package org.buildhook.runner.exec;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * escape50 F1's daemon, for tests: a shell in a session of its own (an attempt's program, carrying its marker) that
 * starts a Perl daemon that leaves its session ({@code setsid}), closes the job's descriptors and writes its title over
 * its environment ({@code $0}), as {@code nginx} or {@code pg_ctl start} do: it then carries no
 * {@code BUILDHOOK_ATTEMPT} any more. With a cgroup, the shell is moved into it before it forks the daemon, as the
 * launcher moves an attempt's program right after its creation.
 *
 * @param shell  the attempt's program (reads its input until its end: close it or kill it)
 * @param daemon the daemon's pid, once it has written its title
 * @param cgroup the attempt's cgroup it was moved into, or null
 */
record TitledDaemon(Process shell, long daemon, Path cgroup) {

    static final String PERL = "/usr/bin/perl";

    /**
     * Starts it.
     *
     * @param marker the attempt's marker, set in the shell's environment
     * @param title  how the daemon's title begins (unique to the test)
     * @param dir    a folder for its flag file
     * @param cgroup the attempt's cgroup to move the shell into, or null for none
     */
    static TitledDaemon start(AttemptMarker marker, String title, Path dir, Path cgroup) throws IOException {
        Path flag = dir.resolve(title + ".up");
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "/bin/sh", "-c", "read go; setsid " + PERL
                + " -e '$0 = $ENV{T} . (\".\" x 4000); open(my $f, \">\", $ENV{F}); close($f); sleep 900'"
                + " </dev/null >/dev/null 2>&1 & read end");
        builder.environment().clear();
        builder.environment().put(AttemptMarker.VARIABLE, marker.value());
        builder.environment().put("PATH", System.getenv("PATH"));
        builder.environment().put("T", title);
        builder.environment().put("F", flag.toString());
        builder.redirectErrorStream(true);
        Process shell = builder.start();
        AttemptCgroups.adopt(cgroup, shell.pid());
        shell.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
        shell.getOutputStream().flush();
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(flag));
        return new TitledDaemon(shell, titled(title), cgroup);
    }

    /** The pid of the process whose command line begins with {@code title}. */
    static long titled(String title) {
        long[] pid = {-1};
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            for (ProcStat stat : ProcStat.all()) {
                String cmdline = cmdline(stat.pid());
                if (!stat.gone() && cmdline != null && cmdline.startsWith(title)) {
                    pid[0] = stat.pid();
                    return true;
                }
            }
            return false;
        });
        return pid[0];
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Whether the daemon is gone (or a zombie). */
    boolean daemonGone() {
        return ProcessTree.isGone(daemon);
    }

    /** Ends all of it, its cgroup removed. */
    void end() throws InterruptedException {
        ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
        shell.destroyForcibly();
        shell.waitFor();
        AttemptCgroups.end(cgroup);
    }
}
