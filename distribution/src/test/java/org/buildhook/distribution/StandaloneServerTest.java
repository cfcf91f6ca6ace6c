package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.buildhook.core.Signer;
import org.buildhook.servlet.config.BuildhookConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone server built as {@code serve} builds it, on port 0: TLS and a context path. */
class StandaloneServerTest {

    @TempDir
    Path dir;

    @Test
    void servesHttpsUnderAContextPathWithTheKeystoreFromTheConfiguration() throws Exception {
        Path keystore = dir.resolve("keystore.p12");
        Files.writeString(dir.resolve("keystore-pass"), "changeit\n");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "buildhook", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit").inheritIO().start();
        assertThat(keytool.waitFor()).isZero();
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: touch\n    run: {command: [/usr/bin/touch, \""
                + dir.resolve("ran") + "\"]}\n");
        Path config = TestConfig.write(dir,
                "rules: rules.yaml",
                "server:",
                "  host: 127.0.0.1",
                "  port: 0",
                "  context-path: /hooks",
                "  tls: {keystore: keystore.p12, password: {file: keystore-pass}}");
        BuildhookConfig loaded = TestConfig.load(config);

        try (BuildhookServer server = TestConfig.server(loaded)) {
            server.start();
            URI base = server.uri();
            assertThat(base.toString()).startsWith("https://").endsWith("/hooks/");

            byte[] body;
            try (InputStream sample = SendCommand.class.getResourceAsStream("sample-build.json")) {
                body = sample.readAllBytes();
            }
            HttpResponse<String> answer = client(keystore).send(HttpRequest.newBuilder(base.resolve("webhook"))
                    .header("X-JobServ-Sig", Signer.sign(body, "s3cret".getBytes(StandardCharsets.UTF_8)))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(answer.statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("ran")));
            assertThat(client(keystore).send(HttpRequest.newBuilder(base.resolve("healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            // An admin command against this self-signed certificate: the server runs, and the command
            // says what to do about the certificate instead of asking whether 'serve' runs there.
            Files.writeString(dir.resolve("token"), "an-admin-token-of-this-test\n");
            java.io.StringWriter err = new java.io.StringWriter();
            picocli.CommandLine cl = BuildhookCommand.commandLine();
            cl.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
            cl.setErr(new java.io.PrintWriter(err, true));
            assertThat(cl.execute("jobs", "--url", base.toString(), "--token-file", dir.resolve("token").toString()))
                    .isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(err.toString()).contains("the server at " + base + " answered with a certificate this command does"
                    + " not trust").contains("-Djavax.net.ssl.trustStore=").doesNotContain("is 'buildhook serve' running");
            // send: once, not JobServ's four attempts (a certificate does not change in 7 s), and the same advice.
            java.io.StringWriter sent = new java.io.StringWriter();
            cl = BuildhookCommand.commandLine();
            cl.setOut(new java.io.PrintWriter(sent, true));
            cl.setErr(new java.io.PrintWriter(new java.io.StringWriter(), true));
            assertThat(cl.execute("send", base.resolve("webhook").toString(), "--sample", "--secret-file",
                    dir.resolve("token").toString())).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(sent.toString()).contains("answered with a certificate this command does not trust")
                    .contains("-Djavax.net.ssl.trustStore=");
            assertThat(sent.toString().lines().filter(l -> l.startsWith("ERROR "))).hasSize(1);
        }
    }

    /** A client that trusts exactly the server's self-signed certificate. */
    static HttpClient client(Path keystore) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            trust.load(in, "changeit".toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    }
}
