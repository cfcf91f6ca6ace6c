package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.buildhook.servlet.FallbackServlet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Requests to paths that do not exist, sent byte for byte as a client would (no client library that
 * tidies the path): JSON saying where webhooks go, logged and counted, never Jetty's HTML page.
 */
class UnknownPathTest {

    @TempDir
    Path dir;

    /** The status line, headers and body of one raw HTTP/1.1 exchange. */
    static String raw(int port, String method, String path) throws IOException {
        return raw(port, method, path, "");
    }

    static String raw(int port, String method, String path, String headers) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + headers + "Content-Length: 2\r\nConnection: close\r\n\r\n{}").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    BuildhookServer server(String contextPath) throws IOException {
        Files.writeString(dir.resolve("admin-token"), "admin-s3cret");
        return TestConfig.server(TestConfig.load(TestConfig.write(dir, "admin: {token: {file: admin-token}}",
                "server: {host: 127.0.0.1, port: 0, context-path: " + contextPath + "}")));
    }

    @Test
    void aWrongPathGetsJsonSayingWhereWebhooksGoForAnyMethodAndIsLoggedAndCounted() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(FallbackServlet.class);
        logger.addAppender(log);
        try (BuildhookServer server = server("/")) {
            server.start();
            int port = server.port();
            int answered = 0;
            for (String path : List.of("/webhooks", "/hooks/x", "//webhook", "/Webhook", "/webhook/../x")) {
                for (String method : List.of("POST", "GET", "PUT", "DELETE", "PATCH", "PROPFIND")) {
                    String answer = raw(port, method, path);
                    assertThat(answer).as(method + " " + path).startsWith("HTTP/1.1 404")
                            .containsIgnoringCase("Content-Type: application/json")
                            .contains("\"error\":\"no such path; webhooks go to POST /webhook or /webhook/{endpoint}\"")
                            .doesNotContainIgnoringCase("<html");
                    answered++;
                }
            }
            String metrics = raw(port, "GET", "/metrics");
            assertThat(metrics).contains("buildhook_http_unknown_paths_total " + (double) answered);
            assertThat(log.list).hasSize(answered).first().extracting(ILoggingEvent::getFormattedMessage)
                    .asString().startsWith("POST /webhooks from 127.0.0.1: no such path (404); webhooks go to POST /webhook");
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void theIconABrowserAsksForByItselfIsAnswered404ButNeitherLoggedNorCounted() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(FallbackServlet.class);
        logger.addAppender(log);
        try (BuildhookServer server = server("/buildhook")) {
            server.start();
            int port = server.port();

            String icon = raw(port, "GET", "/buildhook/favicon.ico");
            String posted = raw(port, "POST", "/buildhook/favicon.ico");

            assertThat(icon).startsWith("HTTP/1.1 404").containsIgnoringCase("Content-Type: application/json");
            assertThat(posted).startsWith("HTTP/1.1 404");
            assertThat(raw(port, "GET", "/buildhook/metrics")).contains("buildhook_http_unknown_paths_total 1.0");
            assertThat(log.list).singleElement().extracting(ILoggingEvent::getFormattedMessage).asString()
                    .startsWith("POST /buildhook/favicon.ico");
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void malformedOrAmbiguousRequestTargetsGetJsonAndAreCountedAtTheRootAndUnderAContextPath() throws Exception {
        List<String> targets = List.of("//webhook", "/%", "/%zz", "/a/%2e%2e/webhook", "/%2e%2e", "/webhook%2Fdefault",
                "/a%2fb", "/%ff", "/webhook/%c3%28", "/%00", "/webhook?" + "x".repeat(70_000));
        for (String contextPath : List.of("/", "/buildhook")) {
            String prefix = contextPath.equals("/") ? "" : contextPath;
            try (BuildhookServer server = server(contextPath)) {
                server.start();
                int port = server.port();
                for (String target : targets) {
                    for (String method : List.of("POST", "GET", "PUT")) {
                        // POST as JobServ's sender (Python requests) asks, Accept: */*.
                        String answer = raw(port, method, prefix + target, method.equals("POST") ? "Accept: */*\r\n" : "");
                        String shown = method + " " + prefix + target.substring(0, Math.min(target.length(), 40));
                        assertThat(answer).as(shown).matches("(?s)HTTP/1\\.1 4\\d\\d .*")
                                .containsIgnoringCase("Content-Type: application/json")
                                .contains("\"webhook\":\"" + prefix + "/webhook\"").doesNotContainIgnoringCase("<html");
                    }
                }
                String headers = raw(port, "POST", prefix + "/webhook", "X-Big: " + "x".repeat(70_000) + "\r\n");
                assertThat(headers).matches("(?s)HTTP/1\\.1 4\\d\\d .*")
                        .containsIgnoringCase("Content-Type: application/json").doesNotContainIgnoringCase("<html");
            }
        }
    }

    @Test
    void errorsTheContainerAnswersAreJsonToo() throws Exception {
        try (BuildhookServer server = server("/buildhook")) {
            server.start();
            int port = server.port();

            String outside = raw(port, "POST", "/webhook");
            String badRequest = raw(port, "GET", "/buildhook/%");
            String statusPageError = raw(port, "GET", "/buildhook/?before=nope", "Authorization: Bearer admin-s3cret\r\n");

            for (String answer : List.of(outside, badRequest)) {
                assertThat(answer).containsIgnoringCase("Content-Type: application/json")
                        .contains("\"webhook\":\"/buildhook/webhook\"").doesNotContainIgnoringCase("<html");
            }
            assertThat(outside).startsWith("HTTP/1.1 404");
            assertThat(badRequest).startsWith("HTTP/1.1 400");
            // The status page's own errors are a page for the person at the browser (tryout11 F4, 95c1564).
            assertThat(statusPageError).startsWith("HTTP/1.1 400").containsIgnoringCase("Content-Type: text/html")
                    .contains("&#39;before&#39; is not a delivery id");
        }
    }
}
