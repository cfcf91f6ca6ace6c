package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Closing the follows (an undeploy, a stop) ends every follow, even when the follows' thread is held
 * by a look that waits for a slow store at that moment (review10, M3: the ends queued behind it were
 * dropped once the close stopped waiting, so those requests stayed open until the container's own
 * timeout, MAX_FOLLOW + 1 min, with their log files open). Real Jetty, real HTTP.
 */
class LogFollowsCloseTest {

    /** Has nothing to send yet and never ends by itself: a quiet job. */
    static class Quiet implements LogFollows.Source {
        final CountDownLatch looked = new CountDownLatch(1);

        @Override
        public byte[] next() {
            return null;
        }

        @Override
        public boolean ended() {
            return false;
        }

        @Override
        public void look() {
            looked.countDown();
        }

        @Override
        public void close() {
        }
    }

    /** Its look waits (as for a store that does not answer) until interrupted or released. */
    static final class Slow extends Quiet {
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void look() {
            looked.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void closingEndsEveryFollowEvenWhileALookWaitsForTheStore() throws Exception {
        LogFollows follows = LogFollows.start();
        Quiet quiet = new Quiet();
        Slow slow = new Slow();
        FollowServer server = new FollowServer(follows);
        try {
            CompletableFuture<HttpResponse<String>> quietFollow = server.follow("quiet", quiet);
            quiet.looked.await();
            await().atMost(Duration.ofMinutes(1)).until(() -> follows.open() == 1);
            CompletableFuture<HttpResponse<String>> slowFollow = server.follow("slow", slow);
            slow.looked.await(); // the follows' thread now waits in the slow look

            follows.close();

            await().atMost(Duration.ofMinutes(1)).until(quietFollow::isDone);
            assertThat(quietFollow.get().statusCode()).isEqualTo(200);
            await().atMost(Duration.ofMinutes(1)).until(slowFollow::isDone);
            assertThat(follows.open()).isZero();
        } finally {
            slow.release.countDown();
            server.close();
        }
    }
}
