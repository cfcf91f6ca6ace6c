package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The verdict of the start's refusal once both attempts at its first PostgreSQL connection ran out ({@link
 * Store#hostHeldBack}): whether the host held the start back, on the figures a start measured ({@link CpuShare.Window}).
 * FirstLoginStarvedTest (distribution) runs the real case under a CPU quota; its second attempt's own login thread waits
 * off the CPU behind the first attempt's, so how often that test saw the difference depended on the machine's timing
 * (red in CI's run of d274849e). These figures fix it.
 */
class FirstConnectionHeldBackTest {

    private static final long S = 1_000_000_000L;

    /** {@code wall}, {@code ran}, {@code queued} and {@code held} in tenths of a second. */
    private static CpuShare.Window window(long wall, long ran, long queued, long held) {
        return new CpuShare.Window(wall * S / 10, 0, held * S / 10, ran * S / 10, queued * S / 10, -1, 2.3, 1, "login");
    }

    @Test
    void aLastAttemptBlockedBehindTheFirstAttemptsStarvedLoginIsHeldBackByTheHost() {
        // CI's whole start: 34.1 s, its CPU quota held it back for 54.7 s, a login waited 18.4 s for a CPU. The last
        // attempt's thread: BLOCKED on the driver's classes the first attempt's thread was still loading, so neither
        // running nor queued, while the quota held the process back for less than three quarters of that attempt.
        CpuShare.Window last = window(120, 0, 3, 70);
        CpuShare.Window whole = window(341, 1, 184, 547);
        assertThat(last.starved()).as("the last attempt's thread alone looks like a wait for PostgreSQL").isFalse();

        assertThat(Store.hostHeldBack(last, whole)).isTrue();
    }

    @Test
    void aLastAttemptThatWaitedForPostgresAfterAColdFirstLoginIsNotTheHosts() {
        // No quota, a busy host: the first login queued for a CPU (a cold JVM), the second waited for a PostgreSQL that
        // does not answer. The whole start is not held back either: the first attempt's queueing is a part of it.
        CpuShare.Window last = window(25, 0, 1, 0);
        CpuShare.Window whole = window(55, 3, 21, 0);

        assertThat(Store.hostHeldBack(last, whole)).isFalse();
    }

    @Test
    void aLastAttemptHeldBackOnItsOwnIsTheHostsWhateverTheWholeStart() {
        assertThat(Store.hostHeldBack(window(20, 0, 18, 0), window(400, 1, 18, 0))).isTrue();
    }
}
