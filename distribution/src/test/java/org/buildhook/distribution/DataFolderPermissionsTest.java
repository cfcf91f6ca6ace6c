package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.buildhook.core.Signer;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What buildhook creates in its data folder is closed to other users whatever the umask (the test
 * JVM runs with the usual 022): folders 0750, files 0640 (the SQLite database and its -wal, stored
 * payloads, job logs), generated secrets 0600. What the operator made is left as it is.
 */
class DataFolderPermissionsTest {

    @TempDir
    Path dir;

    @Test
    void everythingBuildhookCreatesInItsDataFolderIsClosedToOtherUsers() throws Exception {
        Path data = dir.resolve("data");
        // SQLite removes its -wal when the last connection closes: looked at while the server runs.
        runOneJob(data, () -> assertThat(mode(data.resolve("buildhook.db-wal"))).isEqualTo(masked("rw-r-----")));

        assertThat(mode(data)).isEqualTo(masked("rwxr-x---"));
        List<Path> created;
        try (Stream<Path> all = Files.walk(data)) {
            created = all.filter(p -> !p.equals(data)).toList();
        }
        assertThat(created).extracting(p -> data.relativize(p).toString())
                .contains("webhook-secret", "admin-token", "buildhook.db", "payloads", "logs");
        assertThat(created).filteredOn(p -> p.toString().endsWith(".log")).isNotEmpty();
        assertThat(created).filteredOn(p -> p.getParent().endsWith("payloads")).isNotEmpty();
        for (Path p : created) {
            String name = p.getFileName().toString();
            assertThat(mode(p)).as(p.toString()).isEqualTo(masked(Files.isDirectory(p) ? "rwxr-x---"
                    : name.equals("webhook-secret") || name.equals("admin-token") ? "rw-------" : "rw-r-----"));
        }
    }

    @Test
    void aDataFolderTheOperatorMadeKeepsItsMode() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx--x--x"));
        Path logs = Files.createDirectories(data.resolve("logs"));
        Files.setPosixFilePermissions(logs, PosixFilePermissions.fromString("rwxr-xr-x"));

        runOneJob(data, () -> { });

        assertThat(mode(data)).isEqualTo("rwx--x--x");
        assertThat(mode(logs)).isEqualTo("rwxr-xr-x");
        assertThat(mode(data.resolve("buildhook.db"))).isEqualTo(masked("rw-r-----"));
    }

    /** A real server on port 0 receives one signed delivery and runs its job to the end. */
    private void runOneJob(Path data, Check whileRunning) throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: echo\n    run: {command: [/bin/echo, \"${build.id}\"]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: " + data,
                "rules: rules.yaml",
                "admin: {token: generate}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        BuildhookConfig loaded = new ConfigLoader(Map.of(), dir).load(config);
        try (BuildhookServer server = BuildhookServer.create(loaded.server(), c -> ServeCommand.install(c, loaded))) {
            server.start();
            URI base = server.uri();
            byte[] body;
            try (InputStream sample = SendCommand.class.getResourceAsStream("sample-build.json")) {
                body = sample.readAllBytes();
            }
            String secret = Files.readString(data.resolve("webhook-secret")).strip();
            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("webhook"))
                    .header("X-JobServ-Sig", Signer.sign(body, secret.getBytes(StandardCharsets.UTF_8)))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
            await().atMost(Duration.ofMinutes(2)).until(() -> logWritten(data.resolve("logs")));
            whileRunning.check();
        }
    }

    private interface Check {
        void check() throws IOException;
    }

    private static boolean logWritten(Path logs) throws IOException {
        if (!Files.isDirectory(logs)) {
            return false;
        }
        try (Stream<Path> all = Files.walk(logs)) {
            return all.anyMatch(p -> p.toString().endsWith(".log") && p.toFile().length() > 0);
        }
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    /** {@code perms} less what this process's umask takes away (a CI may run with 077). */
    private static String masked(String perms) throws IOException {
        String umask = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Umask:"))
                .map(l -> l.substring(6).strip()).findFirst().orElse("022");
        int bits = Integer.parseInt(umask, 8);
        StringBuilder out = new StringBuilder(perms);
        for (int i = 0; i < 9; i++) {
            if ((bits & (1 << (8 - i))) != 0) {
                out.setCharAt(i, '-');
            }
        }
        return out.toString();
    }
}
