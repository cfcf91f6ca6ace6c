package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code buildhook send} prints the answer of whatever server its URL names: a body with terminal escape
 * sequences (a proxy's, a server that quotes a value) reached the terminal as it came (escape27 F2). Its
 * control characters are now escaped as {@code \xNN}; its lines stay lines. A real HTTP server (the JDK's).
 */
class SendAnswerEscapedTest {

    @TempDir
    Path dir;

    @Test
    void anAnswerWithEscapeSequencesIsPrintedEscaped() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] body = "{\"error\": \"bad \u001b]0;pwned\u0007\u009b2J\"}\nsecond line\n"
                .getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(400, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            Files.writeString(dir.resolve("secret"), "a-webhook-secret-for-this-test\n");
            StringWriter out = new StringWriter();
            CommandLine send = BuildhookCommand.commandLine();
            send.setOut(new PrintWriter(out, true));
            send.setErr(new PrintWriter(out, true));
            int code = send.execute("send", "http://127.0.0.1:" + server.getAddress().getPort() + "/webhook",
                    "--sample", "--secret-file", dir.resolve("secret").toString(), "--no-retry");
            assertThat(code).as(out.toString()).isNotZero();
            assertThat(out.toString()).contains("HTTP 400 {\"error\": \"bad \\x1b]0;pwned\\x07\\x9b2J\"}\nsecond line")
                    .doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u009b");
        } finally {
            server.stop(0);
        }
    }
}
