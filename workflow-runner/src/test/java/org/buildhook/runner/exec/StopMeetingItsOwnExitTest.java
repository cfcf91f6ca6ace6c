package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * tryout22 F6: a cancel that reached a command as it ended by itself said it was killed ({@code CANCELLED,
 * cancelled; process tree terminated}) although its log's last line had run and its exit status, 0, was its
 * own: the stop looked for the processes (a pass over /proc, milliseconds), the program exited meanwhile, and
 * the signals then went to a zombie. A program that exited before the signals keeps its own outcome on every
 * stop: cancel (and supersede, the same call), timeout, the launcher's close at shutdown.
 */
class StopMeetingItsOwnExitTest extends LauncherTest {

    private ExitAtTheStop exit;

    @BeforeEach
    void arm() throws Exception {
        exit = ExitAtTheStop.in(dir);
    }

    @AfterEach
    void disarm() {
        exit.close();
    }

    private RunningJob started(String name, String lines, Duration timeout) throws Exception {
        Path script = fixtures.script(name + ".sh", lines);
        RunningJob job = launcher.start(new JobRequest(Fixtures.jobId(name), 1, List.of(script.toString()), Map.of(),
                null, null, timeout));
        await().atMost(Duration.ofSeconds(30)).until(exit::started);
        return job;
    }

    private static void assertOwnExit(JobOutcome outcome, int code, String message) throws Exception {
        assertThat(outcome.result()).isEqualTo(code == 0 ? JobOutcome.Result.SUCCEEDED : JobOutcome.Result.FAILED);
        assertThat(outcome.exitCode()).isEqualTo(code);
        assertThat(outcome.message()).isEqualTo(message);
        assertThat(Files.readAllLines(outcome.logFile())).as("no killed line under the command's last")
                .containsExactly("done");
    }

    /** A command exiting {@code code} as {@code stop} looks for its processes keeps {@code exited with <code>}. */
    private void assertKeepsItsExit(String name, int code, java.util.function.Consumer<RunningJob> stop)
            throws Exception {
        RunningJob job = started(name, exit.script(code), Duration.ofHours(1));

        stop.accept(job);

        assertOwnExit(job.outcome().get(60, TimeUnit.SECONDS), code, "exited with " + code);
    }

    @Test
    void aCommandThatExitsAsItsCancelLooksForItsProcessesKeepsItsOwnSuccess() throws Exception {
        assertKeepsItsExit("cancelled", 0, RunningJob::cancel);
    }

    @Test
    void aCommandThatExitsAsItIsSupersededKeepsItsOwnFailure() throws Exception {
        assertKeepsItsExit("superseded", 3, job -> job.cancel("superseded by job 01M of a newer build"));
    }

    /**
     * At its timeout, with a background process left: the command is not said to have timed out, nor is that
     * announced ({@link RunningJob#decided()}) before the leftover is signalled; its own exit is.
     */
    @Test
    void aCommandThatExitsAsItsTimeoutLooksForItsProcessesKeepsItsOwnExitAndItsLeftoverIsEnded() throws Exception {
        Path leftover = dir.resolve("leftover");
        RunningJob job = started("timeout", "sleep 1000 > /dev/null 2>&1 & echo $! > '" + leftover + "'\n"
                + exit.script(0), Duration.ofMillis(500));

        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertOwnExit(outcome, 0, "exited with 0; 1 leftover process(es) terminated");
        assertThat(job.decided()).isCompleted();
        assertThat(job.decided().get().result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(job.decided().get().exitCode()).isZero();
        long sleeper = Long.parseLong(Files.readString(leftover).strip());
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.isGone(sleeper));
    }

    @Test
    void aCommandThatExitsAsTheShutdownLooksForItsProcessesKeepsItsOwnSuccess() throws Exception {
        assertKeepsItsExit("shutdown", 0, job -> launcher.close());
    }

    /** The other side of the line: a command still running when the signals come is killed, as ever. */
    @Test
    void aCommandStillRunningAtTheSignalsIsCancelled() throws Exception {
        exit.close();
        RunningJob job = started("running", exit.script(0), Duration.ofHours(1));

        job.cancel();

        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);
        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.CANCELLED);
        assertThat(outcome.exitCode()).isNull();
        assertThat(outcome.message()).isEqualTo("cancelled; process tree terminated");
        assertThat(Files.readAllLines(outcome.logFile())).containsExactly(
                "[buildhook] killed: cancelled; process tree terminated");
    }
}
