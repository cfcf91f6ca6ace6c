package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.Signer;
import org.buildhook.servlet.DeliveryService;
import org.buildhook.servlet.HeldRefusalWindows;
import org.buildhook.servlet.WebhookServlet;
import org.buildhook.servlet.config.BuildhookConfig;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A flood of refused deliveries through the standalone server, over real HTTP: every answer exactly
 * as the contract says, the first refusal of each kind logged at once, the rest summed up — at the
 * latest when the server stops — and none missing from the log's account. Bodies not complete in time
 * ({@code 408}) and deliveries the store could not take ({@code 503}) are folded the same way.
 */
class RefusalFloodTest {

    private static final Pattern SUMMARY = Pattern.compile("\\.\\.\\. and (\\d+) more like it in [0-9.]+ s since \\S+: (.*)");

    @TempDir
    Path dir;

    @Test
    void aFloodOfRefusalsIsAnsweredOneByOneAndLoggedAsItsFirstLinesAndSummariesThatAccountForEveryOne()
            throws Exception {
        BuildhookConfig loaded = TestConfig.load(TestConfig.write(dir, TestConfig.LOCAL_SERVER));
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(DeliveryService.class);
        ListAppender<ILoggingEvent> log = capture(logger);
        int unsigned = 40;
        int unknown = 30;
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            byte[] body = "{\"build_id\": 67}".getBytes(StandardCharsets.UTF_8);
            String wrong = Signer.sign(body, "not-the-secret".getBytes(StandardCharsets.UTF_8));
            try (BuildhookServer server = TestConfig.server(loaded)) {
                server.start();
                for (int i = 0; i < unsigned; i++) {
                    HttpResponse<String> answer = client.send(HttpRequest.newBuilder(server.uri().resolve("webhook"))
                            .header("X-JobServ-Sig", wrong).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(answer.statusCode()).isEqualTo(401);
                    assertThat(answer.body()).isEqualTo("{\"error\":\"signature missing or invalid\"}\n");
                    assertThat(answer.headers().firstValue("WWW-Authenticate")).hasValue("JobServ-Signature");
                    assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json;charset=utf-8");
                    assertThat(answer.headers().firstValue("Cache-Control")).hasValue("no-store");
                }
                for (int i = 0; i < unknown; i++) {
                    HttpResponse<String> answer = client.send(HttpRequest.newBuilder(
                            URI.create(server.uri() + "webhook/nope")).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(answer.statusCode()).isEqualTo(404);
                    assertThat(answer.body()).isEqualTo("{\"error\":\"no endpoint named 'nope'\"}\n");
                    assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json;charset=utf-8");
                }
                String metrics = client.send(HttpRequest.newBuilder(server.uri().resolve("metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics)
                        .contains("buildhook_deliveries_total{endpoint=\"default\",outcome=\"unauthorized\"} " + unsigned + ".0")
                        .contains("buildhook_deliveries_total{endpoint=\"_unknown\",outcome=\"unknown_endpoint\"} "
                                + unknown + ".0");
            }
        } finally {
            logger.detachAppender(log);
        }

        List<String> lines = copied(log).stream().map(ILoggingEvent::getFormattedMessage).toList();
        long signatureLines = 0;
        long unknownLines = 0;
        for (String line : lines) {
            Matcher summary = SUMMARY.matcher(line);
            boolean aboutSignatures = line.contains("to endpoint 'default' refused: no configured secret matches");
            boolean aboutUnknown = line.contains("to unknown endpoint 'nope' refused");
            long count = summary.matches() ? Long.parseLong(summary.group(1)) : 1;
            signatureLines += aboutSignatures ? count : 0;
            unknownLines += aboutUnknown ? count : 0;
        }
        // At least the first of each kind in full, and, with the server stopped, every one accounted for.
        assertThat(lines).anyMatch(l -> l.startsWith("delivery from 127.0.0.1 to endpoint 'default' refused: no"
                + " configured secret matches X-JobServ-Sig"));
        assertThat(lines).anyMatch(l -> l.equals("delivery from 127.0.0.1 to unknown endpoint 'nope' refused"
                + " (configured: [default])"));
        assertThat(lines).anyMatch(l -> SUMMARY.matcher(l).matches());
        assertThat(signatureLines).isEqualTo(unsigned);
        assertThat(unknownLines).isEqualTo(unknown);
    }

    @Test
    void bodiesNotCompleteInTimeAreAnswered408EachAndLoggedAsTheirFirstLineAndASummaryThatAccountForEveryOne()
            throws Exception {
        BuildhookConfig loaded = TestConfig.load(TestConfig.write(dir,
                "server: {host: 127.0.0.1, port: 0, request-timeout: 2s}"));
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(WebhookServlet.class);
        ListAppender<ILoggingEvent> log = capture(logger);
        int stalled = 20;
        ExecutorService readers = Executors.newFixedThreadPool(stalled);
        List<Socket> sockets = new ArrayList<>();
        try {
            AtomicReference<ServletContextHandler> context = new AtomicReference<>();
            try (BuildhookServer server = serverHoldingRefusalWindows(loaded, context)) {
                server.start();
                // The windows end when the server stops, not after 10 s: the clients' deadlines need not
                // end close together, however loaded the machine.
                HeldRefusalWindows.holdUntilStop(context.get().getServletContext());
                List<Future<String>> answers = new ArrayList<>();
                for (int i = 0; i < stalled; i++) {
                    Socket socket = new Socket("127.0.0.1", server.uri().getPort());
                    sockets.add(socket);
                    OutputStream out = socket.getOutputStream();
                    // Half the declared body, then nothing: the client neither finishes nor closes.
                    out.write(("POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            + "X-JobServ-Sig: sha256:00\r\nContent-Length: 100\r\n\r\n{\"build_id\": 67, \"url\": \"h")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    answers.add(readers.submit(() -> answer(socket)));
                }
                for (Future<String> answer : answers) {
                    assertThat(answer.get(90, java.util.concurrent.TimeUnit.SECONDS)).startsWith("HTTP/1.1 408 ")
                            .contains("{\"error\":\"request body not received in time\"}");
                }
                // Counted like the other refusals, one by one.
                assertThat(scrape(server)).contains("buildhook_deliveries_total{endpoint=\"default\",outcome=\"timed_out\"} "
                        + stalled + ".0");
            }
        } finally {
            logger.detachAppender(log);
            readers.shutdownNow();
            for (Socket socket : sockets) {
                socket.close();
            }
        }

        List<String> lines = copied(log).stream().map(ILoggingEvent::getFormattedMessage)
                .filter(l -> l.contains("cut:")).toList();
        long full = lines.stream().filter(l -> l.startsWith("delivery from 127.0.0.1 to endpoint 'default' cut: its body"
                + " was not complete after ")).count();
        // Durations as every other line shows them (2s), not ISO-8601's PT2S.
        assertThat(lines).noneMatch(l -> l.contains("PT"));
        long folded = 0;
        for (String line : lines) {
            Matcher summary = SUMMARY.matcher(line);
            if (summary.matches()) {
                assertThat(summary.group(2)).isEqualTo("deliveries to endpoint 'default' cut: body not complete within"
                        + " 2s (server.request-timeout), from 127.0.0.1");
                folded += Long.parseLong(summary.group(1));
            }
        }
        // Folded (the first in full, the rest summed up when the server stopped), every one accounted for.
        assertThat(full).as("lines in full: %s", lines).isEqualTo(1);
        assertThat(folded).as("408s in the summary: %s", lines).isEqualTo(stalled - 1);
    }

    @Test
    void deliveriesNotStoredWhileAnotherProgramLocksTheSqliteFileAreAnswered503EachAndLoggedAsTheirFirstLineAndASummary()
            throws Exception {
        BuildhookConfig loaded = TestConfig.load(TestConfig.write(dir, TestConfig.LOCAL_SERVER));
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(DeliveryService.class);
        ListAppender<ILoggingEvent> log = capture(logger);
        int refused = 12;
        ExecutorService senders = Executors.newFixedThreadPool(4);
        byte[] body = Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures"), "build-67-passed.json"));
        String signature = Signer.sign(body, TestConfig.SECRET.getBytes(StandardCharsets.UTF_8));
        try {
            AtomicReference<ServletContextHandler> context = new AtomicReference<>();
            try (BuildhookServer server = serverHoldingRefusalWindows(loaded, context)) {
                server.start();
                HeldRefusalWindows.holdUntilStop(context.get().getServletContext());
                HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                // Another program (an sqlite3 shell inside a transaction) holds the file's write lock.
                try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data")
                        .resolve("buildhook.db").toAbsolutePath()); Statement st = other.createStatement()) {
                    st.execute("BEGIN EXCLUSIVE");
                    List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                    for (int i = 0; i < refused; i++) {
                        answers.add(senders.submit(() -> client.send(HttpRequest.newBuilder(server.uri().resolve("webhook"))
                                .timeout(Duration.ofSeconds(90)).header("X-JobServ-Sig", signature)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                                HttpResponse.BodyHandlers.ofString())));
                    }
                    for (Future<HttpResponse<String>> answer : answers) {
                        HttpResponse<String> refusal = answer.get(120, java.util.concurrent.TimeUnit.SECONDS);
                        assertThat(refusal.statusCode()).as(refusal.body()).isEqualTo(503);
                        assertThat(refusal.headers().firstValue("Retry-After")).isPresent();
                    }
                    st.execute("ROLLBACK");
                }
                // Counted once the answer is on its way: the last sender may have its 503 a moment before
                // the counter moves (the final CI run at 2b8c26a read 11 of 12).
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(scrape(server))
                        .contains("buildhook_deliveries_total{endpoint=\"default\",outcome=\"unavailable\"} "
                                + refused + ".0"));
            }
        } finally {
            logger.detachAppender(log);
            senders.shutdownNow();
        }

        List<ILoggingEvent> events = copied(log).stream().filter(e -> e.getFormattedMessage().contains("503")).toList();
        assertThat(events).allMatch(e -> e.getLevel() == Level.ERROR, "logged at ERROR");
        List<String> lines = events.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(lines).filteredOn(l -> l.startsWith("delivery from 127.0.0.1 to endpoint 'default' not stored,"
                + " answering 503 (build 67 PASSED of andy-corp/lmp (trigger containers-devel)): "))
                .as("lines in full: %s", lines).hasSize(1).first().asString()
                .contains("database is locked").endsWith("re-send this build");
        assertThat(lines).filteredOn(l -> SUMMARY.matcher(l).matches()).as("summaries: %s", lines).singleElement()
                .satisfies(l -> {
                    Matcher summary = SUMMARY.matcher(l);
                    assertThat(summary.matches()).isTrue();
                    assertThat(Long.parseLong(summary.group(1))).isEqualTo(refused - 1);
                    assertThat(summary.group(2)).isEqualTo("deliveries to endpoint 'default' not stored: storage"
                            + " unavailable, answered 503 (build 67 PASSED of andy-corp/lmp (trigger containers-devel)),"
                            + " from 127.0.0.1");
                });
        assertThat(lines).hasSize(2);
    }

    /** The standalone server as {@link TestConfig#server} makes it, its servlet context handed to {@code context}. */
    private static BuildhookServer serverHoldingRefusalWindows(BuildhookConfig loaded,
            AtomicReference<ServletContextHandler> context) {
        return BuildhookServer.create(loaded.server(), c -> {
            ServeCommand.install(c, loaded);
            context.set(c);
        });
    }

    /** What {@code /metrics} says now. */
    private static String scrape(BuildhookServer server) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.uri().resolve("metrics"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Every event of {@code logger} from now until the appender is detached. */
    private static ListAppender<ILoggingEvent> capture(ch.qos.logback.classic.Logger logger) {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        return log;
    }

    /** What the server answered before closing the connection ("" for a bare close). */
    private static String answer(Socket socket) {
        try {
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (IOException reset) {
            return "";
        }
    }

    /** What {@code log} holds so far: copied under its lock, which logback appends under (no CME while threads log). */
    private static List<ILoggingEvent> copied(ListAppender<ILoggingEvent> log) {
        synchronized (log) {
            return List.copyOf(log.list);
        }
    }
}
