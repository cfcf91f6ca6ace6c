package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * escape50 F2: on a host whose pid counter goes round (pid_max 32768: minutes on a busy host), a process a job
 * started after the wrap has a lower pid than the job's program. The look for what the job left running when it
 * exited read only the pids handed out since its program, so such leftovers, in its own session or carrying its
 * marker, ran on, and the outcome said its output was still held by them. The wrap is made here by moving the
 * counter back ({@code /proc/sys/kernel/ns_last_pid}), and seen as a running job's cancel checks see it
 * ({@link Leftovers#notePidCounter}). Real processes, real {@code /proc}.
 *
 * <p>The counter moved is that of a pid namespace of the scenario's own (review50b R4): the scenario runs in another
 * JVM started by {@code unshare --pid --fork --mount-proc} (root only), whose {@code /proc} and counter are that
 * namespace's. Moving the host's counter would give every process forked meanwhile on the host (the other surefire
 * fork's jobs, other builds) a pid below its parent's: a wrap they did not expect. Without root (or without
 * {@code unshare}) the test is skipped, and fails when {@code CI=true}, as CI runs it as root.
 */
class PidWrapLeftoversTest {

    private static final Path COUNTER = Path.of("/proc/sys/kernel/ns_last_pid");
    private static final String PASSED = "scenario passed";

    @TempDir
    Path dir;

    @Test
    void leftoversBornAfterThePidCounterWentRoundAreEndedWhenTheJobExits() throws Exception {
        inAPidNamespace("leftovers");
    }

    /**
     * review50b R5: a session the attempt made (a process of it that called setsid) is remembered by its id, the
     * pid of its leader. Once all its members are gone and the pid counter went round, an unrelated process may get
     * that pid and call setsid: its session then has the remembered id, and was taken for the attempt's, to be ended
     * with it. A process that started before the attempt's program is not the attempt's.
     */
    @Test
    void aSessionIdReusedAfterTheCounterWentRoundIsNotTakenForTheAttempts() throws Exception {
        inAPidNamespace("session");
    }

    private void inAPidNamespace(String name) throws Exception {
        String cannot = whyNoPidNamespace();
        if (cannot != null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("this test moves the pid counter of a pid namespace of its own, which " + cannot
                        + "; CI runs it as root");
            }
            Assumptions.abort(cannot);
        }
        Path output = dir.resolve("scenario.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // sh is the namespace's first process (it reaps what is orphaned there), starts the counter high enough to
        // move it back 2000 below the job's program, and waits for the scenario's JVM.
        Process scenario = new ProcessBuilder("unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c",
                "echo 20000 > " + COUNTER + " && \"$@\" & wait $!", "sh", java,
                "-cp", System.getProperty("java.class.path"), PidWrapLeftoversTest.class.getName(), name, dir.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            boolean ended = scenario.waitFor(5, TimeUnit.MINUTES);
            String log = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(ended).as("the scenario ended; its output: %s", log).isTrue();
            assertThat(scenario.exitValue()).as("the scenario's exit; its output: %s", log).isZero();
            assertThat(log).contains(PASSED);
        } finally {
            scenario.destroyForcibly();
        }
    }

    /** Why a pid namespace of the test's own cannot be made here, or null if it can. */
    private String whyNoPidNamespace() throws IOException, InterruptedException {
        Path probe = Files.createFile(dir.resolve("made-by-this-process"));
        if (((Number) Files.getAttribute(probe, "unix:uid")).intValue() != 0 || !ProcStat.available()) {
            return "needs root (and /proc)";
        }
        try {
            Process unshare = new ProcessBuilder("unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "true")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("unshare.log").toFile()).start();
            if (!unshare.waitFor(1, TimeUnit.MINUTES) || unshare.exitValue() != 0) {
                unshare.destroyForcibly();
                return "needs unshare --pid --mount-proc to work: " + Files.readString(dir.resolve("unshare.log"));
            }
        } catch (IOException e) {
            return "needs unshare (util-linux): " + e.getMessage();
        }
        return null;
    }

    /**
     * The scenario, in a pid namespace of its own ({@code /proc} mounted for it): prints {@value #PASSED} and exits
     * 0 when it passed, else exits 1 with what failed.
     *
     * @param args the scenario ({@code leftovers} or {@code session}), the folder to work in
     */
    public static void main(String[] args) {
        int status = 1;
        try {
            if ("session".equals(args[0])) {
                reusedSession(Path.of(args[1]));
            } else {
                scenario(Path.of(args[1]));
            }
            System.out.println(PASSED);
            status = 0;
        } catch (Throwable e) {
            e.printStackTrace(System.out);
        }
        System.out.flush();
        Runtime.getRuntime().halt(status);
    }

    private static void scenario(Path dir) throws Exception {
        Fixtures fixtures = new Fixtures(dir);
        CommonsExecLauncher launcher = fixtures.launcher(fixtures.config());
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
        try {
            Files.writeString(begin, ""); // the launcher knows the program now: the counter goes back after that
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(low) && !Files.readString(low).isBlank());
            long program = Long.parseLong(Files.readString(low).trim());
            List<Long> left = Fixtures.pids(pids);
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
            launcher.close();
            fixtures.close();
        }
    }

    private static void reusedSession(Path dir) throws Exception {
        Path session = dir.resolve("session");
        // The attempt's program leads a session of its own; a child of it makes another (pid S, session S).
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "sh", "-c", "setsid sh -c 'echo $$ > \""
                + session + "\"; exec sleep 1000' </dev/null >/dev/null 2>&1 & read x");
        builder.environment().clear();
        builder.environment().put("PATH", System.getenv("PATH"));
        Process program = builder.start();
        Process unrelated = null;
        try {
            ProcessTree tree = new ProcessTree(program.toHandle(), true, null);
            tree.rootStarted(ProcStat.startTime(program.pid()));
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(session)
                    && !Files.readString(session).isBlank());
            long made = Long.parseLong(Files.readString(session).trim());
            await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.of(made) != null
                    && ProcStat.of(made).session() == made);
            assertThat(tree.members()).extracting(ProcessHandle::pid).contains(program.pid(), made); // remembered
            // All of that session ends, and the program too (its reaper, this namespace's sh, reaps them).
            ProcessHandle.of(made).ifPresent(ProcessHandle::destroyForcibly);
            program.getOutputStream().close();
            program.waitFor();
            await().atMost(Duration.ofMinutes(1)).until(() -> !Files.exists(Path.of("/proc/" + made)));
            // The counter goes round; an unrelated process gets that pid and leads a session of its own.
            Path reused = dir.resolve("reused");
            unrelated = new ProcessBuilder("sh", "-c", "while :; do echo " + (made - 1) + " > " + COUNTER
                    + "; setsid sleep 1002 </dev/null >/dev/null 2>&1 & p=$!; if [ $p = " + made + " ]; then echo $p > '"
                    + reused + "'; wait $p; exit; fi; kill $p; wait $p; done").start();
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(reused)
                    && !Files.readString(reused).isBlank());
            await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.of(made) != null
                    && ProcStat.of(made).session() == made);

            assertThat(tree.members()).extracting(ProcessHandle::pid).as("not the attempt's").doesNotContain(made);
        } finally {
            program.destroyForcibly();
            if (unrelated != null) {
                unrelated.descendants().forEach(ProcessHandle::destroyForcibly);
                unrelated.destroyForcibly();
            }
        }
    }
}
