package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.buildhook.runner.exec.AttemptCgroups;
import org.buildhook.runner.exec.CgroupsRequired;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * escape50 F1 (H): a job's daemon that leaves the job's session ({@code setsid}), closes the job's descriptors and
 * writes its title over its environment (nginx, {@code pg_ctl start}, Perl's {@code $0}) carries no
 * {@code BUILDHOOK_ATTEMPT} any more: after its node's {@code kill -9}, the sweep of the node that started again found
 * it neither by session nor by marker, and the job ran again beside it (twice at once). Now each attempt's processes
 * are in a cgroup of their own ({@link AttemptCgroups}): the sweep ends the daemon before the job runs again, and the
 * second attempt's daemon is ended at that attempt's end; a like process of the host in no attempt's cgroup is left
 * alone, and no cgroup of the job is left. Real nodes (JVMs), real SQLite store, real processes and cgroups.
 */
class AttemptCgroupAfterKillNineTest {

    private static final String NODE = "cgroup51-6";
    private static final String PERL = "/usr/bin/perl";

    @TempDir
    Path dir;

    @Test
    void theSweepEndsATitleWritingDaemonOfTheKilledNodesAttemptBeforeTheJobRunsAgain() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PERL)), "needs perl");
        CgroupsRequired.require();
        StoreConfig config = TestStores.sqlite(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        String title = "cgroup51-" + UUID.randomUUID();
        // The daemon: its own session, the job's descriptors closed, its title over its environment; it says so once
        // its title is written (its %ENV is Perl's copy, whatever its environment's memory now shows).
        // Started once the script is in its cgroup: what detaches before the move is outside it (running-jobs.md).
        Path script = Files.writeString(dir.resolve("daemon.sh"), "until grep -q '^0::.*/buildhook-' /proc/$$/cgroup;"
                + " do sleep 0.01; done\n"
                + "T=\"" + title + "-$$\" E=\"" + events + "\" setsid "
                + PERL + " -e '$0 = $ENV{T} . (\".\" x 4000); open(my $f, \">>\", $ENV{E}); print $f \"daemon $$\\n\";"
                + " close($f); sleep 900' </dev/null >/dev/null 2>&1 &\n"
                + "echo \"start $$\" >> " + events + "\n"
                + "while [ ! -f " + go + " ]; do [ -d " + dir + " ] || exit 1; sleep 0.05; done\n");
        Process unrelated = new ProcessBuilder(PERL, "-e", "$0 = \"" + title + "-unrelated\" . (\".\" x 4000);"
                + " sleep 900").start();
        String[] common = NodeProcess.hourLimit(config, dir.resolve("data"), 1);
        NodeProcess first = NodeProcess.start(dir, NODE, AbstractCrashTest.concat(common, "slow=1",
                "slowScript=" + script, "label=job"));
        NodeProcess second = null;
        String jobId = null;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> count(events, "daemon ") == 1
                    && count(events, "start ") == 1);
            long daemon = pidOf(events, "daemon ", 0);
            assertThat(cmdline(daemon)).startsWith(title + "-" + pidOf(events, "start ", 0));
            assertThat(environ(daemon)).as("its title is written over its marker").doesNotContain("BUILDHOOK_ATTEMPT");
            first.kill();
            assertThat(gone(daemon)).as("the node's kill -9 leaves it running").isFalse();

            second = NodeProcess.start(Files.createDirectories(dir.resolve("again")), NODE, common);
            await().atMost(Duration.ofMinutes(5)).until(() -> count(events, "start ") == 2);
            assertThat(gone(daemon)).as("ended by the sweep before the job ran again (not twice at once)").isTrue();
            await().atMost(Duration.ofMinutes(2)).until(() -> count(events, "daemon ") == 2);
            long again = pidOf(events, "daemon ", 1);

            Files.createFile(go);
            try (Store store = Store.open(config)) {
                org.buildhook.runner.store.JobDetail job = AbstractCrashTest.succeededAtItsSecondAttempt(store);
                List<JobAttempt> attempts = job.attempts();
                jobId = job.job().id();
                assertThat(attempts.get(0).message()).contains("killed what it left: ").contains(daemon + " ");
                assertThat(attempts.get(1).message()).startsWith("exited with 0; ").contains(again + " ");
            }
            assertThat(gone(again)).as("ended with its attempt").isTrue();
            assertThat(unrelated.isAlive()).as("a like process in no attempt's cgroup is left alone").isTrue();
            assertThat(cgroupsOf(jobId)).as("no cgroup of the job is left").isEmpty();
        } finally {
            first.kill();
            if (second != null) {
                second.stop();
                second.kill();
            }
            unrelated.destroyForcibly();
            endTitled(title);
            if (jobId != null) {
                for (Path cgroup : cgroupsOf(jobId)) {
                    Files.deleteIfExists(cgroup); // empty once its processes are gone
                }
            }
        }
    }

    /** The attempts' cgroups of job {@code jobId} in this node's cgroup (a ULID: its name holds it as it is). */
    private static List<Path> cgroupsOf(String jobId) throws IOException {
        Path base = AttemptCgroups.base();
        if (base == null) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(base)) {
            return children.filter(p -> p.getFileName().toString().startsWith("buildhook-" + jobId + "-")).toList();
        }
    }

    private static void endTitled(String title) {
        ProcessHandle.allProcesses().filter(p -> cmdline(p.pid()).startsWith(title))
                .forEach(ProcessHandle::destroyForcibly);
    }

    /** Gone, or a zombie. */
    private static boolean gone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    private static String environ(long pid) throws IOException {
        return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")), StandardCharsets.ISO_8859_1);
    }

    private static long count(Path events, String prefix) throws IOException {
        return lines(events).stream().filter(l -> l.startsWith(prefix)).count();
    }

    private static long pidOf(Path events, String prefix, int index) throws IOException {
        String line = lines(events).stream().filter(l -> l.startsWith(prefix)).toList().get(index);
        return Long.parseLong(line.substring(prefix.length()).trim());
    }

    private static List<String> lines(Path events) throws IOException {
        return Files.exists(events) ? new ArrayList<>(Files.readAllLines(events)) : List.of();
    }
}
