package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * review39 (08a57d67): the server's graceful stop ends every follow after a last look, the rest of its log and a line
 * saying the server stops ({@link LogFollows#endAll()}). A step of a follow that was queued on the follows' thread
 * before its finish (its look had just come back, its wait was over, the client had taken more), or under way, ran
 * after {@code endAll} had closed the follows, and ended the follow at once: the rest of the log was not sent, nor the
 * stop's line, and {@code buildhook logs -f} then asked a port about to close how the job stood. Real Jetty, real
 * HTTP; the follows' thread is held by another follow's read, and the look is watched on its pool, not waited for by
 * time.
 */
class LogFollowsEndAllTest {

    private static final String STOP_LINE = "[buildhook] the log follow stopped: the server is stopping (graceful stop);"
            + " follow again once it runs\n";

    /** Its first look waits until released, and then finds the job's last output: a job that printed a last line. */
    static final class LastOutput implements LogFollows.Source {
        final CountDownLatch looking = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private int looks;
        private byte[] pending;

        @Override
        public byte[] next() {
            byte[] n = pending;
            pending = null;
            return n;
        }

        @Override
        public boolean ended() {
            return false;
        }

        @Override
        public void look() {
            if (++looks == 1) {
                looking.countDown();
                try {
                    release.await(5, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                pending = "the last line\n".getBytes(StandardCharsets.UTF_8);
            }
        }

        @Override
        public void close() {
        }
    }

    /** Its first read holds the follows' thread until released; it has nothing to send. */
    static final class Holding implements LogFollows.Source {
        final CountDownLatch holding = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public byte[] next() {
            if (holding.getCount() > 0) {
                holding.countDown();
                try {
                    release.await(5, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        }

        @Override
        public boolean ended() {
            return false;
        }

        @Override
        public void look() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aFollowWhoseStepComesBeforeItsFinishStillSendsTheRestOfTheLogAndTheStopsLine() throws Exception {
        ThreadPoolExecutor looks = new ThreadPoolExecutor(LogFollows.LOOKS, LogFollows.LOOKS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>());
        LogFollows follows = LogFollows.start(looks);
        FollowServer server = new FollowServer(follows);
        LastOutput last = new LastOutput();
        Holding holding = new Holding();
        try {
            CompletableFuture<HttpResponse<String>> lastFollow = server.follow("last", last);
            last.looking.await(2, TimeUnit.MINUTES); // its first look is out
            CompletableFuture<HttpResponse<String>> heldFollow = server.follow("held", holding);
            holding.holding.await(2, TimeUnit.MINUTES); // the follows' thread is held by this read

            last.release.countDown();
            // The look has come back, and its step is queued on the follows' thread, behind the held read.
            await().atMost(Duration.ofMinutes(2)).until(() -> looks.getCompletedTaskCount() >= 1);
            follows.endAll(); // the finishes are queued behind that step
            holding.release.countDown();

            await().atMost(Duration.ofMinutes(2)).until(() -> lastFollow.isDone() && heldFollow.isDone());
            assertThat(lastFollow.get().body()).isEqualTo("the last line\n" + STOP_LINE);
            assertThat(heldFollow.get().body()).as("a step under way when endAll came").isEqualTo(STOP_LINE);
            assertThat(follows.open()).isZero();
        } finally {
            last.release.countDown();
            holding.release.countDown();
            follows.close();
            server.close();
            looks.shutdownNow();
        }
    }
}
