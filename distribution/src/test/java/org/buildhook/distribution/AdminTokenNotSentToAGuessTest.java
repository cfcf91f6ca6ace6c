package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * tryout48 F7: without {@code --url} and without {@code <data-dir>/server-url}, the admin commands sent the admin
 * token to the address they guessed from the configuration: for a WAR's configuration (no {@code server:} keys, and
 * a WAR never writes {@code server-url}) {@code http://localhost:8080/}, whatever program listened there; a plain
 * socket received {@code Authorization: Bearer <the token>}. Now only an address the configuration names is asked,
 * else none. And another program's answer was printed raw ({@code buildhook:  (404)}, Tomcat's whole HTML page); it is
 * said to be no buildhook's now. Real sockets that record what they receive, the real {@code jobs} command.
 */
class AdminTokenNotSentToAGuessTest {

    private static final String TOKEN = "the-real-admin-token-0123456789abcdef";
    private static final String TOMCATS_404 = "<!doctype html><html lang=\"en\"><head><title>HTTP Status 404 – Not"
            + " Found</title></head><body><h1>HTTP Status 404 – Not Found</h1></body></html>";

    @TempDir
    Path dir;

    /**
     * A program that is not buildhook: records each request's head and answers every one with {@code answer}. Also used
     * by {@link UntrustedServerUrlTest}.
     */
    static final class Listener implements AutoCloseable {
        final ServerSocket socket;
        final List<String> received = new CopyOnWriteArrayList<>();
        private final Thread accepter;

