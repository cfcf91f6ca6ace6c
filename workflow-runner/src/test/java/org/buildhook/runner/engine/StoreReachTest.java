package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** {@link StoreReach} and {@link OwnExecutionsKept#silentFrom}: from when another node's silence counts (cluster27 F8). */
class StoreReachTest {

    private static final Instant T = Instant.parse("2026-12-02T22:50:00Z");

    @Test
    void answersWithoutABreakLeaveTheSilenceCountedFromTheLastHeartbeat() {
        StoreReach reach = new StoreReach(Duration.ofSeconds(2));
        for (int s = 0; s <= 60; s++) {
            assertThat(reach.answered(T.plusSeconds(s))).isNull();
        }
        assertThat(OwnExecutionsKept.silentFrom(T, reach.answered(T.plusSeconds(61)))).isEqualTo(T);
    }

    @Test
    void aBreakLongerThanTheGapCountsTheSilenceFromTheReturn() {
        StoreReach reach = new StoreReach(Duration.ofSeconds(2));
        reach.answered(T);
        Instant back = T.plusSeconds(77);
        assertThat(reach.answered(back)).isEqualTo(back);
        assertThat(reach.answered(back.plusSeconds(1))).isEqualTo(back);
        // An answer that reaches this late (another thread's, older) does not make a break of its own.
        assertThat(reach.answered(back.minusMillis(500))).isEqualTo(back);
        assertThat(OwnExecutionsKept.silentFrom(T.plusSeconds(1), back)).isEqualTo(back);
        assertThat(OwnExecutionsKept.silentFrom(back.plusSeconds(5), back)).isEqualTo(back.plusSeconds(5));
        assertThat(OwnExecutionsKept.silentFrom(null, back)).isEqualTo(back);
        assertThat(OwnExecutionsKept.silentFrom(null, null)).isNull();
    }

    @Test
    void theStartsOwnTimeIsNoBreakButAGapAfterItIs() {
        StoreReach reach = new StoreReach(Duration.ofSeconds(2));
        reach.answered(T); // the claim
        reach.resumed(T.plusSeconds(30)); // the start's end: its 30 s asked nothing at the usual pace
        assertThat(reach.answered(T.plusSeconds(31))).isNull();
        assertThat(reach.answered(T.plusSeconds(40))).isEqualTo(T.plusSeconds(40));
    }
}
