package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqliteStoreTest extends AbstractStoreTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    @Override
    String unreachableUrl(Path dir) {
        // A folder where the database file should be: SQLite cannot open it.
        return "jdbc:sqlite:" + dir.toAbsolutePath();
    }

    /** SQLite's plan for one statement, its detail lines joined. */
    private String plan(String sql, Object... args) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
            for (int i = 0; i < args.length; i++) {
                p.setObject(i + 1, args[i]);
            }
            List<String> lines = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    lines.add(rs.getString("detail"));
                }
            }
            return String.join("\n", lines);
        }
    }

    /**
     * An upgrade migrated the operator's database without a word: the log said only "store open on
     * SQLITE at schema version 12", also when the data came from a build at version 3 (tryout11 F7).
     * The node that migrates says from which version to which, and that older builds cannot open it.
     */
    @Test
    void aStoreOpenedByANewerBuildSaysItsSchemaWasUpgradedFromWhichVersion() throws Exception {
        int latest = knownMigrations();
        store.close();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(Migrations.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            store = Store.open(config(dir.resolve("fresh")));
            assertThat(log.list).extracting(e -> e.getFormattedMessage())
                    .containsExactly("store schema created at version " + latest);
            store.close();
            log.list.clear();
            // As a build of the version before left it: without the last migration.
            try (Connection c = java.sql.DriverManager.getConnection(config.url());
                    java.sql.Statement s = c.createStatement()) {
                s.execute("DROP INDEX jobs_run_idx");
                s.execute("DELETE FROM schema_version WHERE version = " + latest);
            }

            store = Store.open(config);

            assertThat(log.list).extracting(e -> e.getFormattedMessage()).containsExactly("store schema upgraded from"
                    + " version " + (latest - 1) + " to " + latest + " (V" + latest + " jobs_run_index); a buildhook"
                    + " older than this one cannot open it any more");
            store.close();
            log.list.clear();
            store = Store.open(config);
            assertThat(log.list).isEmpty();
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void theStatusPagesCountsReadIndexRangesNotTheWholeHistory() throws SQLException {
        assertThat(plan(StoreReader.DELIVERIES_SINCE, "ACCEPTED", "0"))
                .contains("SEARCH deliveries USING COVERING INDEX deliveries_outcome_idx (outcome=? AND id>?)");
        assertThat(plan(StoreReader.JOBS_SINCE, "QUEUED", "0"))
                .contains("SEARCH jobs USING COVERING INDEX jobs_state_idx (state=? AND id>?)");
        assertThat(plan(StoreReader.RULE_JOBS, "r", 30)).contains("USING INDEX jobs_rule_idx (rule_name=?)")
                .doesNotContain("SCAN jobs").doesNotContain("TEMP B-TREE");
    }
}
