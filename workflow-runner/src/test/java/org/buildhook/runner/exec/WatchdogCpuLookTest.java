package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * What the watchdog's look at an attempt's first process counts as "ran while asleep" after a gap of its own
 * ({@link NodeWatchdog.CpuLook#explains}): the CPU time the awake time around the gap explains.
 */
class WatchdogCpuLookTest {

    private static final long STEP_NANOS = 250_000_000L;
    private static final long STEP_TICKS = 25;

    /** Looks {@code steps} steps apart, the process using {@code ticksPerStep} in each. */
    private static NodeWatchdog.CpuLook looked(int steps, long ticksPerStep) {
        NodeWatchdog.CpuLook look = new NodeWatchdog.CpuLook();
        long now = 0;
        long cpu = 1000;
        for (int i = 0; i <= steps; i++) {
            look.next(cpu, now, false, STEP_NANOS);
            now += STEP_NANOS;
            cpu += ticksPerStep;
        }
        return look;
    }

    /**
     * review52 F2: a first process idle for the last 2 s (a shell script or make waiting for its child) that begins a
     * burst on one thread right at the freeze: the rest of that step plus the thaw to the first look, about 2 steps,
     * is no sign that it ran while frozen (it was killed and its job run again).
     */
    @Test
    void anIdleFirstProcessBusyAroundTheGapIsNotJudgedToHaveRunOn() {
        NodeWatchdog.CpuLook look = looked(9, 0);
        assertThat(look.peakPerStep()).isZero();
        long used = 2 * STEP_TICKS;
        assertThat(used - look.explains(STEP_TICKS, 1)).isLessThan(NodeWatchdog.RAN_TICKS);
        int threads = Math.min(2, Runtime.getRuntime().availableProcessors());
        assertThat(threads * used - look.explains(STEP_TICKS, threads)).isLessThan(NodeWatchdog.RAN_TICKS);
    }

    /** A busy process's own peak still counts four steps (a look late at load). */
    @Test
    void aBusyProcessIsAllowedFourStepsOfItsPeak() {
        assertThat(looked(9, 20).explains(STEP_TICKS, 1)).isEqualTo(4 * 20);
        assertThat(looked(2, 0).explains(STEP_TICKS, 1)).as("not measured yet: all its threads busy, 4 steps")
                .isEqualTo(4 * STEP_TICKS);
    }

    /**
     * asleep50: a command that ran on through a gap of the silence bound (at least 8 steps) on one thread used far
     * more than the awake time around it explains, however idle it was before.
     */
    @Test
    void aProcessThatRanThroughTheWholeGapIsStillCaught() {
        long ranThrough = 8 * STEP_TICKS;
        assertThat(ranThrough - looked(9, 0).explains(STEP_TICKS, 1)).isGreaterThanOrEqualTo(NodeWatchdog.RAN_TICKS);
        assertThat(ranThrough - looked(9, 2).explains(STEP_TICKS, 1)).isGreaterThanOrEqualTo(NodeWatchdog.RAN_TICKS);
    }
}
