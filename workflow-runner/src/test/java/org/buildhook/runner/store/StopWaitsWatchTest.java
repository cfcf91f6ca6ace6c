package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.doCallRealMethod;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.spy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watch a stop keeps on the store's calls in flight ({@link StopWaits#stopping()}) survives an
 * unexpected exception of one of its looks (review14 F8): run by {@code scheduleWithFixedDelay}, a
 * look that threw ended the watch without a word, and a call the database never answered then held
 * the stop for ever.
 */
class StopWaitsWatchTest {

    @TempDir
    Path dir;

    @Test
    void theStopsWatchKeepsWatchingAfterALookFailedUnexpectedly() throws Exception {
        CallsInFlight calls = spy(new CallsInFlight());
        // The one injected failure: the watch's first look throws.
        doThrow(new IllegalStateException("injected")).doCallRealMethod().when(calls)
                .stuck(anyLong(), anyLong(), anyLong());
        try (Connection real = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("held.db"));
                StopWaits waits = new StopWaits(Duration.ofMillis(200), calls)) {
            calls.track(real); // a call the database does not answer: never closed
            waits.stopping();

            await().atMost(Duration.ofMinutes(2)).until(waits::gaveUp);
            // gaveUp is set (and said) before the stuck calls are ended, on the watch's thread: awaited, not
            // read at once (store18 saw 1 under load).
            await().atMost(Duration.ofMinutes(2)).untilAsserted(() ->
                    assertThat(waits.callsInFlight()).as("the unanswered call was ended").isZero());
        }
    }
}
