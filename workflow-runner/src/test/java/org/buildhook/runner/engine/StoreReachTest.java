package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link StoreReach}: from when another node's silence counts, and how long it is given (cluster27 F8). */
class StoreReachTest {

    private static final Instant T = Instant.parse("2026-12-02T22:50:00Z");

    @Test
    void answersWithoutABreakLeaveTheSilenceCountedFromTheLastHeartbeat() {
        StoreReach reach = new StoreReach(Duration.ofSeconds(2));
        for (int s = 0; s <= 60; s++) {
            assertThat(reach.answered(T.plusSeconds(s))).isNull();
        }
        assertThat(StoreReach.silentFrom(T, reach.answered(T.plusSeconds(61)))).isEqualTo(T);
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
        assertThat(StoreReach.silentFrom(T.plusSeconds(1), back)).isEqualTo(back);
        assertThat(StoreReach.silentFrom(back.plusSeconds(5), back)).isEqualTo(back.plusSeconds(5));
        assertThat(StoreReach.silentFrom(null, back)).isEqualTo(back);
        assertThat(StoreReach.silentFrom(null, null)).isNull();
    }

    @Test
    void theStartsOwnTimeIsNoBreakButAGapAfterItIs() {
        StoreReach reach = new StoreReach(Duration.ofSeconds(2));
        reach.answered(T); // the claim
        reach.resumed(T.plusSeconds(30)); // the start's end: its 30 s asked nothing at the usual pace
        assertThat(reach.answered(T.plusSeconds(31))).isNull();
        assertThat(reach.answered(T.plusSeconds(40))).isEqualTo(T.plusSeconds(40));
    }

    @Test
    void anotherNodeIsGivenTheLimitSinceThisNodesReturnAndThatIsSaidOnce() {
        StoreReach reach = new StoreReach(Duration.ofSeconds(2));
        Duration limit = Duration.ofSeconds(30);
        Instant back = T.plusSeconds(77);
        AtomicInteger said = new AtomicInteger();
        // Silent since T, long past the limit, but this node itself came back only at back.
        assertThat(reach.keepsWaiting("job-1@3", T, back, back.plusSeconds(10), limit, said::incrementAndGet)).isTrue();
        assertThat(reach.keepsWaiting("job-1@3", T, back, back.plusSeconds(30), limit, said::incrementAndGet)).isTrue();
        assertThat(said).hasValue(1);
        assertThat(reach.keepsWaiting("job-1@3", T, back, back.plusSeconds(31), limit, said::incrementAndGet)).isFalse();
        // A sign of life after this node's return counts from itself; none at all (a JVM gone) from the return.
        assertThat(reach.keepsWaiting("job-2@1", back.plusSeconds(20), back, back.plusSeconds(45), limit,
                said::incrementAndGet)).isTrue();
        assertThat(reach.keepsWaiting("job-3/1", null, back, back.plusSeconds(45), limit, said::incrementAndGet))
                .isFalse();
        assertThat(reach.keepsWaiting("job-3/1", null, null, back, limit, said::incrementAndGet)).isFalse();
        assertThat(said).hasValue(2);
    }
}
