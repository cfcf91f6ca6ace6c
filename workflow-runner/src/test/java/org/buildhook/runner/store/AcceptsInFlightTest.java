package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Jobs let the deliveries being accepted go first, for a bounded time. */
class AcceptsInFlightTest {

    final AcceptsInFlight accepting = new AcceptsInFlight();

    @Test
    void aJobWaitsWhileADeliveryIsBeingAcceptedAndGoesOnOnceItIsStored() throws Exception {
        accepting.enter();
        CompletableFuture<Void> job = CompletableFuture.runAsync(this::awaitAnHour);
        // Still waiting while the accept is in flight (checked for a while, not timed).
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !job.isDone());

        accepting.leave();

        job.get(30, TimeUnit.SECONDS);
        assertThat(accepting.count()).isZero();
    }

    @Test
    void aSteadyStreamOfAcceptsDelaysAJobByAtMostTheBound() throws Exception {
        accepting.enter();
        accepting.enter();
        accepting.leave();
        // One accept stays in flight: the wait ends at its bound anyway.
        CompletableFuture<Void> job = CompletableFuture.runAsync(() -> {
            try {
                accepting.awaitNone(Duration.ofMillis(50));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        job.get(30, TimeUnit.SECONDS);
        assertThat(accepting.count()).isEqualTo(1);
    }

    @Test
    void withNoAcceptInFlightAJobDoesNotWait() throws Exception {
        CompletableFuture<Void> job = CompletableFuture.runAsync(this::awaitAnHour);
        job.get(30, TimeUnit.SECONDS);
    }

    private void awaitAnHour() {
        try {
            accepting.awaitNone(Duration.ofHours(1));
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
