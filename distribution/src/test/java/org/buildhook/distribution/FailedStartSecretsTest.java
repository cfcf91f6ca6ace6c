package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start that is refused writes no secret file and announces none: the secrets it would generate
 * are written only once every check that can refuse the start has passed, so an operator is never told
 * to give JobServ a secret of a server that did not start, and the next start generates (and
 * announces) them itself (tryout13 F6). A secret file that was there is never touched. Real
 * {@code serve} processes.
 */
class FailedStartSecretsTest {

    @TempDir
    Path dir;
    ServeProcesses processes;

    @BeforeEach
    void processes() {
        processes = new ServeProcesses(dir);
    }

    @AfterEach
    void killAll() throws InterruptedException {
        processes.close();
    }

    /** Jetty opens the port before the application starts: nothing was written, nothing is said of secrets. */
    @Test
    void aStartOnATakenPortWritesNoSecretAndTheNextStartGeneratesAndAnnouncesThem() throws Exception {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nadmin: {token: generate}\nstore: {connect-timeout: 1m}\n");
        Path secret = dir.resolve("data/webhook-secret");
        Path token = dir.resolve("data/admin-token");
        String failed;
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process first = serve(config, dir.resolve("first.out"), "--port", String.valueOf(taken.getLocalPort()));
            assertThat(first.waitFor(5, TimeUnit.MINUTES)).as("the start on a taken port ends by itself").isTrue();
            failed = Files.readString(dir.resolve("first.out"), StandardCharsets.UTF_8);
            assertThat(first.exitValue()).as(failed).isEqualTo(ExitCodes.UNAVAILABLE);
        }
        assertThat(failed).contains("cannot listen on 127.0.0.1:").doesNotContain("generated a new secret")
                .doesNotContain("give it to JobServ");
        assertThat(secret).as("no webhook secret from a refused start").doesNotExist();
        assertThat(token).as("no admin token from a refused start").doesNotExist();

        Process second = serve(config, dir.resolve("second.out"), "--port", "0");
        await().atMost(Duration.ofMinutes(5)).failFast(() -> !second.isAlive())
                .until(() -> printed(dir.resolve("second.out"), "buildhook listening on"));
        String started = Files.readString(dir.resolve("second.out"), StandardCharsets.UTF_8);
        assertThat(started).contains("generated a new secret for endpoint 'default' in " + secret)
                .contains("give it to JobServ").contains("generated a new secret for the admin API in " + token)
                .doesNotContain(Files.readString(secret).strip()).doesNotContain(Files.readString(token).strip());
        assertThat(Files.getPosixFilePermissions(secret)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * A start refused because another buildhook serves the data folder generates nothing there and
     * takes nothing from the running one; it says why once.
     */
    @Test
    void aStartRefusedBecauseAnotherServesTheDataFolderWritesNoSecretAndTouchesNone() throws Exception {
        Path running = Files.writeString(dir.resolve("running.yaml"), "data-dir: data\n");
        Path second = Files.writeString(dir.resolve("second.yaml"), "data-dir: data\nadmin: {token: generate}\n");
        Path secret = dir.resolve("data/webhook-secret");
        Path token = dir.resolve("data/admin-token");
        serve(running, dir.resolve("running.out"), "--port", "0");
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("running.out"), "buildhook listening on"));
        String runningSecret = Files.readString(secret);

        Process refused = serve(second, dir.resolve("refused.out"), "--port", "0");
        assertThat(refused.waitFor(5, TimeUnit.MINUTES)).as("the refused start ends by itself").isTrue();
        String output = Files.readString(dir.resolve("refused.out"), StandardCharsets.UTF_8);
        assertThat(refused.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(output).contains("is already serving the SQLite database").doesNotContain("generated a new secret");
        // One message, the command's (tryout15 F8): not also the WAR's "the web application / is not available"
        // line with the same reason before it.
        assertThat(output.lines().filter(l -> l.contains("is already serving the SQLite database")))
                .as(output).singleElement().asString().startsWith("buildhook: cannot start: ");
        assertThat(output).doesNotContain("web application").doesNotContain("Exception");
        assertThat(Files.readString(secret)).as("the running server's secret").isEqualTo(runningSecret);
        assertThat(token).as("no admin token from the refused start").doesNotExist();
    }

    /**
     * tryout13 F6: a second PostgreSQL node given the {@code runner.node-id} of a running one is refused,
     * and its new data folder holds no secret, and its output tells of none.
     */
    @Test
    void aStartRefusedForANodeIdInUseWritesNoSecretAndAnnouncesNone() throws Exception {
        String url = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (url == null || url.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("BUILDHOOK_TEST_PG_URL is not set on CI");
            }
            Assumptions.abort("BUILDHOOK_TEST_PG_URL is not set");
        }
        String schema = "secrets_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection admin = DriverManager.getConnection(url); Statement sql = admin.createStatement()) {
            sql.execute("CREATE SCHEMA " + schema);
        }
        String store = url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
        try (AdminServer first = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), store, "same-id")) {
            Path config = Files.writeString(dir.resolve("b.yaml"), "data-dir: b/data\nadmin: {token: generate}\n"
                    + "runner: {node-id: same-id}\nstore: {url: '" + store + "'}\n");
            Process refused = serve(config, dir.resolve("b.out"), "--port", "0");
            assertThat(refused.waitFor(5, TimeUnit.MINUTES)).as("the refused start ends by itself").isTrue();
            String output = Files.readString(dir.resolve("b.out"), StandardCharsets.UTF_8);
            assertThat(refused.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(output).contains("runner.node-id 'same-id' is in use by another running node")
                    .doesNotContain("generated a new secret").doesNotContain("give it to JobServ");
            assertThat(dir.resolve("b/data/webhook-secret")).doesNotExist();
            assertThat(dir.resolve("b/data/admin-token")).doesNotExist();
            assertThat(first.app()).as("the running node").isNotNull();
        } finally {
            try (Connection admin = DriverManager.getConnection(url); Statement sql = admin.createStatement()) {
                sql.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    private Process serve(Path config, Path out, String... flags) throws IOException {
        List<String> all = new ArrayList<>(List.of("--host", "127.0.0.1"));
        all.addAll(List.of(flags));
        return processes.serve(config, out, all.toArray(String[]::new));
    }

    private static boolean printed(Path out, String text) throws IOException {
        return ServeProcesses.printed(out, text);
    }
}
