package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * review55b F3: without the attempts' cgroups and without the subreaper (the WAR's default), a program that ignores
 * SIGTERM and forks in a loop forked between the look that listed the attempt's processes after the kill grace and
 * its own SIGKILL: that child ran on, with the job's marker, after a cancel, a timeout or the end of its leftovers
 * (review55b: 2 of 5 attempts). Each SIGKILL round is now followed by a fresh look, and SIGKILL to what is new, until a
 * look finds none ({@link KillRounds}). Each test repeats the race {@value #TRIES} times: before, at least one of them
 * left a process on this machine every run. The assertion holds on any machine, slow or fast: once the end of the
 * attempt is known, no process carries its marker.
 */
@EnabledOnOs(OS.LINUX)
class ForkDuringTheKillTest extends LauncherTest {

    @RegisterExtension
    static final CgroupsOff CGROUPS_OFF = new CgroupsOff();

    static final int TRIES = 20;

    /** Ignores SIGTERM (its children inherit that) and forks a {@code sleep} every few milliseconds, for good. */
    static final String FORKER = "trap '' TERM; while :; do sleep 300 </dev/null >/dev/null 2>&1 & sleep 0.003; done";

    /**
     * As {@link #FORKER}, without a pause: the look for what a job left reads only the pids handed out since its
     * program, so quickly that a forker with a pause was seldom caught between that look and its SIGKILL.
     */
    static final String FAST_FORKER = "trap '' TERM; while :; do sleep 300 </dev/null >/dev/null 2>&1 & done";

    private String tag;

    @BeforeEach
    void shortGraceNoSubreaper() {
        assertThat(Orphans.active()).as("this JVM a child subreaper").isFalse();
        tag = UUID.randomUUID().toString();
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withKillGrace(Duration.ofMillis(100)));
    }

    @AfterEach
    void noSleeperLeft() throws IOException {
        // Whatever the outcome, no forker nor sleep 300 is left behind for the other tests.
        String needle = "TEST_TAG=" + tag + "\0";
        Fixtures.liveWhere("environ", environ -> new String(environ, StandardCharsets.ISO_8859_1).contains(needle))
                .forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    private JobRequest request(String name, String script) {
        return new JobRequest(Fixtures.jobId(name), 1, List.of("/bin/bash", "-c", script), Map.of("TEST_TAG", tag),
                null, null, Duration.ofMinutes(10));
    }

    /** The live processes that carry attempt 1 of job {@code name}'s marker, read from /proc by the test itself. */
    private static List<Long> marked(String name) throws IOException {
        String needle = AttemptMarker.of(Fixtures.jobId(name), 1) + "\0";
        return Fixtures.liveWhere("environ", environ -> new String(environ, StandardCharsets.ISO_8859_1)
                .contains(needle));
    }

    private static String awaitFile(Path file) {
        return "while [ ! -e '" + file + "' ]; do sleep 0.01; done";
    }

    @Test
    void aCancelEndsWhatAProgramIgnoringSigtermForkedDuringItsKill() throws Exception {
        for (int i = 0; i < TRIES; i++) {
            String name = "fork-cancel-" + i;
            Path started = dir.resolve(name);
            RunningJob job = launcher.start(request(name, "echo > '" + started + "'; " + FORKER));
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(started));

            job.cancel();
            JobOutcome outcome = job.outcome().get(2, TimeUnit.MINUTES);

            assertThat(outcome.result()).isEqualTo(JobOutcome.Result.CANCELLED);
            assertThat(outcome.message()).contains("SIGKILL after the 100ms grace period");
            assertThat(marked(name)).as("try %d: processes with the job's marker once its end is known (%s)", i,
                    outcome.message()).isEmpty();
        }
    }

    @Test
    void theEndOfALeftoverIgnoringSigtermEndsWhatItForkedDuringItsKill() throws Exception {
        for (int i = 0; i < TRIES; i++) {
            String name = "fork-leftover-" + i;
            Path started = dir.resolve(name);
            RunningJob job = launcher.start(request(name, "(echo > '" + started + "'; " + FAST_FORKER
                    + ") </dev/null >/dev/null 2>&1 & " + awaitFile(started) + "; exit 0"));

            JobOutcome outcome = job.outcome().get(2, TimeUnit.MINUTES);

            assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
            assertThat(outcome.message()).contains("leftover process(es) terminated");
            assertThat(marked(name)).as("try %d: processes with the job's marker once its end is known (%s)", i,
                    outcome.message()).isEmpty();
        }
    }

    @Test
    void theSweepOfALeftoverIgnoringSigtermEndsWhatItForkedDuringItsKill() throws Exception {
        for (int i = 0; i < TRIES; i++) {
            String name = "fork-sweep-" + i;
            AttemptMarker marker = AttemptMarker.of(Fixtures.jobId(name), 1);
            Path started = dir.resolve(name);
            // What a dead node left: the attempt's program in a session of its own (setsid execs in place).
            ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "/bin/bash", "-c",
                    "echo > '" + started + "'; " + FORKER).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                            "/dev/null"))).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            builder.environment().put(AttemptMarker.VARIABLE, marker.value());
            builder.environment().put("TEST_TAG", tag);
            Process program = builder.start();
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(started));
            ProcessIdentity recorded = ProcessIdentity.of(program.pid());
            assertThat(recorded.session()).isEqualTo(program.pid());

            List<String> killed = Leftovers.kill(marker, recorded, 100);

            assertThat(killed).contains(program.pid() + " bash");
            assertThat(marked(name)).as("try %d: processes with the attempt's marker once the sweep is done (%s)", i,
                    killed).isEmpty();
        }
    }
}
