package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * review47 F3: the admin commands wait 30 s for an answer, no longer than the server's own bound on an answer of its
 * store (at least 30 s), so a server waiting for a silent PostgreSQL may not get to answer its 503: the command gave
 * up and asked whether 'buildhook serve' was running there, and a re-run asked again blindly could make a second job.
 * A server that took the request but did not answer is now said to be one that may be waiting for its store, whose
 * change may have been made all the same. A real socket that accepts and never answers.
 */
class AdminClientNoAnswerTest {

    @Test
    void aServerThatTookTheRequestAndGaveNoAnswerIsNotSaidToBeUnreachable() throws Exception {
        List<Socket> held = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread accepter = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept()); // read nothing, answer nothing
                    }
                } catch (java.io.IOException e) {
                    // closed at the end of the test
                }
            });
            accepter.setDaemon(true);
            accepter.start();
            URI base = URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/");
            AdminClient client = new AdminClient(base, "token", Duration.ofSeconds(2));

            assertThatThrownBy(() -> client.post("api/jobs/01J0/rerun"))
                    .isInstanceOf(CommandFailure.class)
                    .hasMessageStartingWith("the server at " + base + " took the request but gave no answer within 2 s:"
                            + " it may be waiting for its store")
                    .hasMessageContaining("may have been made all the same: look (buildhook jobs) before asking again")
                    .hasMessageNotContaining("is 'buildhook serve' running there");
            // A read changes nothing (tryout49 F7): nothing "may have been made"; status is not sent to status.
            assertThatThrownBy(() -> client.get("jobs"))
                    .isInstanceOf(CommandFailure.class)
                    .hasMessage("the server at " + base + " took the request but gave no answer within 2 s: it may be"
                            + " waiting for its store (buildhook status says; docs/storage.md).");
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * sweep49: a page of a log with its notes, which {@code logs -f} on a terminal asks for about each line that begins
     * like buildhook's note, in the middle of the follow, had no answer timeout: a server that took the ask and gave no
     * answer held the command for good. It is given up after the answer timeout, as every other short request is (the
     * follow then shows the line as one the server did not vouch for). Failed before: no answer within the test's
     * 1-minute bound on a hang.
     */
    @Test
    void aLogPageAskedOfAServerThatGivesNoAnswerIsGivenUpAfterTheAnswerTimeout() throws Exception {
        List<Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread accepter = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept()); // read nothing, answer nothing
                    }
                } catch (java.io.IOException e) {
                    // closed at the end of the test
                }
            });
            accepter.setDaemon(true);
            accepter.start();
            URI base = URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/");
            AdminClient client = new AdminClient(base, "token", Duration.ofSeconds(2));

            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofMinutes(1), () ->
                    assertThatThrownBy(() -> client.logPage("jobs/01J0/log?notes=1&from=0&length=64"))
                            .isInstanceOf(CommandFailure.class)
                            .hasMessageStartingWith("the server at " + base + " took the request but gave no answer"
                                    + " within 2 s"));
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
