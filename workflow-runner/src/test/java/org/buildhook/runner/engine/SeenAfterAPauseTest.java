package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.Test;

/**
 * The end JobTask records of a command that exited by itself, seen after a pause of its node's JVM
 * ({@link JobTask#seenAfterAPause}): never before the attempt's start (review49 F6), and the words of a pause only for an
 * attempt that ran through it (review49 F7) and whose exit was seen on waking from it (review50 F1).
 */
class SeenAfterAPauseTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);
    private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");

    private static JobOutcome exited(Instant started, Instant ended) {
        return new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, started, ended, "exited with 0", Path.of("log"), false);
    }

    @Test
    void anAttemptTheWatchdogFoundEndedWhileThisJvmWasPausedEndsThen() {
        // Started at 0, the JVM paused from 5 s to 40 s, the watchdog found nothing left at 30 s.
        JobOutcome seen = exited(T0, T0.plusSeconds(40));

        JobOutcome recorded = JobTask.seenAfterAPause(seen, seen.ended(), T0.plusSeconds(30),
                new JvmPauses.Pause(35_000, T0.plusSeconds(40)), LIMIT);

        assertThat(recorded.ended()).isEqualTo(T0.plusSeconds(30));
        assertThat(recorded.message()).startsWith("exited with 0; it ended before " + T0.plusSeconds(30)
                + " (this node's watchdog found nothing of it left to kill then); its exit was seen at "
                + T0.plusSeconds(40));
    }

    @Test
    void aWatchdogsLookBeforeTheAttemptStartedIsNoEndOfIt() {
        // The JVM paused between telling the watchdog "about to start" and the fork: the watchdog's look at 30 s found
        // nothing, because nothing had started yet; the command started at 40 s, on waking, and exited at 45 s.
        JobOutcome seen = exited(T0.plusSeconds(40), T0.plusSeconds(45));

        JobOutcome recorded = JobTask.seenAfterAPause(seen, seen.ended(), T0.plusSeconds(30),
                new JvmPauses.Pause(35_000, T0.plusSeconds(39)), LIMIT);

        assertThat(recorded.ended()).isEqualTo(T0.plusSeconds(45));
        assertThat(recorded.ended()).isAfterOrEqualTo(recorded.started());
        assertThat(recorded.message()).isEqualTo("exited with 0");
    }

    @Test
    void anAttemptRunThroughAPauseNoWatchdogBoundedSaysItsExitWasSeenOnWaking() {
        // No watchdog (SQLite): the JVM paused from 5 s to 40 s; the command started at 0 exited meanwhile.
        JobOutcome seen = exited(T0, T0.plusSeconds(40));

        JobOutcome recorded = JobTask.seenAfterAPause(seen, seen.ended(), null,
                new JvmPauses.Pause(35_000, T0.plusSeconds(40)),
                LIMIT);

        assertThat(recorded.ended()).isEqualTo(T0.plusSeconds(40));
        assertThat(recorded.message()).isEqualTo("exited with 0; its exit was seen at " + T0.plusSeconds(40) + ", "
                + org.buildhook.runner.store.ExecutionLedger.SEEN_ON_WAKING + "35.0 s: it ended before then");
    }

    @Test
    void anAttemptStartedAfterThePauseIsNotSaidToHaveBeenSeenOnWaking() {
        // The JVM paused from 5 s to 40 s (within the dead-node limit of this end); the command started at 45 s and
        // exited by itself at 50 s, seen at once: nothing of the pause concerns it.
        JobOutcome seen = exited(T0.plusSeconds(45), T0.plusSeconds(50));

        JobOutcome recorded = JobTask.seenAfterAPause(seen, seen.ended(), null,
                new JvmPauses.Pause(35_000, T0.plusSeconds(40)),
                LIMIT);

        assertThat(recorded).isEqualTo(seen);
        assertThat(recorded.message()).isEqualTo("exited with 0");
    }

    @Test
    void anExitSeenLongAfterTheWakeIsNotSaidToHaveBeenSeenOnWaking() {
        // review50 F1, the defaults (30 s x 6, no watchdog): a deploy started at -60 s ran through a stall of the JVM
        // from 0 to 95 s and exited by itself at 210 s, seen when it did: the pause hid nothing of it.
        Duration limit = Duration.ofSeconds(180);
        JobOutcome seen = exited(T0.minusSeconds(60), T0.plusSeconds(210));

        JobOutcome recorded = JobTask.seenAfterAPause(seen, seen.ended(), null,
                new JvmPauses.Pause(95_000, T0.plusSeconds(95)),
                limit);

        assertThat(recorded).isEqualTo(seen);
        assertThat(recorded.message()).isEqualTo("exited with 0");
    }

    @Test
    void anExitSeenWithinTwoLateTicksOfTheWakeWasSeenOnWakingOneLaterWasNot() {
        // The JVM paused from 5 s to 40 s; the job's threads may each be a second and a tick late after the wake.
        JvmPauses.Pause pause = new JvmPauses.Pause(35_000, T0.plusSeconds(40));
        Instant latest = T0.plusSeconds(40).plusMillis(JvmPauses.WAKE_MILLIS);

        JobOutcome justSeen = JobTask.seenAfterAPause(exited(T0, latest), latest, null, pause, LIMIT);
        JobOutcome seenLater = JobTask.seenAfterAPause(exited(T0, latest.plusMillis(1)), latest.plusMillis(1), null,
                pause, LIMIT);

        assertThat(JvmPauses.WAKE_MILLIS).isEqualTo(2_500);
        assertThat(justSeen.message()).startsWith("exited with 0; its exit was seen at " + latest + ", "
                + org.buildhook.runner.store.ExecutionLedger.SEEN_ON_WAKING + "35.0 s");
        assertThat(seenLater.message()).isEqualTo("exited with 0");
    }

    @Test
    void anExitSeenBeforeThePauseBeganIsNotSaidToHaveBeenSeenOnWaking() {
        // Seen at 3 s; the JVM then paused from 5 s to 40 s before the end was worded: nothing of it was hidden.
        JobOutcome seen = exited(T0, T0.plusSeconds(3));

        JobOutcome recorded = JobTask.seenAfterAPause(seen, seen.ended(), null,
                new JvmPauses.Pause(35_000, T0.plusSeconds(40)),
                LIMIT);

        assertThat(recorded.message()).isEqualTo("exited with 0");
    }

    @Test
    void anExitTheWatchdogFoundEndedButSeenLongAfterTheWakeKeepsTheBoundWithoutTheWordsOfTheWake() {
        // The watchdog found nothing left at 30 s, in a pause from 5 s to 40 s; this node's thread saw the exit only at
        // 100 s (held up after the wake): it ended before 30 s, but was not seen "when this node ran again".
        JobOutcome seen = exited(T0, T0.plusSeconds(100));

        JobOutcome recorded = JobTask.seenAfterAPause(seen, seen.ended(), T0.plusSeconds(30),
                new JvmPauses.Pause(35_000, T0.plusSeconds(40)), LIMIT);

        assertThat(recorded.ended()).isEqualTo(T0.plusSeconds(30));
        assertThat(recorded.message()).isEqualTo("exited with 0; it ended before " + T0.plusSeconds(30)
                + " (this node's watchdog found nothing of it left to kill then); its exit was seen at "
                + T0.plusSeconds(100));
    }

    @Test
    void anExitSeenOnWakingWhoseLeftoversAndOutputTookSecondsMoreIsSaidToHaveBeenSeenOnWaking() {
        // review50b R6: the JVM stalled from 5 s to 100 s (no watchdog); the command, started at 0, had exited
        // meanwhile and left `sleep &` holding its output. Its exit was seen at the wake (100 s); the end of its
        // leftover and the wait for its output took 3 s more, so the outcome's end is 103 s.
        Duration limit = Duration.ofSeconds(180);
        JobOutcome seen = new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, T0, T0.plusSeconds(103),
                "exited with 0; 1 leftover process(es) terminated", Path.of("log"), false);

        JobOutcome recorded = JobTask.seenAfterAPause(seen, T0.plusSeconds(100), null,
                new JvmPauses.Pause(95_000, T0.plusSeconds(100)), limit);

        assertThat(recorded.ended()).isEqualTo(T0.plusSeconds(103));
        assertThat(recorded.message()).isEqualTo("exited with 0; 1 leftover process(es) terminated;"
                + " its exit was seen at " + T0.plusSeconds(103) + ", "
                + org.buildhook.runner.store.ExecutionLedger.SEEN_ON_WAKING
                + "95.0 s: it ended before then");
    }

    @Test
    void anExitTheWatchdogFoundEndedSeenOnWakingIsSaidSoThoughItsLeftoversTookSecondsMore() {
        // review50b R6 with a watchdog: nothing left at 30 s in a pause from 5 s to 40 s, the exit seen at 40 s, the
        // outcome's end at 43 s (its output held open after it exited).
        JobOutcome seen = new JobOutcome(JobOutcome.Result.SUCCEEDED, 0, T0, T0.plusSeconds(43),
                "exited with 0", Path.of("log"), false);

        JobOutcome recorded = JobTask.seenAfterAPause(seen, T0.plusSeconds(40), T0.plusSeconds(30),
                new JvmPauses.Pause(35_000, T0.plusSeconds(40)), LIMIT);

        assertThat(recorded.ended()).isEqualTo(T0.plusSeconds(30));
        assertThat(recorded.message()).isEqualTo("exited with 0; it ended before " + T0.plusSeconds(30)
                + " (this node's watchdog found nothing of it left to kill then); its exit was seen at "
                + T0.plusSeconds(43) + ", " + org.buildhook.runner.store.ExecutionLedger.SEEN_ON_WAKING + "35.0 s");
    }
}
