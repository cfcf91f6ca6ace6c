package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * A real job that prints its secrets encoded (mask39): base64 (of the value alone, after a newline, inside a longer
 * text at each alignment, URL-safe), hex, percent-encoded and inside JSON, by the tools a job uses for it
 * ({@code base64}, {@code xxd}, {@code jq}, Python), in a long stream the output pump reads in pieces and across a
 * pause in the middle of a base64 form. Before mask39 the log showed each as the job printed it, which anyone can
 * decode. The assertions never print what the log holds: only what it should hold, with {@code ***}.
 */
class EncodedSecretsMaskedInTheLogTest extends LauncherTest {

    private static final String PASSWORD = "s3cr3t-Pa55word-39";
    /** A token with characters that each encoding writes its own way: {@code / + " ä \ blank ? ~ *}. */
    private static final String TOKEN = "ghs_t0k3n/+\"\u00e4\\ q?~*x";
    private static final int STREAM_LINES = 3000;

    @Test
    void aSecretPrintedInBase64HexPercentEncodingOrJsonIsMaskedInTheJobsLog() throws Exception {
        Path fifo = dir.resolve("go.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor(60, TimeUnit.SECONDS) && mkfifo.exitValue() == 0).isTrue();
        Path stream = fixtures.script("stream.py", "");
        Files.writeString(stream, String.join("\n",
                "import base64, os",
                "s = os.environb[b'DB_PASSWORD']",
                "out = []",
                "for i in range(" + STREAM_LINES + "):",
                "    out.append(b'+ make -C src/module-%d all  # step of the build\\n' % i)",
                "    out.append(b'%d:' % i + base64.b64encode(b'p' * (i % 7) + s + b'@' * (i % 4)) + b'\\n')",
                "os.write(1, b''.join(out))  # one write: the pump reads it in pieces, cut anywhere",
                ""));
        Path script = fixtures.script("encoded.sh", String.join("\n",
                "S=\"$DB_PASSWORD\"; T=\"$API_TOKEN\"",
                "printf 'b64:%s\\n' \"$(printf %s \"$S\" | base64 -w0)\"",
                "printf 'b64nl:%s\\n' \"$(printf '%s\\n' \"$S\" | base64 -w0)\"",
                "for p in x xy xyz wxyz; do printf 'b64-%s:%s\\n' \"$p\" \"$(printf '%s%s:tail' \"$p\" \"$S\" | base64 -w0)\"; done",
                "printf 'b64t:%s\\n' \"$(printf %s \"$T\" | base64 -w0)\"",
                "printf 'url:%s\\n' \"$(printf %s \"$T\" | base64 -w0 | tr '+/' '-_')\"",
                "printf 'hex:%s\\n' \"$(printf %s \"$S\" | xxd -p | tr -d '\\n')\"",
                "printf 'HEX:%s\\n' \"$(printf %s \"$S\" | xxd -p -u | tr -d '\\n')\"",
                "printf 'uri:%s\\n' \"$(jq -rn --arg s \"$T\" '$s|@uri')\"",
                "printf 'json:%s\\n' \"$(jq -cn --arg s \"$T\" '{token:$s}')\"",
                "/usr/bin/python3 -c 'import json, os; print(\"py:\" + json.dumps({\"t\": os.environ[\"API_TOKEN\"]}))'",
                "/usr/bin/python3 -c 'import os, re, urllib.parse as u; print(\"low:\" + re.sub(\"%[0-9A-F]{2}\","
                        + " lambda m: m.group().lower(), u.quote(os.environ[\"API_TOKEN\"], safe=\"\")))'",
                "/usr/bin/python3 " + stream,
                "B=$(printf %s \"$S\" | base64 -w0)",
                "printf 'split:%s' \"$(printf %s \"$B\" | cut -c1-9)\"",
                "read go < '" + fifo + "'",
                "printf '%s\\n' \"$(printf %s \"$B\" | cut -c10-)\""));
        String id = Fixtures.jobId("encoded-secrets");
        RunningJob job = launcher.start(new JobRequest(id, 1, List.of(script.toString()),
                Map.of("DB_PASSWORD", PASSWORD, "API_TOKEN", TOKEN), null, null, Duration.ofMinutes(2)));
        Path log = dir.resolve("logs").resolve(id).resolve("attempt-1.log");
        await().atMost(Duration.ofSeconds(90)).until(() -> Files.exists(log) && Files.readString(log).contains("split:"));
        assertThat(Files.readString(log).endsWith("split:"))
                .as("the beginning of the base64 form waits for the rest, after a pause in the job").isTrue();
        CompletableFuture<Void> go = CompletableFuture.runAsync(() -> {
            try {
                Files.writeString(fifo, "go\n"); // blocks until the job opens the FIFO
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        JobOutcome outcome = job.outcome().get(90, TimeUnit.SECONDS);
        go.get(10, TimeUnit.SECONDS);
        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();

        List<String> lines = Files.readAllLines(outcome.logFile(), StandardCharsets.UTF_8);
        Base64.Encoder b64 = Base64.getEncoder();
        expectLine(lines, "b64:", "***");
        expectLine(lines, "b64nl:", maskedBase64(b64, "", PASSWORD, "\n"));
        for (String p : List.of("x", "xy", "xyz", "wxyz")) {
            expectLine(lines, "b64-" + p + ":", maskedBase64(b64, p, PASSWORD, ":tail"));
        }
        expectLine(lines, "b64t:", "***");
        expectLine(lines, "url:", "***");
        expectLine(lines, "hex:", "***");
        expectLine(lines, "HEX:", "***");
        expectLine(lines, "uri:", "***");
        expectLine(lines, "json:", "{\"token\":\"***\"}");
        expectLine(lines, "py:", "{\"t\": \"***\"}");
        expectLine(lines, "low:", "***");
        expectLine(lines, "split:", "***");
        Set<String> all = new HashSet<>(lines);
        int masked = 0;
        for (int i = 0; i < STREAM_LINES; i++) {
            if (all.contains(i + ":" + maskedBase64(b64, "p".repeat(i % 7), PASSWORD, "@".repeat(i % 4)))) {
                masked++;
            }
        }
        assertThat(masked).as("lines of the stream, each with the password's base64 inside a longer text at one of"
                + " the three alignments, with only the characters that also hold its neighbours' bits left").isEqualTo(
                STREAM_LINES);
        String kept = Files.readString(outcome.logFile(), StandardCharsets.UTF_8);
        assertThat(kept.contains(PASSWORD) || kept.contains(TOKEN)).as("a secret as it is").isFalse();
    }

    /**
     * {@code base64(prefix + secret + suffix)} as the log must show it: the characters that only the secret's bits
     * decide as {@code ***}, to the end when the secret ends the text on a 3-byte boundary (its whole encoding).
     */
    static String maskedBase64(Base64.Encoder encoder, String prefix, String secret, String suffix) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] s = secret.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(p);
        all.writeBytes(s);
        all.writeBytes(suffix.getBytes(StandardCharsets.UTF_8));
        String encoded = encoder.encodeToString(all.toByteArray());
        int from = (8 * p.length + 5) / 6;
        int to = suffix.isEmpty() && p.length % 3 == 0 ? encoded.length() : 8 * (p.length + s.length) / 6;
        return encoded.substring(0, from) + "***" + encoded.substring(to);
    }

    /** The one line that starts with {@code label} is {@code label + expected}; says so without printing the line. */
    private static void expectLine(List<String> lines, String label, String expected) {
        List<String> found = lines.stream().filter(l -> l.startsWith(label)).toList();
        assertThat(found.size()).as("lines %s…", label).isEqualTo(1);
        assertThat(found.get(0).equals(label + expected)).as("the line %s… is %s%s", label, label, expected).isTrue();
    }

    /**
     * tryout39 F1: {@code base64} wraps its output at 76 columns ({@code openssl base64} at 64), so a secret over 57
     * bytes printed with plain {@code printf %s "$T" | base64} (rules.md's own example) came out in lines no masked
     * form matched, and the log showed it decodable. Its lines from the value's first character are masked now.
     */
    @Test
    void aLongSecretPrintedByBase64InWrappedLinesIsMasked() throws Exception {
        String token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZXBsb3kiLCJleHAiOjE3OTY0MjM0MDB9.Zm9vYmFyYmF6cXV4-39";
        Path script = fixtures.script("wrapped.sh", String.join("\n",
                "printf 'plain:\\n'; printf %s \"$LONG_TOKEN\" | base64",
                "printf 'echo:\\n'; echo \"$LONG_TOKEN\" | base64",
                "printf 'openssl:\\n'; printf %s \"$LONG_TOKEN\" | openssl base64",
                "echo done"));

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("wrapped-base64"), 1, List.of(script.toString()),
                Map.of("LONG_TOKEN", token), null, null, Duration.ofMinutes(1)));

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        String log = Files.readString(outcome.logFile(), StandardCharsets.UTF_8);
        String encoded = Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8));
        String withNewline = Base64.getEncoder().encodeToString((token + "\n").getBytes(StandardCharsets.UTF_8));
        for (String shown : List.of(encoded, withNewline)) {
            for (int at = 0; at + 12 <= 100; at += 6) {
                assertThat(log.contains(shown.substring(at, at + 12))).as("a piece of the token's base64 at %d", at)
                        .isFalse();
            }
        }
        assertThat(log.split("\\*\\*\\*", -1)).as("three masks").hasSize(4);
        assertThat(log).startsWith("plain:\n***").contains("\necho:\n***", "\nopenssl:\n***").endsWith("done\n");
    }

    /**
     * tryout46 F5: Go's {@code encoding/json} writes {@code &} as <code>&#92;u0026</code> (and {@code < >}), Gson also
     * {@code = '}; the log showed such a JSON string as printed, the whole password behind one escape, though Python's
     * {@code json.dumps} of it was masked. A real job prints both, a value with every character escaped, and the
     * password in two writes with a pause inside an escape ({@code \}u00 | 26): each is masked whole.
     */
    @Test
    void aSecretInJsonAsGoOrGsonEscapesItIsMaskedInTheJobsLog() throws Exception {
        String password = "Tr0ub4dor&3-horse!x9Z";
        String gsonToken = "k=v'it's<46>";
        Path fifo = dir.resolve("go46.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor(60, TimeUnit.SECONDS) && mkfifo.exitValue() == 0).isTrue();
        Path leak = fixtures.script("leak.py", "");
        Files.writeString(leak, String.join("\n",
                "import json, os, sys",
                "s, t = os.environ['DB_PASSWORD'], os.environ['API_TOKEN']",
                "def go(v):",
                "    e = json.dumps({'pw': v}).replace('&', '\\\\u0026')",
                "    return e.replace('<', '\\\\u003c').replace('>', '\\\\u003e')",
                "def gson(v):",
                "    return go(v).replace('=', '\\\\u003d').replace(\"'\", '\\\\u0027')",
                "print('json: ' + json.dumps({'pw': s}))",
                "print('go-json: ' + go(s))",
                "print('gson: ' + gson(t))",
                "print('all: \"' + ''.join('\\\\u%04x' % ord(c) for c in s) + '\"')",
                "print('other: ' + go('Tom & Jerry'))",
                "g = go(s)",
                "cut = g.index('\\\\u0026') + 4",
                "sys.stdout.write('split: ' + g[:cut]); sys.stdout.flush()",
                "open('" + fifo + "').read()",
                "print(g[cut:])",
                ""));
        String id = Fixtures.jobId("json-escapes");
        RunningJob job = launcher.start(new JobRequest(id, 1, List.of("/usr/bin/python3", leak.toString()),
                Map.of("DB_PASSWORD", password, "API_TOKEN", gsonToken), null, null, Duration.ofMinutes(2)));
        Path log = dir.resolve("logs").resolve(id).resolve("attempt-1.log");
        await().atMost(Duration.ofSeconds(90))
                .until(() -> Files.exists(log) && Files.readString(log).contains("split:"));
        assertThat(Files.readString(log).endsWith("split: {\"pw\": \""))
                .as("the password's beginning and the escape's waits for the rest, after a pause in the job").isTrue();
        CompletableFuture<Void> go = CompletableFuture.runAsync(() -> {
            try {
                Files.writeString(fifo, "go\n"); // blocks until the job opens the FIFO
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        JobOutcome outcome = job.outcome().get(90, TimeUnit.SECONDS);
        go.get(10, TimeUnit.SECONDS);
        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();

        List<String> lines = Files.readAllLines(outcome.logFile(), StandardCharsets.UTF_8);
        expectLine(lines, "json: ", "{\"pw\": \"***\"}");
        expectLine(lines, "go-json: ", "{\"pw\": \"***\"}");
        expectLine(lines, "gson: ", "{\"pw\": \"***\"}");
        expectLine(lines, "all: ", "\"***\"");
        expectLine(lines, "other: ", "{\"pw\": \"Tom \\u0026 Jerry\"}");
        expectLine(lines, "split: ", "{\"pw\": \"***\"}");
        assertThat(Files.readString(outcome.logFile(), StandardCharsets.UTF_8).contains("Tr0ub4dor"))
                .as("no piece of the password").isFalse();
    }
}