        Listener(ServerSocket socket, String answer) {
            this.socket = socket;
            accepter = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket s = socket.accept()) {
                        received.add(head(s.getInputStream()));
                        OutputStream out = s.getOutputStream();
                        out.write(answer.getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    } catch (IOException e) {
                        // closed at the end of the test, or the client went away
                    }
                }
            }, "not-buildhook");
            accepter.setDaemon(true);
            accepter.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private static String head(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (head.size() < 65536) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.write(b);
                String text = head.toString(StandardCharsets.ISO_8859_1);
                if (text.endsWith("\r\n\r\n")) {
                    break;
                }
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws Exception {
            socket.close();
            accepter.join(10_000);
        }
    }

    /** An HTTP/1.1 answer of {@code status} with {@code body} of {@code type}, the connection then closed. */
    static String answer(String status, String type, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + bytes.length
                + "\r\nConnection: close\r\n\r\n" + body;
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run buildhook(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = BuildhookCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** A configuration with its admin token in a file, data folder {@code dir/data}, and {@code more}. */
    private Path config(String more) throws IOException {
        Path token = Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        return Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n"
                + "admin: {token: {file: " + token + "}}\n" + more);
    }

    /**
     * The default guess's port, 8080 on the loopback address, taken by a listener that records, when this machine
     * has it free; else null (the command's answer is still checked, only what reached that port cannot be).
     */
    private static ServerSocket theGuessedPort() {
        try {
            return new ServerSocket(8080, 50, InetAddress.getByName("127.0.0.1"));
        } catch (IOException e) {
            return null;
        }
    }

    @Test
    void aConfigurationThatNamesNoAddressSendsTheTokenNowhere() throws Exception {
        // As a WAR's /etc/buildhook/buildhook.yaml: no server: keys (they are the standalone server's).
        Path config = config("");
        Path data = Files.createDirectories(dir.resolve("data"));
        Path file = data.resolve(ServerUrlFile.NAME);
        ServerSocket guessed = theGuessedPort();
        try (Listener listener = guessed == null ? null : new Listener(guessed, answer("404 Not Found", "text/html",
                TOMCATS_404))) {
            Run run = buildhook("jobs", "--config", config.toString());

            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(run.err()).isEqualTo("buildhook: no server of this data folder runs here: there is no " + file
                    + ", where a running 'buildhook serve' writes its address. That is the data folder of " + config
                    + "; the configuration names no server address (server.host, server.port or server.context-path),"
                    + " so this command asks no server: the admin token is not sent to a guessed address such as"
                    + " http://localhost:8080/, where another program may listen. Start the server, ask a server"
                    + " started with --config FILE (as the systemd unit is) with the same --config, or give its address"
                    + " with --url; a WAR in a servlet container writes no server-url, and its URL includes its context"
                    + " path: --url http://127.0.0.1:8080/buildhook/; a standalone server at the default address is"
                    + " asked once the configuration names it: server: {port: 8080}\n");

            // A server-url left by a server that was killed, and no other server of the folder running: the same.
            Files.createDirectories(data.resolve(ServerUrlFile.SERVERS));
            Files.writeString(file, "http://127.0.0.1:18080/\n");
            Files.writeString(data.resolve(ServerUrlFile.SERVERS).resolve("host-4242"),
                    "http://127.0.0.1:18080/\npid 4242 on host, started …\n");

            run = buildhook("jobs", "--config", config.toString());

            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(run.err()).startsWith("buildhook: " + file + " names http://127.0.0.1:18080/, but the server"
                    + " that wrote it no longer runs (it ended without its stop, killed or crashed, and could not remove"
                    + " the file), and no other server of this data folder runs. That is the data folder of " + config
                    + "; the configuration names no server address").contains("asks no server");
            if (listener != null) {
                assertThat(listener.received).as("what reached the guessed port").isEmpty();
            }
        }
    }

    @Test
    void anAddressTheConfigurationNamesIsAskedAndAnotherProgramsAnswerIsSaidSo() throws Exception {
        try (Listener tomcat = new Listener(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
                answer("404 Not Found", "text/html;charset=utf-8", TOMCATS_404));
                Listener empty = new Listener(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
                        answer("404 Not Found", "text/plain", ""));
                Listener page = new Listener(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
                        answer("200 OK", "text/html", "<html><body>a page for every path</body></html>"));
                Listener proxy = new Listener(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
                        answer("502 Bad Gateway", "text/html", "<html><body>502 Bad Gateway</body></html>"))) {
            // The operator said where (server.port): that address is asked, with the token.
            Path config = config("server: {host: 127.0.0.1, port: " + tomcat.port() + "}\n");
            String base = "http://127.0.0.1:" + tomcat.port() + "/";

            Run run = buildhook("jobs", "--config", config.toString());

            assertThat(tomcat.received).hasSize(1);
            assertThat(tomcat.received.get(0)).startsWith("GET /api/jobs").contains("Bearer " + TOKEN);
            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(run.err()).isEqualTo("buildhook: no buildhook admin API at " + base + " (HTTP 404 from another"
                    + " program); a WAR's URL includes its context path (e.g. --url " + base + "buildhook/)\n");

            // A WAR's address without its context path; an empty 404 (was "buildhook:  (404)").
            for (Listener other : List.of(tomcat, empty)) {
                String url = "http://127.0.0.1:" + other.port() + "/";
                run = buildhook("jobs", "--url", url, "--token-file", dir.resolve("admin-token").toString());
                assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.UNAVAILABLE);
                assertThat(run.err()).isEqualTo("buildhook: no buildhook admin API at " + url + " (HTTP 404 from"
                        + " another program); a WAR's URL includes its context path (e.g. --url " + url
                        + "buildhook/)\n");
            }

            String url = "http://127.0.0.1:" + page.port() + "/";
            run = buildhook("jobs", "--url", url, "--token-file", dir.resolve("admin-token").toString());
            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(run.err()).isEqualTo("buildhook: no buildhook admin API at " + url + " (HTTP 200 from another"
                    + " program: its answer is not JSON); a WAR's URL includes its context path (e.g. --url " + url
                    + "buildhook/)\n");

            url = "http://127.0.0.1:" + proxy.port() + "/";
            run = buildhook("jobs", "--url", url, "--token-file", dir.resolve("admin-token").toString());
            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(run.err()).startsWith("buildhook: no buildhook answered at " + url + " (HTTP 502 from another"
                    + " program, such as a reverse proxy or a servlet container in front of it").doesNotContain("<");
        }
    }
}
