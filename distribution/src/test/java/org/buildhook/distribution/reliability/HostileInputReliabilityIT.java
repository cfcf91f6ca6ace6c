package org.buildhook.distribution.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded corpus of hostile requests against the real server: none may be acted on. The rule
 * fires for every build, so any accepted hostile body would show up in the trace file.
 */
class HostileInputReliabilityIT {

    static final long SEED = 20261129L;

    @TempDir
    Path dir;

    @Test
    void noHostileRequestIsActedOnAndOnlyTheCorrectlySignedValidBodyIs() throws Exception {
        Installation installation = Installation.unpack(dir, Installation.traceScript(""));
        installation.config("http:\n  max-body: 64KiB");
        Random random = new Random(SEED);
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        try (ServerProcess server = installation.start()) {
            String base = server.base;
            byte[] valid = Installation.build(1);

            for (int i = 0; i < 20; i++) { // oversized: over max-body, correctly signed
                byte[] body = new byte[64 * 1024 + 1 + random.nextInt(200_000)];
                random.nextBytes(body);
                // Sent over a raw socket: the server answers 413 and closes without reading the rest.
                record(counts, statuses, "oversized", raw(URI.create(base), "POST " + URI.create(base).getPath()
                        + "webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-JobServ-Sig: " + Installation.sign(body)
                        + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n", body), 413);
            }
            for (int i = 0; i < 50; i++) { // truncated JSON, correctly signed: 400, kept as rejected
                byte[] body = java.util.Arrays.copyOf(valid, 1 + random.nextInt(valid.length - 2));
                record(counts, statuses, "truncated", installation.postSigned(base, body).statusCode(), 400);
            }
            for (int i = 0; i < 20; i++) { // deeply nested arrays/objects, correctly signed
                int depth = 500 + random.nextInt(5000);
                String open = random.nextBoolean() ? "[" : "{\"a\":";
                String close = open.equals("[") ? "]" : "}";
                byte[] body = (open.repeat(depth) + "1" + close.repeat(depth)).getBytes(StandardCharsets.UTF_8);
                record(counts, statuses, "deeply-nested", installation.postSigned(base, body).statusCode(), 400);
            }
            String sample = new String(valid, StandardCharsets.UTF_8);
            String[][] wrongTypes = {
                {"\"build_id\": 1", "\"build_id\": \"one\""},
                {"\"build_id\": 1", "\"build_id\": [1]"},
                {"\"status\": \"PASSED\"", "\"status\": 7"},
                {"\"status\": \"PASSED\"", "\"status\": \"PASSED\", \"status\": \"FAILED\""},
                {"\"build_id\": 1", "\"build_id\": -1"},
                {"\"runs\": [", "\"runs\": {\"x\": ["},
                {"\"url\": \"", "\"url\": {\"u\": \""},
            };
            for (int i = 0; i < 30; i++) { // wrong types, correctly signed
                String[] swap = wrongTypes[i % wrongTypes.length];
                byte[] body = sample.replaceFirst(java.util.regex.Pattern.quote(swap[0]),
                        java.util.regex.Matcher.quoteReplacement(swap[1])).replace("\"build_id\": 1,",
                        "\"build_id\": 1, \"x\": " + i + ",").getBytes(StandardCharsets.UTF_8);
                record(counts, statuses, "wrong-types", installation.postSigned(base, body).statusCode(), 400);
            }
            for (int i = 0; i < 30; i++) { // invalid UTF-8 inside a string value, correctly signed
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                int at = sample.indexOf("andy-corp");
                body.write(valid, 0, at);
                byte[][] bad = {{(byte) 0xC3}, {(byte) 0xFF, (byte) 0xFE}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                    {(byte) 0xC0, (byte) 0xAF}, {(byte) 0x80}};
                body.write(bad[random.nextInt(bad.length)]);
                body.write(("x" + i).getBytes(StandardCharsets.UTF_8));
                body.write(valid, at, valid.length - at);
                record(counts, statuses, "invalid-utf8", installation.postSigned(base, body.toByteArray()).statusCode(), 400);
            }
            for (int i = 0; i < 60; i++) { // valid bodies with a wrong, malformed or missing signature
                byte[] body = Installation.build(1000 + i);
                String good = Installation.sign(body);
                String[] signatures = {null, "", "sha256:", good.substring(0, good.length() - 1) + (good.endsWith("0") ? "1" : "0"),
                    good.replace("sha256:", "sha1:"), good.toUpperCase(java.util.Locale.ROOT).replace("SHA256:", "sha256:") + "00",
                    "sha256:" + "0".repeat(64), Installation.sign(Installation.build(99_999))};
                record(counts, statuses, "bad-signature", installation.post(base, body, signatures[i % signatures.length])
                        .statusCode(), 401);
            }
            URI uri = URI.create(base);
            // CR/LF tricks over a raw socket that try to smuggle a correct signature header in
            // through another header's value. (A plain CRLF simply ends a header on the wire, so it
            // is indistinguishable from a real header and is not an attack; these are the forms a
            // conforming parser must not turn into a header.)
            for (int i = 0; i < 25; i++) {
                byte[] body = Installation.build(2000 + i);
                String sig = Installation.sign(body);
                String headers = switch (i % 5) {
                    case 0 -> "X-Trace: x\rX-JobServ-Sig: " + sig + "\r\n"; // bare CR inside a value
                    case 1 -> "X-Trace: x\r\n X-JobServ-Sig: " + sig + "\r\n"; // obs-fold continuation line
                    case 2 -> "X-JobServ-Sig: " + sig.substring(0, 20) + "\r\n " + sig.substring(20) + "\r\n"; // folded signature
                    case 3 -> "X-JobServ-Sig : " + sig + "\r\n"; // whitespace before the colon
                    default -> "X-JobServ-Sig: " + sig + "\u0000\r\n"; // NUL after the value
                };
                int status = raw(uri, "POST " + uri.getPath() + "webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Type: application/json\r\n" + headers + "Content-Length: " + body.length
                        + "\r\nConnection: close\r\n\r\n", body);
                record(counts, statuses, "header-injection", status, -1);
            }

            HttpResponse<String> accepted = installation.postSigned(base, valid);
            assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
            String id = Installation.deliveryId(accepted.body());
            await().atMost(Duration.ofMinutes(2)).until(() -> Trace.read(installation.trace).completed().contains(id));
            assertThat(server.alive()).isTrue();
        }
        Trace trace = Trace.read(installation.trace);
        assertThat(trace.started()).as("only the one valid, correctly signed body ran a job").hasSize(1);
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        Summary.report("hostile: seed " + SEED + ", " + total + " hostile requests " + counts + ", answers " + statuses
                + ", 0 acted on; 1 valid signed body accepted and run");
    }

    /** Header injection may be refused by the HTTP parser (400) or reach the servlet without its signature (401). */
    private static void record(Map<String, Integer> counts, Map<Integer, Integer> statuses, String kind, int status,
            int expected) {
        counts.merge(kind, 1, Integer::sum);
        statuses.merge(status, 1, Integer::sum);
        if (expected > 0) {
            assertThat(status).as(kind).isEqualTo(expected);
        } else {
            assertThat(status).as(kind).isNotIn(200, 202);
        }
    }

    private static int raw(URI uri, String head, byte[] body) throws Exception {
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            try {
                out.write(body);
                out.flush();
            } catch (java.io.IOException e) {
                // the server may stop reading early (413) and close; its answer is still readable
            }
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            List<String> lines = new ArrayList<>(List.of(response.split("\r\n")));
            if (lines.isEmpty() || !lines.get(0).startsWith("HTTP/1.1 ")) {
                return -1;
            }
            return Integer.parseInt(lines.get(0).substring(9, 12));
        } catch (java.net.SocketException e) {
            return -1; // connection reset: refused outright
        }
    }

}
