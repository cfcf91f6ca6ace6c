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

    /** Quiet, and its looks after the first wait, once released, until the test lets them go. */
    static final class SlowOnceClosing extends Quiet {
        final CountDownLatch closing = new CountDownLatch(1);
        final CountDownLatch lastLook = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void look() {
            looked.countDown();
            if (closing.getCount() == 0) {
                lastLook.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Closing the follows without a drain first (a WAR's undeploy: follow40, fixes39) ends each follow with the
     * stop's line after its last look, as the standalone server's drain does: the close shut the follows' thread down
     * while that look was out (nothing queued on the thread then) and ended the follow at once, without the line.
     */
    @Test
    void closingWithoutADrainEndsAFollowWithTheStopsLineAfterItsLastLook() throws Exception {
        LogFollows follows = LogFollows.start();
        SlowOnceClosing source = new SlowOnceClosing();
        FollowServer server = new FollowServer(follows);
        try {
            CompletableFuture<HttpResponse<String>> follow = server.follow("undeployed", source);
            source.looked.await();
            await().atMost(Duration.ofMinutes(1)).until(() -> follows.open() == 1);
            source.closing.countDown();
            CompletableFuture<Void> closed = CompletableFuture.runAsync(follows::close);
            source.lastLook.await();
            source.release.countDown();

            closed.get(1, java.util.concurrent.TimeUnit.MINUTES);
            await().atMost(Duration.ofMinutes(1)).until(follow::isDone);
            assertThat(follow.get().body()).isEqualTo(LogFollows.STOPPED + "the server is stopping (graceful stop);"
                    + " follow again once it runs\n");
        } finally {
            source.release.countDown();
            server.close();
        }
    }
}
