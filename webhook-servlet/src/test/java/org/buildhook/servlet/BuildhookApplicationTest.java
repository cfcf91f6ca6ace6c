package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.buildhook.runner.store.Ids;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the running application wires together beyond what its parts' own tests see. */
class BuildhookApplicationTest {

    @TempDir
    Path dir;

    /**
     * The store knows its data folder but not {@code runner.log-dir}: the application tells it, so that
     * retention removes the log folders of jobs whose rows another node deleted (tryout10, F11), and
     * counts them in its metrics.
     */
    @Test
    void retentionAlsoRemovesFromTheConfiguredLogFolderTheLogsOfJobsTheStoreNoLongerHas() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrunner: {log-dir: job-logs}\n");
        Path orphan = Files.createDirectories(dir.resolve("job-logs")
                .resolve(Ids.lowestAt(Instant.now().minus(Duration.ofDays(35)))));
        Files.setLastModifiedTime(Files.writeString(orphan.resolve("attempt-1.log"), "output"), anHourAgo());
        Files.setLastModifiedTime(orphan, anHourAgo());

        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            app.store().runRetention();

            assertThat(BuildhookMetricsTest.value(app.metrics().scrape(),
                    "buildhook_retention_orphans_removed_total{kind=\"log_folder\"}")).isEqualTo(1.0);
        }

        assertThat(orphan).doesNotExist();
        assertThat(dir.resolve("job-logs")).isDirectory();
    }

    /**
     * tryout13 F4: jobs of rules without a workdir ran in the data folder, where a script that cleans or
     * archives its working directory takes the database and the secrets with it. They get a folder of
     * their own, made at start.
     */
    @Test
    void jobsWithoutAWorkdirGetAnEmptyFolderOfTheirOwnNotTheDataFolder() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\n");

        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            Path workdir = app.config().launcher().defaultWorkdir();
            assertThat(workdir).isNotEqualTo(dir.resolve("data")).startsWith(dir.resolve("data")).isDirectory()
                    .isEmptyDirectory();
        }
    }

    private static FileTime anHourAgo() {
        return FileTime.from(Instant.now().minus(Duration.ofHours(1)));
    }
}
