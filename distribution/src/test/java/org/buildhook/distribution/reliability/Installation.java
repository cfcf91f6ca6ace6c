package org.buildhook.distribution.reliability;


import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.buildhook.distribution.Tarball;

/**
 * The built tarball unpacked into a folder, with a work folder holding {@code buildhook.yaml}, a
 * secret, a rules file whose one rule runs {@code trace.sh}, and the trace file that script appends
 * {@code <delivery-id> <rule> start|end <pid>} lines to.
 */
final class Installation {

    static final String SECRET = "reliability-secret";

    final Path home;
    final Path work;
    final Path trace;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    private Installation(Path home, Path work) {
        this.home = home;
        this.work = work;
        this.trace = work.resolve("trace.txt");
    }

    /** Unpacks the tarball under {@code dir} and writes the trace script, rules and secret. */
    static Installation unpack(Path dir, String scriptBody) throws IOException, InterruptedException {
        Path home = Tarball.unpack(dir);
        Installation installation = new Installation(home, Files.createDirectories(dir.resolve("work")));
        installation.writeScript(scriptBody);
        Files.writeString(installation.work.resolve("secret"), SECRET + "\n");
        Files.createFile(installation.trace);
        return installation;
    }

    /**
     * {@link #traceScript}, preceded by an overlap check: the new run, as it starts, writes
     * {@code <id> <rule> overlap <pid>} for every earlier run of the same job whose script still
     * lives (a zombie counts as gone). A run killed with its server writes no end line, so only
     * this tells whether it was gone before the job ran again.
     *
     * <p>The pid alone does not say so: Linux hands pids out again (pid_max is often 32768, and
     * a whole test run wraps it), and /proc also answers for every thread id of any JVM. So the
     * live process counts only when its environment holds this job's {@code BUILDHOOK_PAYLOAD};
     * otherwise the line is {@code <id> <rule> reused <pid>}, which is not an overlap.
     */
    static String traceScriptCheckingOverlap(String pause) {
        return String.join("\n",
                "id=$(basename \"$BUILDHOOK_PAYLOAD\" .json)",
                "for p in $(grep -e \"^$id $BUILDHOOK_RULE start \" \"$TRACE\" | cut -d' ' -f4); do",
                "  [ \"$p\" = \"$$\" ] && continue",
                "  if [ -e /proc/$p/status ] && ! grep -q '^State:[[:space:]]*Z' /proc/$p/status; then",
                "    if tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -qxF \"BUILDHOOK_PAYLOAD=$BUILDHOOK_PAYLOAD\"; then",
                "      echo \"$id $BUILDHOOK_RULE overlap $p\" >> \"$TRACE\"",
                "    else",
                "      echo \"$id $BUILDHOOK_RULE reused $p\" >> \"$TRACE\"",
                "    fi",
                "  fi",
                "done",
                traceScript(pause));
    }

    /** The usual job: a start line, an optional pause, an end line. */
    static String traceScript(String pause) {
        return String.join("\n",
                "id=$(basename \"$BUILDHOOK_PAYLOAD\" .json)",
                "echo \"$id $BUILDHOOK_RULE start $$\" >> \"$TRACE\"",
                pause,
                "echo \"$id $BUILDHOOK_RULE end $$\" >> \"$TRACE\"",
                "");
    }

    private void writeScript(String body) throws IOException {
        Path script = work.resolve("trace.sh");
        Files.writeString(script, "#!/bin/sh\nTRACE='" + trace + "'\n" + body);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(work.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: trace",
                "    run:",
                "      command: [" + script + "]",
                "      stdin: off",
                "      timeout: 1m",
                ""));
    }

    /** Writes {@code buildhook.yaml}: the data folder, the rules, the secret, plus {@code extra} YAML. */
    Path config(String extra) throws IOException {
        return Files.writeString(work.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - file: secret",
                extra,
                ""));
    }

    ServerProcess start() throws Exception {
        return ServerProcess.start(this);
    }

    static String sign(byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256:" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sample build 67 as build {@code n}: a distinct, valid body. */
    static byte[] build(int n) {
        try {
            String sample = Files.readString(Path.of(System.getProperty("buildhook.fixtures", "../fixtures"),
                    "build-67-passed.json"));
            return sample.replace("\"build_id\": 67", "\"build_id\": " + n)
                    .replace("/builds/67/", "/builds/" + n + "/").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<String> post(String base, byte[] body, String signature) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "webhook"))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signature != null) {
            request.header("X-JobServ-Sig", signature);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postSigned(String base, byte[] body) throws IOException, InterruptedException {
        return post(base, body, sign(body));
    }

    static String deliveryId(String responseBody) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"delivery\"\\s*:\\s*\"([^\"]+)\"").matcher(responseBody);
        if (!m.find()) {
            throw new IllegalStateException("no delivery id in " + responseBody);
        }
        return m.group(1);
    }
}
