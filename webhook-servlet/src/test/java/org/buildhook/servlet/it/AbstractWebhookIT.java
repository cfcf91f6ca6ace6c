package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP contract, against the built WAR deployed in a real container set up as docs/deploying.md
 * says (its error answers in JSON). Run once per container (Tomcat and Jetty) by the subclasses.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AbstractWebhookIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final long MAX_BODY = 1024 * 1024;

    Path dir;
    Path markers;
    Container container;
    URI webhook;

    abstract Container container(Path base) throws Exception;

    @BeforeAll
    void deploy(@TempDir Path temp) throws Exception {
        dir = temp;
        markers = Files.createDirectories(dir.resolve("markers"));
        Installations.writeMarkerRules(dir, markers,
                "  - name: metered",
                "    when: {endpoint: metered}",
                "    run:",
                "      command: [/bin/true]");
        Path config = Installations.writeBuildhookYaml(dir,
                "  lmp:",
                "    secrets:",
                "      - file: secret",
                "  metered:", // only metricsCountWhatTheMeteredEndpointReceived posts here: its counts are exact
                "    secrets:",
                "      - file: secret",
                "http:",
                "  max-body: 1MiB");
        container = container(dir.resolve("container"));
        assertThat(container.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();
        webhook = container.base().resolve("webhook");
    }

    @AfterAll
    void undeploy() {
        String said;
        try (StdoutTee stdout = new StdoutTee()) {
            if (container != null) {
                container.close();
            }
            said = stdout.text();
        }
        // buildhook's shutdown lines reach the container's log (Logback is stopped after them, not before).
        assertThat(said).contains("job engine stopped").contains("buildhook stopped");
        // Stopping the container stops everything buildhook started in it.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(TomcatRedeployIT.ourThreads()).as("buildhook threads after the container stopped").isEmpty());
    }

    Path marker(long buildId) {
        return markers.resolve(Long.toString(buildId));
    }

    @Test
    void everyFixtureSignedIsAcceptedAndItsJobRuns() throws Exception {
        List<String> rows = Files.readAllLines(Deliveries.FIXTURES.resolve("signatures.tsv"));
        List<Long> buildIds = new ArrayList<>();
        for (String row : rows.subList(1, rows.size())) {
            String[] cols = row.split("\t");
            if (!cols[1].equals(Deliveries.SECRET) || cols[0].equals("build-67-passed.json")) {
                continue; // 67 is the seed other tests vary; the pretty 67 still covers its bytes
            }
            byte[] body = Deliveries.fixture(cols[0]);
            HttpResponse<String> response = Deliveries.post(container.base().resolve("webhook/lmp"), body, cols[2]);

            assertThat(response.statusCode()).as(cols[0]).isEqualTo(202);
            JsonNode answer = JSON.readTree(response.body());
            assertThat(answer.get("duplicate").asBoolean()).isFalse();
            assertThat(answer.get("delivery").asText()).isNotBlank();
            assertThat(answer.get("jobs")).hasSize(1);
            // The answer's bytes are a contract: Jackson's compact form and one newline.
            assertThat(response.body()).isEqualTo(JSON.writeValueAsString(answer) + "\n");
            buildIds.add(JSON.readTree(body).get("build_id").asLong());
        }
        assertThat(buildIds).containsExactlyInAnyOrder(67L, 68L, 412L, 7L, 9000L);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(buildIds).allSatisfy(id -> assertThat(marker(id)).exists()));
    }

    @Test
    void theSameBodyAgainAnswers200WithTheFirstDelivery() throws Exception {
        byte[] body = Deliveries.seedWithBuildId(501);
        JsonNode first = JSON.readTree(Deliveries.postSigned(webhook, body).body());

        HttpResponse<String> again = Deliveries.postSigned(webhook, body);

        assertThat(again.statusCode()).isEqualTo(200);
        JsonNode answer = JSON.readTree(again.body());
        assertThat(answer.get("duplicate").asBoolean()).isTrue();
        assertThat(answer.get("delivery").asText()).isEqualTo(first.get("delivery").asText());
        assertThat(again.body()).isEqualTo("{\"delivery\":\"" + answer.get("delivery").asText() + "\",\"duplicate\":true}\n");
    }

    @Test
    void aMissingMalformedOrWrongSignatureAnswers401WithoutSayingWhich() throws Exception {
        byte[] body = Deliveries.seedWithBuildId(502);
        List<String> bad = new ArrayList<>();
        bad.add(null);
        bad.add("sha1:" + Deliveries.sign(body).substring(7));
        bad.add("sha256:abc");
        bad.add(Deliveries.sign(Deliveries.seedWithBuildId(503)));
        for (String signature : bad) {
            HttpResponse<String> response = Deliveries.post(webhook, body, signature);

            assertThat(response.statusCode()).as(String.valueOf(signature)).isEqualTo(401);
            assertThat(JSON.readTree(response.body()).get("error").asText()).isEqualTo("signature missing or invalid");
        }
        assertThat(marker(502)).doesNotExist();
    }

    @Test
    void aSignedBodyThatIsNotABuildEventAnswers400NamingWhatIsWrong() throws Exception {
        byte[] body = "{\"build_id\": 504, \"url\": 3}".getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> response = Deliveries.postSigned(webhook, body);

        assertThat(response.statusCode()).isEqualTo(400);
        JsonNode answer = JSON.readTree(response.body());
        assertThat(answer.get("error").asText()).contains("$.url");
        assertThat(answer.get("delivery").asText()).isNotBlank();
    }

    @Test
    void anythingButPostAnswers405() throws Exception {
        HttpResponse<String> response = Deliveries.get(webhook);

        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).hasValue("POST");
    }

    /** The start of a raw request to the webhook, headers up to (not including) the blank line. */
    String rawHead(String extraHeaders) {
        return "POST " + webhook.getPath() + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + extraHeaders;
    }

    Socket socket() throws IOException {
        return new Socket(webhook.getHost(), webhook.getPort());
    }

    @Test
    void aDeclaredBodyOverTheCapAnswers413WithoutWaitingForTheBody() throws Exception {
        try (Socket socket = socket()) {
            OutputStream out = socket.getOutputStream();
            // Only the headers: the server must answer without reading (or waiting for) the body.
            // Over twice the cap: too much to read only to drop it (a body up to that is read first).
            out.write((rawHead("Content-Length: " + (2 * MAX_BODY + 1) + "\r\nX-JobServ-Sig: sha256:00\r\n\r\n"))
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String answer = RawHttp.readAnswer(socket, Duration.ofSeconds(20));

            assertThat(answer).startsWith("HTTP/1.1 413");
            assertThat(answer.toLowerCase(Locale.ROOT)).contains("connection: close");
        }
    }

    @Test
    void aDeclaredBodyOverTheCapWaitingFor100ContinueIsAnswered413WithoutItsBody() throws Exception {
        try (Socket socket = socket()) {
            OutputStream out = socket.getOutputStream();
            // Within twice the cap, but the client sends its body only after '100 Continue' (curl does
            // for large bodies): the 413 is its answer, and the body is never sent.
            out.write((rawHead("Content-Length: " + (MAX_BODY + 1) + "\r\nExpect: 100-continue\r\n"
                    + "X-JobServ-Sig: sha256:00\r\n\r\n")).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String answer = RawHttp.readAnswer(socket, Duration.ofSeconds(20));

            // Tomcat sends '100 Continue' as soon as it has read the headers (its continueResponseTiming),
            // Jetty only when the application reads the body: the final answer is the 413 on both.
            assertThat(answer.replaceFirst("^HTTP/1.1 100[^\r\n]*\r\n\r\n", "")).startsWith("HTTP/1.1 413");
        }
    }

    @Test
    void aChunkedBodyOverTheCapAnswers413AsSoonAsItPassesTheCap() throws Exception {
        try (Socket socket = socket()) {
            OutputStream out = socket.getOutputStream();
            out.write(rawHead("Transfer-Encoding: chunked\r\nX-JobServ-Sig: sha256:00\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) ' ');
            try {
                // 17 chunks pass the 1 MiB cap; the client then waits, never ending the body.
                for (int i = 0; i < 17; i++) {
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                out.flush();
            } catch (IOException closedEarly) {
                // The server may answer and close before the last chunk is written.
            }
            assertThat(RawHttp.readAnswer(socket, Duration.ofSeconds(20))).startsWith("HTTP/1.1 413");
        }
    }

    @Test
    void aBodyEndingBeforeItsContentLengthIsAnsweredWithAnErrorNeverASuccess() throws Exception {
        // The client closes its sending side 50 bytes short: nothing is stored, and a 2xx would tell
        // the sender the delivery arrived (Jetty answered an empty 200 before).
        byte[] body = Deliveries.seedWithBuildId(523);
        try (Socket socket = socket()) {
            OutputStream out = socket.getOutputStream();
            out.write(rawHead("X-JobServ-Sig: " + Deliveries.sign(body) + "\r\nContent-Length: " + (body.length + 50)
                    + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            socket.shutdownOutput();
            String answer = RawHttp.readAnswer(socket, Duration.ofSeconds(20));
            // Jetty lets the answer be written (400); Tomcat closes the connection without one.
            assertThat(answer).doesNotStartWith("HTTP/1.1 2");
            if (!answer.isEmpty()) {
                assertThat(answer).startsWith("HTTP/1.1 400").contains("request body incomplete");
            }
        }
    }

    @Test
    void aChunkedBodyIsReadWholeUpToExactlyTheCap() throws Exception {
        // Without Content-Length the body's array grows as it arrives: past its first 8 KiB, and up to
        // the cap itself, which is allowed (one byte more is not: the test above).
        for (int size : new int[] {20_000, (int) MAX_BODY}) {
            long buildId = size == MAX_BODY ? 522 : 521;
            byte[] seed = Deliveries.seedWithBuildId(buildId);
            byte[] body = Arrays.copyOf(seed, size);
            Arrays.fill(body, seed.length, size, (byte) ' ');
            try (Socket socket = socket()) {
                OutputStream out = socket.getOutputStream();
                out.write(rawHead("Transfer-Encoding: chunked\r\nX-JobServ-Sig: " + Deliveries.sign(body)
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                for (int at = 0; at < body.length; at += 4093) {
                    int n = Math.min(4093, body.length - at);
                    out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(body, at, n);
                    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                assertThat(RawHttp.readAnswer(socket, Duration.ofSeconds(20))).as(size + " bytes").startsWith("HTTP/1.1 202");
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(marker(buildId)).exists());
        }
    }

    @Test
    void aBodyTrickledByteByByteIsStillAccepted() throws Exception {
        byte[] body = Deliveries.seedWithBuildId(507);
        try (Socket socket = socket()) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            out.write(rawHead("Content-Length: " + body.length + "\r\nX-JobServ-Sig: " + Deliveries.sign(body)
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            for (byte b : body) {
                out.write(b);
                out.flush();
            }
            assertThat(RawHttp.readAnswer(socket, Duration.ofSeconds(20))).startsWith("HTTP/1.1 202");
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(marker(507)).exists());
    }

    @Test
    void aClientThatStopsAfterItsHeadersDoesNotHoldUpOthers() throws Exception {
        try (Socket stalled = socket()) {
            stalled.getOutputStream().write(rawHead("Content-Length: 1000\r\nX-JobServ-Sig: sha256:00\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            stalled.getOutputStream().flush();

            byte[] body = Deliveries.seedWithBuildId(508);
            assertThat(Deliveries.postSigned(webhook, body).statusCode()).isEqualTo(202);
            assertThat(Deliveries.get(container.base().resolve("healthz")).statusCode()).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(marker(508)).exists());
    }

    @Test
    void tenThousandRandomBodiesWithRandomSignaturesAreAllRefusedAndHealthStaysUp() throws Exception {
        Random random = new Random(42);
        ExecutorService pool = Executors.newFixedThreadPool(9);
        try {
            Future<List<Integer>> health = pool.submit(() -> {
                List<Integer> codes = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    codes.add(Deliveries.get(container.base().resolve("healthz")).statusCode());
                }
                return codes;
            });
            List<Future<List<Integer>>> senders = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                List<byte[]> bodies = new ArrayList<>();
                List<String> signatures = new ArrayList<>();
                for (int i = 0; i < 1250; i++) {
                    byte[] body = new byte[random.nextInt(4096)];
                    random.nextBytes(body);
                    byte[] sig = new byte[32];
                    random.nextBytes(sig);
                    bodies.add(body);
                    signatures.add(random.nextBoolean() ? "sha256:" + HexFormat.of().formatHex(sig)
                            : new String(body, 0, Math.min(body.length, 20), StandardCharsets.ISO_8859_1)
                                    .replaceAll("[^ -~]", "x"));
                }
                senders.add(pool.submit(() -> {
                    List<Integer> codes = new ArrayList<>();
                    for (int i = 0; i < bodies.size(); i++) {
                        codes.add(Deliveries.post(webhook, bodies.get(i), signatures.get(i)).statusCode());
                    }
                    return codes;
                }));
            }
            for (Future<List<Integer>> sender : senders) {
                assertThat(sender.get()).hasSize(1250).allSatisfy(code -> assertThat(code).isEqualTo(401));
            }
            assertThat(health.get()).allSatisfy(code -> assertThat(code).isEqualTo(200));
        } finally {
            pool.shutdownNow();
        }
        assertThat(Deliveries.get(container.base().resolve("healthz")).statusCode()).isEqualTo(200);
    }

    @Test
    void whileTheStoreCannotWriteTheAnswerIs503WithRetryAfterAndAcceptingResumesAfterwards() throws Exception {
        byte[] body = Deliveries.seedWithBuildId(509);
        // Another program holds SQLite's write lock longer than the store's busy timeout. (Another
        // process: SQLite's locks are per process, so the test JVM must not open the file itself.)
        Process holder = new ProcessBuilder("python3", "-c", String.join("\n",
                "import sqlite3, sys",
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)",
                "c.execute('BEGIN IMMEDIATE')",
                "print('locked', flush=True)",
                "sys.stdin.read()",
                "c.execute('ROLLBACK')"), dir.resolve("data/buildhook.db").toString())
                .redirectErrorStream(true).start();
        try {
            assertThat(new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                    .readLine()).isEqualTo("locked");
            HttpResponse<String> refused = Deliveries.postSigned(webhook, body);

            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
        } finally {
            holder.getOutputStream().close();
            assertThat(holder.waitFor()).isZero();
        }
        // Nothing was half-stored: the same body is a new delivery, not a duplicate, and runs.
        HttpResponse<String> accepted = Deliveries.postSigned(webhook, body);
        assertThat(accepted.statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(marker(509)).exists());
    }

    @Test
    void anUnknownEndpointAnswers404() throws Exception {
        byte[] body = Deliveries.seedWithBuildId(505);

        assertThat(Deliveries.postSigned(container.base().resolve("webhook/nope"), body).statusCode()).isEqualTo(404);
        assertThat(Deliveries.postSigned(container.base().resolve("webhook/a/b"), body).statusCode()).isEqualTo(404);
    }

    @Test
    void aWrongPathAnswersJsonSayingWhereWebhooksGoForAnyMethodNeverTheContainersPage() throws Exception {
        String context = webhook.getPath().substring(0, webhook.getPath().length() - "/webhook".length());
        for (String path : List.of("/webhooks", "/hooks/x", "/Webhook", "//webhook")) {
            for (String method : List.of("POST", "GET", "PUT", "DELETE", "PATCH")) {
                try (Socket socket = socket()) {
                    socket.getOutputStream().write((method + " " + context + path + " HTTP/1.1\r\nHost: localhost\r\n"
                            + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    String answer = RawHttp.readAnswer(socket, Duration.ofSeconds(20));

                    String lower = answer.toLowerCase(Locale.ROOT);
                    assertThat(lower).as(method + " " + path).doesNotContain("<html");
                    // Jetty's server error handler writes no body at all for a method other than GET,
                    // POST and HEAD; any body is buildhook's JSON.
                    if (!(path.equals("//webhook") && lower.contains("content-length: 0\r\n"))) {
                        assertThat(lower).as(method + " " + path).contains("content-type: application/json");
                    }
                    // Tomcat merges the slashes: then it is the webhook; Jetty refuses the empty segment
                    // before the application (400, JSON with the documented server error handler).
                    if (!path.equals("//webhook")) {
                        assertThat(answer).as(method + " " + path).startsWith("HTTP/1.1 404")
                                .contains("webhooks go to POST " + context + "/webhook");
                    }
                }
            }
        }
        assertThat(Deliveries.get(container.base().resolve("metrics")).body())
                .containsPattern("buildhook_http_unknown_paths_total [1-9]");
    }

    /**
     * Request targets under the application that a container refuses or that name no resource, sent
     * byte for byte: empty segments, a lone or invalid {@code %}, encoded dot segments and slashes,
     * bad UTF-8. Each gets JSON, never the container's HTML page.
     */
    static final List<String> MALFORMED_TARGETS = List.of("//webhook", "/%", "/%zz", "/a/%2e%2e/webhook",
            "/%2e%2e", "/webhook%2Fdefault", "/a%2fb", "/%ff", "/webhook/%c3%28", "/%00");

    @Test
    void malformedOrAmbiguousUrisUnderTheApplicationAnswerJsonNeverTheContainersPage() throws Exception {
        String context = webhook.getPath().substring(0, webhook.getPath().length() - "/webhook".length());
        double countedBefore = metric(scrape().body(), "buildhook_http_unknown_paths_total");
        List<String> wrong = new ArrayList<>();
        for (String target : MALFORMED_TARGETS) {
            for (String method : List.of("POST", "GET")) {
                // POST as JobServ's sender (Python requests) asks, Accept: */*; GET with no Accept at all.
                String accept = method.equals("POST") ? "Accept: */*\r\n" : "";
                try (Socket socket = socket()) {
                    socket.getOutputStream().write((method + " " + context + target + " HTTP/1.1\r\nHost: localhost\r\n"
                            + accept + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    String answer = RawHttp.readAnswer(socket, Duration.ofSeconds(20));
                    String lower = answer.toLowerCase(Locale.ROOT);
                    if (!lower.contains("content-type: application/json") || lower.contains("<html")
                            || !answer.matches("(?s)HTTP/1\\.1 4\\d\\d .*")) {
                        wrong.add(method + " " + context + target + " ->\n" + answer);
                    }
                }
            }
        }
        // A request line (414) or a header (431) too long for the container.
        for (String[] request : List.of(new String[] {context + "/webhook?" + "x".repeat(70_000), ""},
                new String[] {context + "/webhook", "X-Big: " + "x".repeat(70_000) + "\r\n"})) {
            try (Socket socket = socket()) {
                socket.getOutputStream().write(("POST " + request[0] + " HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n"
                        + request[1] + "Content-Length: 2\r\nConnection: close\r\n\r\n{}").getBytes(StandardCharsets.ISO_8859_1));
                String answer = RawHttp.readAnswer(socket, Duration.ofSeconds(20));
                String lower = answer.toLowerCase(Locale.ROOT);
                if (lower.contains("<html") || !answer.matches("(?s)HTTP/1\\.1 4\\d\\d .*")
                        || !(lower.contains("content-type: application/json") || lower.contains("content-length: 0\r\n"))) {
                    wrong.add("POST " + request[0].substring(0, 40) + "… " + request[1].length() + " header bytes ->\n" + answer);
                }
            }
        }
        assertThat(wrong).as("answers that are not buildhook's JSON").isEmpty();
        if (container instanceof JettyContainer) {
            // Jetty hands what it refused to buildhook's error page: each one is counted (and logged).
            // Tomcat's JSON valve answers them itself, outside the application.
            assertThat(metric(scrape().body(), "buildhook_http_unknown_paths_total") - countedBefore)
                    .isEqualTo(2.0 * MALFORMED_TARGETS.size() + 2);
        }
    }

    @Test
    void errorsTheContainerRaisesInsideTheApplicationAreJsonNeverItsPage() throws Exception {
        String context = webhook.getPath().substring(0, webhook.getPath().length() - "/webhook".length());
        List<String> wrong = new ArrayList<>();
        // Methods a servlet does not implement (HttpServlet's own 405 or 501), and TRACE, which
        // would echo the request's headers (cookies included) back.
        for (String request : List.of("POST /healthz", "PUT /metrics", "DELETE /healthz", "PATCH /", "TRACE /webhook",
                "TRACE /healthz", "OPTIONS /webhook", "BREW /healthz")) {
            String[] parts = request.split(" ");
            try (Socket socket = socket()) {
                socket.getOutputStream().write((parts[0] + " " + context + parts[1] + " HTTP/1.1\r\nHost: localhost\r\n"
                        + "Accept: */*\r\nCookie: buildhook_admin=secret-cookie\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 2\r\nConnection: close\r\n\r\n{}").getBytes(StandardCharsets.ISO_8859_1));
                String answer = RawHttp.readAnswer(socket, Duration.ofSeconds(20));
                String lower = answer.toLowerCase(Locale.ROOT);
                boolean ok = !lower.contains("<html") && !answer.contains("secret-cookie")
                        && (answer.startsWith("HTTP/1.1 2") && parts[0].equals("OPTIONS")
                        || answer.matches("(?s)HTTP/1\\.1 [45]\\d\\d .*") && (lower.contains("content-type: application/json")
                        || lower.contains("content-length: 0\r\n")));
                if (!ok) {
                    wrong.add(request + " ->\n" + answer);
                }
            }
        }
        assertThat(wrong).as("answers that are not buildhook's JSON").isEmpty();
    }

    @Test
    void theAdminApiAnswersAJson404WithoutAnAdminToken() throws Exception {
        HttpResponse<String> response = Deliveries.get(container.base().resolve("api/jobs"));

        assertThat(response.statusCode()).isEqualTo(404);
        // buildhook's own answer (JSON), not the container's page for an unmapped path.
        assertThat(JSON.readTree(response.body()).get("error").asText()).isEqualTo("not found");
    }

    @Test
    void theStatusPageAtTheRootAnswersItsOwn404WithoutAnAdminToken() throws Exception {
        HttpResponse<String> response = Deliveries.get(container.base().resolve(""));

        assertThat(response.statusCode()).isEqualTo(404);
        // buildhook's own answer: the empty url-pattern maps the root to the status page.
        assertThat(response.body()).isEqualTo("not found\n");
    }

    @Test
    void healthAnswers200WhileTheStoreAnswers() throws Exception {
        HttpResponse<String> response = Deliveries.get(container.base().resolve("healthz"));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).get("status").asText()).isEqualTo("ok");
    }

    @Test
    void theIndependentJobServSenderGets2xxOnItsFirstAttempt() throws Exception {
        Path payload = Files.write(dir.resolve("seed-506.json"), Deliveries.seedWithBuildId(506));
        Path sender = Path.of(System.getProperty("buildhook.tools")).resolve("jobserv-send");
        Process process = new ProcessBuilder("python3", sender.toString(), webhook.toString(), payload.toString(),
                Deliveries.SECRET, "--no-retry").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(process.waitFor()).as(output).isZero();
        assertThat(output.lines().findFirst()).hasValueSatisfying(line -> assertThat(line).startsWith("HTTP 202"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(marker(506)).exists());
    }

    @Test
    void metricsCountWhatTheMeteredEndpointReceived() throws Exception {
        URI metered = container.base().resolve("webhook/metered");
        for (long id = 601; id <= 603; id++) {
            assertThat(Deliveries.postSigned(metered, Deliveries.seedWithBuildId(id)).statusCode()).isEqualTo(202);
        }
        assertThat(Deliveries.postSigned(metered, Deliveries.seedWithBuildId(601)).statusCode()).isEqualTo(200);
        byte[] unsigned = Deliveries.seedWithBuildId(604);
        assertThat(Deliveries.post(metered, unsigned, null).statusCode()).isEqualTo(401);
        assertThat(Deliveries.post(metered, unsigned, "sha256:abc").statusCode()).isEqualTo(401);
        assertThat(Deliveries.post(metered, unsigned, Deliveries.sign(Deliveries.seedWithBuildId(605))).statusCode())
                .isEqualTo(401);
        assertThat(Deliveries.postSigned(container.base().resolve("webhook/not-configured"), unsigned).statusCode())
                .isEqualTo(404);

        // The jobs run after the answers: wait until the three of the metered rule have ended.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(metric(scrape().body(),
                "buildhook_job_attempts_total{outcome=\"succeeded\",rule=\"metered\"}")).isEqualTo(3.0));
        HttpResponse<String> response = scrape();
        String text = response.body();

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type ->
                assertThat(type).startsWith("text/plain").contains("version=0.0.4"));
        assertThat(metric(text, "buildhook_deliveries_total{endpoint=\"metered\",outcome=\"accepted\"}")).isEqualTo(3.0);
        assertThat(metric(text, "buildhook_deliveries_total{endpoint=\"metered\",outcome=\"duplicate\"}")).isEqualTo(1.0);
        assertThat(metric(text, "buildhook_deliveries_total{endpoint=\"metered\",outcome=\"unauthorized\"}"))
                .isEqualTo(3.0);
        assertThat(metric(text, "buildhook_deliveries_total{endpoint=\"_unknown\",outcome=\"unknown_endpoint\"}"))
                .isGreaterThanOrEqualTo(1.0);
        assertThat(text).doesNotContain("not-configured");
        for (String reason : List.of("missing", "bad_length", "no_match")) {
            assertThat(metric(text, "buildhook_signature_failures_total{endpoint=\"metered\",reason=\"" + reason + "\"}"))
                    .as(reason).isEqualTo(1.0);
        }
        assertThat(metric(text, "buildhook_signature_failures_total{endpoint=\"metered\",reason=\"not_hex\"}"))
                .isEqualTo(0.0);
        assertThat(metric(text, "buildhook_accept_latency_seconds_count{endpoint=\"metered\"}")).isEqualTo(7.0);
        assertThat(metric(text, "buildhook_job_duration_seconds_count{rule=\"metered\"}")).isEqualTo(3.0);
        assertThat(metric(text, "buildhook_jobs_queued")).isGreaterThanOrEqualTo(0.0);
        assertThat(metric(text, "buildhook_jobs_running")).isGreaterThanOrEqualTo(0.0);
        // SQLite: every write went through the group-committing writer, at least one per accepted delivery.
        assertThat(metric(text, "buildhook_store_transactions_total")).isGreaterThanOrEqualTo(3.0);
        assertThat(metric(text, "buildhook_store_commits_total")).isGreaterThanOrEqualTo(1.0)
                .isLessThanOrEqualTo(metric(text, "buildhook_store_transactions_total"));
        assertThat(text).contains("jvm_memory_used_bytes{", "process_uptime_seconds ");
    }

    HttpResponse<String> scrape() throws IOException, InterruptedException {
        return Deliveries.get(container.base().resolve("metrics"));
    }

    /** One series' value in a Prometheus text scrape; fails when the series is absent. */
    static double metric(String scrape, String series) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(series)
                + " (\\S+)$").matcher(scrape);
        assertThat(m.find()).as("series " + series + " in\n" + scrape).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void hundredConcurrentSendersAreAllAcceptedAndAllTheirJobsRun() throws Exception {
        ExecutorService senders = Executors.newFixedThreadPool(100);
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                long buildId = 10_000 + i;
                answers.add(senders.submit(() -> Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(buildId))
                        .statusCode()));
            }
            for (Future<Integer> answer : answers) {
                assertThat(answer.get()).isEqualTo(202);
            }
        } finally {
            senders.shutdown();
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            try (Stream<Path> files = Files.list(markers)) {
                assertThat(files.filter(p -> p.getFileName().toString().startsWith("100")).count()).isEqualTo(100);
            }
        });
    }
}
