package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.buildhook.core.Signer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a job inherits and how its values are passed, with the server started from the built tarball
 * as systemd or a minimal container would start it: an environment of a few variables and no
 * {@code LANG}/{@code LC_*} at all ({@code env -i}).
 */
class JobEnvironmentIT {

    static final String ENDPOINT_SECRET = "endpoint-secret-1f3a9c";
    static final String ADMIN_TOKEN = "admin-token-7b2e4d";
    /**
     * A run name with accents, CJK and an emoji, as JobServ sends it: JSON {@code \\u} escapes. Its space and emoji
     * are outside what the payload-value check lets into a command, so the rule that writes it says
     * {@code payload-values: as-sent} (docs/rules.md#placeholders).
     */
    static final String RUN_NAME = "tëst 構建 🚀";
    static final String RUN_NAME_JSON = "t\\u00ebst \\u69cb\\u5efa \\ud83d\\ude80";
    static final String WORKDIR = "dépôt 構建";

    @TempDir
    Path dir;
    Path home;
    Path work;
    Process server;
    final List<String> output = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void unpack() throws Exception {
        home = Tarball.unpack(dir);
        work = Files.createDirectories(dir.resolve("work"));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aJobGetsNeitherSecretAndEveryValueAsItsExactUtf8BytesUnderNoLocale() throws Exception {
        Files.createDirectories(work.resolve("data").resolve(WORKDIR));
        Path out = work.resolve("exact-bytes.out");
        Files.writeString(work.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: show-env",
                "    run:",
                "      command: [/usr/bin/env]",
                "  - name: exact-bytes",
                "    when: {runs: {match: each, name: 't*'}}",
                "    run:",
                "      command: [/bin/sh, -c, 'printf \"%s|%s|%s\" \"$1\" \"$GREETING\" \"$(pwd)\" > \"$2\"', sh,"
                        + " '${run.name}', '" + out + "']",
                "      env: {GREETING: grüße}",
                "      payload-values: as-sent",
                "      workdir: '" + work.resolve("data").resolve(WORKDIR) + "'",
                ""), StandardCharsets.UTF_8);
        Files.writeString(work.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets: [{env: JOBSERV_SECRET}]",
                "admin:",
                "  token: {env: ADMIN_TOKEN}",
                "runner:",
                "  workdir: 'data/" + WORKDIR + "'",
                "  inherit-env: [ADMIN_TOKEN, SHARED_SETTING]",
                ""), StandardCharsets.UTF_8);
        String base = serve(Map.of("JOBSERV_SECRET", ENDPOINT_SECRET, "ADMIN_TOKEN", ADMIN_TOKEN,
                "SHARED_SETTING", "shared", "UNNAMED_SETTING", "not shared"));

        byte[] body = Files.readString(Path.of(System.getProperty("buildhook.fixtures"), "build-67-passed.json"))
                .replace("\"name\": \"build-armhf\"", "\"name\": \"" + RUN_NAME_JSON + "\"")
                .getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "webhook"))
                .header("X-JobServ-Sig", Signer.sign(body, ENDPOINT_SECRET.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(out) && logOf("show-env") != null);
        assertThat(Files.readAllBytes(out)).isEqualTo((RUN_NAME + "|grüße|" + work.resolve("data").resolve(WORKDIR))
                .getBytes(StandardCharsets.UTF_8));
        String env = logOf("show-env");
        assertThat(env).doesNotContain(ENDPOINT_SECRET, ADMIN_TOKEN, "JOBSERV_SECRET", "ADMIN_TOKEN", "not shared",
                        "JAVA_HOME")
                .contains("SHARED_SETTING=shared", "PATH=/usr/bin:/bin", "BUILDHOOK_RULE=show-env")
                .containsPattern("(?m)^LC_(CTYPE|ALL)=C\\.(UTF-8|utf8)$");
        assertThat(ServeOutput.text(output))
                .contains("runner.inherit-env[0]: ADMIN_TOKEN holds a secret of this configuration")
                .doesNotContain("not UTF-8", ENDPOINT_SECRET, ADMIN_TOKEN);
    }

    /** The whole log of the one attempt of the rule's job, once it ended; null before. */
    String logOf(String rule) throws IOException {
        return AttemptLogs.firstOf(work.resolve("data/logs"), rule);
    }

    /** {@code serve} with exactly the given variables besides PATH and JAVA_HOME, as {@code env -i} would. */
    String serve(Map<String, String> variables) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/buildhook").toString(), "serve", "--config",
                work.resolve("buildhook.yaml").toString(), "--port", "0", "--host", "127.0.0.1")
                .directory(work.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("JAVA_OPTS", "-Xmx256m -XX:+UseSerialGC");
        pb.environment().putAll(variables);
        server = pb.start();
        return ServeOutput.awaitListening(server, output, "job-environment-it-server-output");
    }
}
