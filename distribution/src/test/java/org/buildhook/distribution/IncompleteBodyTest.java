package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.buildhook.core.Signer;
import org.buildhook.servlet.config.BuildhookConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A body that ends before its {@code Content-Length} (the client closed its sending side early) is
 * not stored, so its answer, which the client can still read, must not be a success: a sender
 * that took it for delivered would never send it again.
 */
class IncompleteBodyTest {

    @TempDir
    Path dir;

    @Test
    void aBodyShorterThanItsContentLengthIsAnsweredWithAnErrorNeverASuccess() throws Exception {
        BuildhookConfig loaded = TestConfig.load(TestConfig.write(dir, TestConfig.LOCAL_SERVER));
        byte[] body = "{\"build_id\": 67, \"url\": \"https://api.foundries.io/projects/a/b/builds/67/\"}"
                .getBytes(StandardCharsets.UTF_8);
        String signature = Signer.sign(body, "s3cret".getBytes(StandardCharsets.UTF_8));
        try (BuildhookServer server = TestConfig.server(loaded)) {
            server.start();
            String answer;
            try (Socket socket = new Socket("127.0.0.1", server.uri().getPort())) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "X-JobServ-Sig: " + signature + "\r\nContent-Length: " + (body.length + 50) + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                socket.shutdownOutput();
                InputStream in = socket.getInputStream();
                answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(answer).startsWith("HTTP/1.1 400 ")
                    .contains("request body incomplete: the connection ended after " + body.length + " byte(s)");
        }
    }
}
