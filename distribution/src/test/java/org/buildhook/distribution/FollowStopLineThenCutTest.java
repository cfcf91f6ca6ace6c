package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ci47-c: {@code buildhook logs -f} of a server that stops said the server's own last line of the follow (the stop's,
 * marked as the server's: {@code [buildhook] the log follow stopped: the server is stopping …}), and then, its
 * connection closed by the stop before the answer's end came (a stop under load), a second end: "the connection to
 * the server … ended while reading …". After the server's own last line the cut is no news: the stop's line stays the
 * last line, and the command exits 3 as for an answer that ended whole. A real command (its own JVM) against a real
 * socket that sends that answer and closes the connection without the chunked answer's end.
 */
class FollowStopLineThenCutTest {

    @TempDir
    Path dir;
    Process client;

    @AfterEach
    void kill() throws InterruptedException {
        if (client != null) {
            client.destroyForcibly().waitFor();
        }
    }

    @Test
    void theServersStopLineStaysTheLastLineWhenTheConnectionIsCutAfterIt() throws Exception {
        String job = "01M95000000000000000000000";
        String mark = "0123456789abcdef0123456789abcdef";
        String stopLine = "[buildhook] the log follow stopped: the server is stopping (graceful stop); attempt 1 of"
                + " job " + job + " ended on this node: its command exited 0 at 2026-12-06T08:52:19.537Z, but the"
                + " store could not record it before the stop; kept for this node's next start";
        Path token = Files.writeString(dir.resolve("admin-token"), "a-token-of-32-characters-or-more-here\n");
        Path out = dir.resolve("logs.out");
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            client = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                    System.getProperty("java.class.path"), Main.class.getName(), "logs", "-f", job, "--attempt", "1",
                    "--url", "http://127.0.0.1:" + server.getLocalPort() + "/", "--token-file", token.toString())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    head.append((char) b);
                }
                assertThat(head.toString()).startsWith("GET /api/jobs/" + job + "/log?attempt=1&follow=1");
                byte[] chunk = ("done-at-last\n" + mark + " " + stopLine + "\n").getBytes(StandardCharsets.UTF_8);
                OutputStream o = s.getOutputStream();
                o.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n" + FollowMarksHeader.NAME
                        + ": " + mark + "\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(chunk.length)
                        + "\r\n").getBytes(StandardCharsets.US_ASCII));
                o.write(chunk);
                o.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                o.flush();
                // Closed here, without the chunked answer's end ("0\r\n\r\n"), as a stop under load may.
            }
        }

        assertThat(client.waitFor(2, TimeUnit.MINUTES)).isTrue();
        String printed = Files.readString(out);
        assertThat(printed.lines().toList()).as(printed).endsWith(stopLine);
        assertThat(printed).as(printed).contains("done-at-last").doesNotContain("ended while reading");
        assertThat(client.exitValue()).as(printed).isEqualTo(ExitCodes.UNAVAILABLE);
    }

    /** The header's name, as the server sends it ({@link org.buildhook.servlet.FollowMarks#HEADER}). */
    private static final class FollowMarksHeader {
        static final String NAME = org.buildhook.servlet.FollowMarks.HEADER;
    }
}
