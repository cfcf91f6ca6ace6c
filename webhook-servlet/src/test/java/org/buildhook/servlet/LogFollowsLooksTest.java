package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.buildhook.runner.store.StoreUnavailableException;
import org.buildhook.servlet.LogFollowsCloseTest.Slow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The looks of the log follows (review M2): a look that waits for the store holds up no other
 * follow, and a look that fails ends its follow with a last line that says so, not as if the attempt
 * had ended. Real Jetty, real HTTP; the sources stand in for the store (the real store's outage is
 * {@code FollowWithStoreDownTest} in the distribution).
 */
class LogFollowsLooksTest {

    /** Sends one line per look, and has ended after {@code lines} looks: a job that prints. */
    static final class Printing implements LogFollows.Source {
        private final int lines;
        private int looks;
        private byte[] pending;

        Printing(int lines) {
            this.lines = lines;
        }

        @Override
        public byte[] next() {
            byte[] n = pending;
            pending = null;
            return n;
        }

        @Override
        public boolean ended() {
            return looks >= lines && pending == null;
        }

        @Override
        public void look() {
            looks++;
            if (looks <= lines) {
                pending = ("line " + looks + "\n").getBytes(StandardCharsets.UTF_8);
            }
        }

        @Override
        public void close() {
        }
    }

    /** Prints a line without its newline, then its second look fails as a store that cannot be reached. */
    static final class Failing implements LogFollows.Source {
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
            if (++looks == 2) {
                throw new StoreUnavailableException("store unavailable while trying to read job 42: Connection refused",
                        null);
            }
            pending = "compiling".getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
        }
    }

    private LogFollows follows;
    private FollowServer server;

    @BeforeEach
    void start() throws Exception {
        follows = LogFollows.start();
        server = new FollowServer(follows);
    }

    @AfterEach
    void stop() throws Exception {
        for (LogFollows.Source source : server.sources()) {
            if (source instanceof Slow slow) {
                slow.release.countDown();
            }
        }
        follows.close();
        server.close();
    }

    private CompletableFuture<HttpResponse<String>> follow(String name, LogFollows.Source source) {
        return server.follow(name, source);
    }

    @Test
    void aLookThatWaitsForTheStoreHoldsUpNoOtherFollow() throws Exception {
        Slow slow = new Slow();
        CompletableFuture<HttpResponse<String>> waiting = follow("slow", slow);
        slow.looked.await(); // its look now waits, as for a store that does not answer

        CompletableFuture<HttpResponse<String>> printing = follow("printing", new Printing(3));

        await().atMost(Duration.ofSeconds(30)).until(printing::isDone);
        assertThat(printing.get().body()).isEqualTo("line 1\nline 2\nline 3\n");
        assertThat(waiting).as("the slow one still waits for its look").isNotDone();
        assertThat(follows.open()).isEqualTo(1);
    }

    @Test
    void aFollowWhoseLookFailsEndsWithALineSayingTheStoreCouldNotBeRead() throws Exception {
        CompletableFuture<HttpResponse<String>> failing = follow("failing", new Failing());

        await().atMost(Duration.ofSeconds(30)).until(failing::isDone);

        assertThat(failing.get().statusCode()).isEqualTo(200);
        assertThat(failing.get().body()).isEqualTo("compiling\n[buildhook] the log follow stopped: the store could"
                + " not be read (it is unavailable; the server's log says why); fetch the log again once the store"
                + " answers (GET /healthz says 200)\n");
        assertThat(failing.get().body()).doesNotContain("Connection refused", "Exception");
        assertThat(follows.open()).isZero();
    }
}
