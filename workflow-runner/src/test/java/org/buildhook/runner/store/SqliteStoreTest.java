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
