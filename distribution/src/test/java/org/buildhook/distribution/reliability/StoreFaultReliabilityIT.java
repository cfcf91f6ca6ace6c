package org.buildhook.distribution.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite store stops taking writes while {@code bin/buildhook serve} runs: its files made
 * immutable ({@code chattr +i}), the disk of its data directory full (a small tmpfs, filled), or the
 * data directory deleted. Each delivery is answered {@code 503} with {@code Retry-After} and a JSON
 * body (never a 500, an HTML page or a stack trace), {@code /healthz} says 503 while writes fail and
 * 200 once they work again, without a restart, and every {@code 202} given is found after a restart.
 *
 * <p>{@code chattr} and {@code mount} need root: without them the scenario is skipped, except on CI
 * ({@code CI=true}) where it fails.
 */
class StoreFaultReliabilityIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    final List<Path> immutable = new ArrayList<>();
    Path mounted;

    @AfterEach
    void undo() throws Exception {
        for (Path p : immutable) {
            run("chattr", "-i", p.toString());
        }
        if (mounted != null) {
            run("umount", mounted.toString());
        }
    }

    @Test
    void aReadOnlyDatabaseIsAnswered503UntilItIsWritableAgain() throws Exception {
        Installation installation = install(null);
        Path data = installation.work.resolve("data");
        Set<String> accepted = new HashSet<>();
        try (ServerProcess server = installation.start()) {
            accepted.add(accept(installation, server, 1));
            for (Path p : List.of(data.resolve("buildhook.db"), data.resolve("buildhook.db-wal"))) {
                require(run("chattr", "+i", p.toString()), "chattr +i " + p);
                immutable.add(p);
            }

            assertRefused(installation, server, 2);
            assertRefused(installation, server, 3);
            assertThat(health(installation, server).statusCode()).isEqualTo(503);

            for (Path p : immutable) {
                assertThat(run("chattr", "-i", p.toString())).isTrue();
            }
            immutable.clear();
            awaitHealthy(installation, server);
            accepted.add(accept(installation, server, 2));
            accepted.add(accept(installation, server, 3));
        }
        assertFoundAfterRestart(installation, accepted);
        Summary.report("store-read-only (chattr +i on buildhook.db and -wal): deliveries answered 503 + Retry-After "
                + "+ JSON, /healthz 503, then 200 and 202 again without a restart; " + accepted.size()
                + " 202s all found after a restart");
    }

    @Test
    void aFullDiskIsAnswered503UntilThereIsRoomAgain() throws Exception {
        Path data = Files.createDirectories(dir.resolve("tmpfs-data"));
        require(run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", data.toString()), "mount a tmpfs");
        mounted = data;
        Installation installation = install(data);
        Set<String> accepted = new HashSet<>();
        Path filler = data.resolve("filler");
        try (ServerProcess server = installation.start()) {
            accepted.add(accept(installation, server, 1));
            fill(filler);

            // The write-ahead log may still have room for a few deliveries; then the disk is full.
            int n = 2;
            while (true) {
                HttpResponse<String> answer = installation.postSigned(server.base, Installation.build(n));
                if (answer.statusCode() == 202) {
                    assertThat(n).as("deliveries accepted on a full disk").isLessThan(200);
                    accepted.add(Installation.deliveryId(answer.body()));
                    n++;
                    continue;
                }
                assertUnavailable(answer);
                break;
            }
            assertRefused(installation, server, n);
            assertThat(health(installation, server).statusCode()).isEqualTo(503);

            Files.delete(filler);
            awaitHealthy(installation, server);
            accepted.add(accept(installation, server, n));
        }
        assertFoundAfterRestart(installation, accepted);
        Summary.report("store-disk-full (data-dir on an 8 MiB tmpfs, filled): deliveries answered 503 + Retry-After "
                + "+ JSON, /healthz 503, then 200 and 202 again without a restart; " + accepted.size()
                + " 202s all found after a restart");
    }

    @Test
    void aDeletedDataDirectoryIsNoticedAndAnswered503() throws Exception {
        Installation installation = install(null);
        Path data = installation.work.resolve("data");
        try (ServerProcess server = installation.start()) {
            String first = accept(installation, server, 1);
            // Its job done, so that nothing writes into the folder while it is removed.
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> Trace.read(installation.trace).completed().contains(first));
            assertThat(run("rm", "-rf", data.toString())).isTrue();

            for (int n = 2; n <= 5; n++) {
                assertRefused(installation, server, n);
            }
            assertThat(health(installation, server).statusCode()).isEqualTo(503);
            assertThat(server.output).anyMatch(l -> l.contains("ERROR") && l.contains("was deleted or replaced")
                    && l.contains("restart"));
        }
        // Nothing answered 202 after the deletion, so a restart (on a new, empty store) misses nothing.
        assertFoundAfterRestart(installation, Set.of());
        Summary.report("store-deleted (rm -rf of the data-dir while serving): 4 of 4 deliveries answered 503 + "
                + "Retry-After + JSON, /healthz 503, the log says what happened and what to do");
    }

    /** The usual installation, with {@code data-dir} at {@code data} when given, and Retry-After 7 s. */
    private Installation install(Path data) throws Exception {
        Installation installation = Installation.unpack(Files.createDirectories(dir.resolve("install")),
                Installation.traceScript(""));
        Path config = installation.config("http:\n  retry-after: 7s");
        if (data != null) {
            Files.writeString(config, Files.readString(config).replace("data-dir: data", "data-dir: " + data));
        }
        return installation;
    }

    private static String accept(Installation installation, ServerProcess server, int build) throws Exception {
        HttpResponse<String> answer = installation.postSigned(server.base, Installation.build(build));
        assertThat(answer.statusCode()).as("%s%nserver log:%n%s", answer.body(), String.join("\n", server.output))
                .isEqualTo(202);
        return Installation.deliveryId(answer.body());
    }

    private static void assertRefused(Installation installation, ServerProcess server, int build) throws Exception {
        HttpResponse<String> answer = installation.postSigned(server.base, Installation.build(build));
        assertThat(answer.statusCode()).as("%s%nserver log:%n%s", answer.body(), String.join("\n", server.output))
                .isEqualTo(503);
        assertUnavailable(answer);
    }

    private static void assertUnavailable(HttpResponse<String> answer) throws IOException {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
        assertThat(answer.headers().firstValue("Retry-After")).hasValue("7");
        assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("application/json"));
        JsonNode body = JSON.readTree(answer.body());
        assertThat(body.path("error").asText()).isNotBlank();
        assertThat(answer.body()).doesNotContain("Exception", "<html", "SQLITE", "\tat ");
    }

    private static HttpResponse<String> health(Installation installation, ServerProcess server) throws Exception {
        HttpResponse<String> answer = installation.http.send(HttpRequest.newBuilder(URI.create(server.base + "healthz"))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() == 503) {
            assertThat(answer.headers().firstValue("Retry-After")).hasValue("7");
            assertThat(JSON.readTree(answer.body()).path("status").asText()).isEqualTo("unavailable");
        }
        return answer;
    }

    private static void awaitHealthy(Installation installation, ServerProcess server) {
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .until(() -> health(installation, server).statusCode() == 200);
    }

    /** Restarts the server on the same data, stops it, and checks that the store holds every id in {@code accepted}. */
    private static void assertFoundAfterRestart(Installation installation, Set<String> accepted) throws Exception {
        Path db;
        try (ServerProcess server = installation.start()) {
            assertThat(health(installation, server).statusCode()).isEqualTo(200);
            db = Path.of(server.output.stream().filter(l -> l.strip().startsWith("data:")).findFirst()
                    .map(l -> l.strip().substring("data:".length()).strip()).orElseThrow()).resolve("buildhook.db");
        }
        Set<String> found = new HashSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement sql = c.createStatement();
                ResultSet rows = sql.executeQuery("SELECT id FROM deliveries WHERE outcome = 'ACCEPTED'")) {
            while (rows.next()) {
                found.add(rows.getString(1));
            }
        }
        assertThat(found).containsAll(accepted);
    }

    /** Writes zeros until the file system says it is full. */
    private static void fill(Path filler) {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            assertThat(full.getMessage()).containsIgnoringCase("space");
        }
    }

    private static void require(boolean done, String what) {
        if (!done) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(what + " failed: CI must run as root on a file system with the immutable "
                        + "attribute (ext4, xfs, btrfs), with tmpfs mounts allowed");
            }
            Assumptions.abort(what + " is not possible here (not root, or not allowed)");
        }
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().transferTo(System.out);
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
