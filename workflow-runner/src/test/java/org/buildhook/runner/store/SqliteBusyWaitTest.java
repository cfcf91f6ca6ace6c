package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The SQLite busy handler's side of a wait: when it tries again and when it gives up. */
class SqliteBusyWaitTest {

    @Test
    void aWaitPastItsLimitGivesUpOnlyAfterOneMoreTryMadeAfterItKnewSo() {
        // The limit shortens while the wait goes on, as when an accept comes while bookkeeping waits.
        AtomicLong limit = new AtomicLong(Duration.ofDays(1).toNanos());
        SqliteBusyWait wait = new SqliteBusyWait(limit::get, Duration.ofDays(1), null);

        assertThat(wait.callback(0)).as("within its limit: try again").isEqualTo(1);
        limit.set(0);
        // The try that failed before this call may be from before the lock was freed.
        assertThat(wait.callback(1)).as("past its limit: one more try").isEqualTo(1);
        assertThat(wait.callback(2)).as("that one failed too: give up").isEqualTo(0);
        // A new wait starts afresh.
        assertThat(wait.callback(0)).isEqualTo(1);
        assertThat(wait.callback(1)).isEqualTo(0);
    }

    /**
     * crash15: the last try and the start of its wait were two fields, so a thread counting the waiting
     * connections could read one wait's last try and the next wait's start, and take a wait that had lasted
     * as one just begun. The next wait begins here between the look and its use.
     */
    @Test
    void aLookFromAnotherThreadNeverPairsOneWaitsTryWithTheNextWaitsStart() {
        SqliteBusyWait wait = new SqliteBusyWait(() -> Duration.ofDays(1).toNanos(), Duration.ofDays(1), null);
        wait.callback(0);
        wait.callback(1);
        long now = System.nanoTime();
        Duration seen = wait.waitingAt(now);

        wait.afterRead = () -> wait.callback(0);

        assertThat(wait.waitingAt(now)).as("the wait as it was when looked at").isEqualTo(seen);
    }

    @Test
    void anInterruptedThreadGivesUpAtOnce() {
        SqliteBusyWait wait = new SqliteBusyWait(Duration.ofDays(1));
        Thread.currentThread().interrupt();
        try {
            assertThat(wait.callback(0)).isEqualTo(0);
        } finally {
            Thread.interrupted();
        }
    }
}
