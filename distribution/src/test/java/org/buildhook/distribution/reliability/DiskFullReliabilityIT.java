package org.buildhook.distribution.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs whose output does not fit: the log folder on a 1 MiB tmpfs that fills up (when this
 * machine lets us mount one), and a small {@code runner.log-max-bytes}. Either way the jobs run
 * and are recorded, the log problem is noted, and the server stays up. A job that would start while
 * the log disk is already full waits, the node paused, until there is room again (files19 D4b): the
 * test then frees the disk, as an operator would.
 */
class DiskFullReliabilityIT {

    /** Every job prints 3 MB: three times the tmpfs, far over the 4 KiB cap. */
    static final String NOISY = "head -c 3000000 /dev/zero | tr '\\\\0' x";

    @TempDir
    Path dir;
    Path mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted != null) {
            new ProcessBuilder("umount", mounted.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFullLogFolderLeavesJobsRunningRecordedAndTheLogMarkedIncomplete() throws Exception {
        Path logs = Files.createDirectories(dir.resolve("tmpfs-logs"));
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", logs.toString())
                .redirectErrorStream(true).start();
        boolean ok = mount.waitFor(60, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(ok, "cannot mount a tmpfs here: the log-max-bytes test covers the cap instead");
        mounted = logs;
        Installation installation = Installation.unpack(Files.createDirectories(dir.resolve("install")),
                Installation.traceScript(NOISY));
        installation.config("runner:\n  log-dir: " + logs);

        List<String> messages = runThreeJobsAndReadMessages(installation, logs);

        assertThat(messages).hasSize(3).allSatisfy(m -> assertThat(m).contains("log incomplete"));
        Summary.report("disk-full (tmpfs 1 MiB on the log folder): 3 jobs of 3 MB output each ran and were recorded "
                + "SUCCEEDED, " + messages.size() + " noted 'log incomplete', server stayed up");
    }

    @Test
    void aLogOverItsCapIsTruncatedWithANoteAndTheJobStillRecorded() throws Exception {
        Installation installation = Installation.unpack(dir, Installation.traceScript(NOISY));
        installation.config("runner:\n  log-max-bytes: 4KiB");

        runThreeJobsAndReadMessages(installation, null);

        List<Path> logs;
        try (Stream<Path> files = Files.walk(installation.work.resolve("data/logs"))) {
            logs = files.filter(p -> p.getFileName().toString().startsWith("attempt-")).toList();
        }
        assertThat(logs).hasSize(3).allSatisfy(log -> {
            assertThat(Files.size(log)).isLessThan(8 * 1024);
            assertThat(Files.readString(log)).contains("[buildhook] log truncated");
        });
        Summary.report("log-cap (runner.log-max-bytes 4KiB): 3 jobs of 3 MB output each ran and were recorded "
                + "SUCCEEDED, 3 logs truncated with a note, server stayed up");
    }

    /**
     * Sends three builds, waits for their jobs, checks the server still answers; returns the jobs' messages.
     * While the node says it starts no jobs (its log disk full), deletes the logs in {@code freeUp} (when not
     * null) to make room.
     */
    private static List<String> runThreeJobsAndReadMessages(Installation installation, Path freeUp)
            throws Exception {
        List<String> accepted = new ArrayList<>();
        try (ServerProcess server = installation.start()) {
            for (int n = 1; n <= 3; n++) {
                HttpResponse<String> answer = installation.postSigned(server.base, Installation.build(n));
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
                accepted.add(Installation.deliveryId(answer.body()));
            }
            Path db = installation.work.resolve("data/buildhook.db");
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                if (Trace.read(installation.trace).completed().containsAll(accepted) && finished(db) == 3) {
                    return true;
                }
                if (freeUp != null && installation.http.send(HttpRequest.newBuilder(URI.create(server.base
                        + "healthz")).build(), HttpResponse.BodyHandlers.ofString()).body()
                        .contains("jobs do not start on this node")) {
                    try (Stream<Path> files = Files.walk(freeUp)) {
                        for (Path log : files.filter(Files::isRegularFile).toList()) {
                            Files.deleteIfExists(log);
                        }
                    } catch (java.io.IOException | java.io.UncheckedIOException e) {
                        // a job's folder changed meanwhile: the next poll frees the rest
                    }
                }
                return false;
            });
            HttpResponse<String> health = installation.http.send(HttpRequest.newBuilder(URI.create(server.base
                    + "healthz")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(server.alive()).isTrue();
            List<String> messages = new ArrayList<>();
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement sql = c.createStatement();
                    ResultSet rows = sql.executeQuery("SELECT state, message FROM jobs")) {
                while (rows.next()) {
                    assertThat(rows.getString(1)).isEqualTo("SUCCEEDED");
                    messages.add(String.valueOf(rows.getString(2)));
                }
            }
            return messages;
        }
    }

    private static int finished(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement sql = c.createStatement();
                ResultSet rows = sql.executeQuery("SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
