package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.CALLS_REAL_METHODS;
import static org.mockito.Mockito.mockStatic;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
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

    @BeforeAll
    static void subreaper() {
        Orphans.reset();
        System.setProperty(Orphans.PROPERTY, "on");
        Orphans.decide();
        assertThat(Orphans.active()).as("prctl(PR_SET_CHILD_SUBREAPER) on this Linux").isTrue();
    }

    @AfterAll
    static void noSubreaper() {
        Orphans.reset();
        System.clearProperty(Orphans.PROPERTY);
    }

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
}
