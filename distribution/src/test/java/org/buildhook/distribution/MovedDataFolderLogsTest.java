package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout26 F3: each attempt records its log's absolute path, and every reader read only that path. A data
 * folder moved (as the start's own warning advises) left every earlier log "missing" although it had moved
 * with the folder, and a restored copy beside the original read the original installation's files. The logs
 * are now read by the names buildhook writes, {@code <runner.log-dir>/<job id>/attempt-N.log}, under the log
 * directory in force: the API, a follow, {@code logTruncated} and the job's page. Real servers and real jobs,
 * on SQLite and on PostgreSQL (the latter needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI).
 */
class MovedDataFolderLogsTest {

    @TempDir
    Path dir;

    private TestSchema pg;

    @AfterEach
    void dropSchema() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void logsOfJobsRunBeforeTheDataFolderMovedAreReadInTheMovedFolderNeverInTheOriginal(String storeKind)
            throws Exception {
        String keys = "  node-id: moved-node";
        if (storeKind.equals("postgresql")) {
            pg = TestSchema.create("movedlogs_");
            keys += "\nstore:\n  url: '" + pg.storeUrl + "'";
        }
        Path original = Files.createDirectory(dir.resolve("a"));
        String jobId;
        try (AdminServer first = AdminServer.withRunner(original, keys)) {
            jobId = first.awaitJob(first.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
            assertThat(first.get("jobs/" + jobId + "/log").body()).isEqualTo("line one\nline two 67\n");
        }
        Path log = Path.of("data", "logs", jobId, "attempt-1.log");
        assertThat(original.resolve(log)).exists();

        if (storeKind.equals("sqlite")) {
            // A restored copy beside the original, whose own log differs: it reads its own, never the original's.
            Path copy = dir.resolve("copy");
            copyTree(original, copy);
            Files.writeString(copy.resolve(log), "the copy's own log\n");
            try (AdminServer restored = AdminServer.withRunner(copy, keys)) {
                assertThat(restored.get("jobs/" + jobId + "/log").body()).isEqualTo("the copy's own log\n");
            }
        }

        Path moved = dir.resolve("b");
        Files.move(original, moved);
        try (AdminServer after = AdminServer.withRunner(moved, keys)) {
            HttpResponse<String> read = after.get("jobs/" + jobId + "/log");
            assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
            assertThat(read.body()).isEqualTo("line one\nline two 67\n");
            assertThat(after.get("jobs/" + jobId + "/log?follow=1").body()).startsWith("line one\nline two 67\n");
            JsonNode attempt = after.getJson("jobs/" + jobId).path("attempts").path(0);
            assertThat(attempt.path("logTruncated").isBoolean() && !attempt.path("logTruncated").asBoolean())
                    .as(attempt.toString()).isTrue();
            assertThat(after.page("?job=" + jobId, after.signIn()).body()).contains("line two 67")
                    .doesNotContain("no log on this node");
        }
    }

    private static void copyTree(Path from, Path to) throws Exception {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(from)) {
            all = walk.toList();
        }
        for (Path p : all) {
            Path target = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) {
                Files.createDirectories(target);
            } else {
                Files.copy(p, target);
            }
        }
    }
}
