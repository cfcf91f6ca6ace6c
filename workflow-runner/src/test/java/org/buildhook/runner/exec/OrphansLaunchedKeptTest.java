package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.CALLS_REAL_METHODS;
import static org.mockito.Mockito.mockStatic;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.MockedStatic;

/**
 * review30: with this JVM a child subreaper ({@link Orphans}), a process the runner started stays known as such
 * while it runs, also when its {@code /proc/<pid>/stat} cannot be read for a moment (the JVM out of descriptors: the
 * one injected failure here). {@link Orphans#reapAll} dropped its entry then, as if it had ended; from then on it was
 * an orphan to an attempt that started before it (a watchdog started again while a job ran: ended with that job),
 * and its exit status could be reaped from under the JDK.
 */
@EnabledOnOs(OS.LINUX)
class OrphansLaunchedKeptTest {

    @RegisterExtension
    static final SubreaperOn SUBREAPER = new SubreaperOn();

    @Test
    void aRunningProcessOfThisRunnerIsNoOrphanAfterItsStatCouldNotBeReadOnce() throws Exception {
        Object attempt = new Object();
        Process program = Orphans.spawn(attempt, () -> new ProcessBuilder("sleep", "600").start());
        // Started by this runner after the attempt's program, not for any attempt (as the watchdog is).
        Process started = Orphans.spawn(null, () -> new ProcessBuilder("sleep", "600").start());
        try {
            await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.startTime(started.pid())
                    >= ProcStat.startTime(program.pid()) && ProcStat.name(started.pid()).equals("sleep"));
            ProcStat before = ProcStat.of(started.pid());
            assertThat(Orphans.isOrphanOf(attempt, before)).as("before the failed read").isFalse();

            try (MockedStatic<ProcStat> unreadable = mockStatic(ProcStat.class, CALLS_REAL_METHODS)) {
                unreadable.when(() -> ProcStat.startTime(started.pid())).thenReturn(-1L);
                Orphans.reapAll();
            }

            assertThat(started.isAlive()).isTrue();
            assertThat(Orphans.isOrphanOf(attempt, ProcStat.of(started.pid())))
                    .as("a process this runner started, still running, taken for the attempt's orphan").isFalse();
        } finally {
            Orphans.ended(attempt);
            started.destroyForcibly().waitFor();
            program.destroyForcibly().waitFor();
        }
    }

    @Test
    void aProcessWhoseStatCouldNotBeReadRightAfterItsStartIsNoOrphan() throws Exception {
        // review30 L1: the read right after the start failed (the one injected failure); the pid was never
        // remembered as this runner's, and the process was an orphan to the attempt started before it.
        Object attempt = new Object();
        Process program = Orphans.spawn(attempt, () -> new ProcessBuilder("sleep", "600").start());
        Process started;
        try (MockedStatic<ProcStat> unreadable = mockStatic(ProcStat.class, CALLS_REAL_METHODS)) {
            unreadable.when(() -> ProcStat.startTime(anyLong())).thenReturn(-1L);
            started = Orphans.spawn(null, () -> new ProcessBuilder("sleep", "600").start());
        }
        try {
            await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.startTime(started.pid())
                    >= ProcStat.startTime(program.pid()) && ProcStat.name(started.pid()).equals("sleep"));
            assertThat(Orphans.isOrphanOf(attempt, ProcStat.of(started.pid())))
                    .as("a process this runner started, its stat unreadable at its start").isFalse();
            Orphans.reapAll(); // reads it again: from then on known by its exact start time
            assertThat(Orphans.isOrphanOf(attempt, ProcStat.of(started.pid()))).as("after a reapAll").isFalse();
            assertThat(started.isAlive()).isTrue();
        } finally {
            Orphans.ended(attempt);
            started.destroyForcibly().waitFor();
            program.destroyForcibly().waitFor();
        }
    }
}
