package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.NodeIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read of the attempts given back unswept ({@link ExecutionLedger#givenBackUnswept}, at each take of a job that
 * needs shared resources, once under the resources' locks) goes through the partial index of V18, which holds only
 * those attempts, instead of every interrupted attempt of the host's boot (index32, review31 L6). On SQLite and
 * PostgreSQL by the subclasses.
 */
abstract class AbstractGivenBackIndexTest {

    /** Interrupted attempts of this host boot that were not given back: what the read went through before V18. */
    private static final int OTHER_INTERRUPTED = 3_000;

    @TempDir
    Path dir;
    StoreConfig config;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        config = config(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        store = Store.open(config);
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void theGivenBackReadSearchesItsPartialIndexNotEveryInterruptedAttemptOfTheBoot() throws SQLException {
        String boot = NodeIdentity.current().bootId();
        String jobId = store.accept(Plans.delivery("{\"build_id\": 1}"), List.of(Plans.job("solo",
                List.of("/bin/true"), Map.of(), 0, Duration.ZERO, 1))).jobIds().get(0);
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO job_attempts (job_id, attempt, outcome,"
                    + " started_at, ended_at, node, message, boot_id, node_pid, node_started, node_died)"
                    + " VALUES (?, ?, 'INTERRUPTED', 1, 2, 'n1', ?, ?, 1, 1, 1)")) {
                for (int i = 0; i <= OTHER_INTERRUPTED; i++) {
                    p.setString(1, jobId);
                    p.setInt(2, i + 10);
                    // The last one given back, as ResourceLedger writes it; the others each another interruption.
                    p.setString(3, i == OTHER_INTERRUPTED
                            ? ExecutionLedger.UNSWEPT_END + "n2" + ExecutionLedger.GIVEN_BACK
                            : ExecutionLedger.UNSWEPT_END + "n2; node n2 killed what it left: pid 1 (sleep)");
                    p.setString(4, boot);
                    p.addBatch();
                }
                p.executeBatch();
            }
            c.commit();
        }

        String plan = plan(ExecutionLedger.GIVEN_BACK_UNSWEPT_SQL, boot);

        assertThat(plan).as("the plan of givenBackUnswept's read").contains("job_attempts_given_back_idx")
                .doesNotContain("job_attempts_outcome_idx");
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT a.attempt FROM job_attempts a WHERE " + ExecutionLedger.GIVEN_BACK_UNSWEPT_WHERE
                        + " AND a.boot_id = ?")) {
            p.setString(1, boot);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).as("the attempt given back is found").isTrue();
                assertThat(rs.getInt(1)).isEqualTo(OTHER_INTERRUPTED + 10);
                assertThat(rs.next()).as("and only it").isFalse();
            }
        }
    }

    /** The index's WHERE in V18 is the query's, word for word: any other and neither planner would use it. */
    @Test
    void theMigrationsIndexHasTheQuerysWhere() throws IOException {
        String where = ExecutionLedger.GIVEN_BACK_UNSWEPT_WHERE.replace("a.", "");
        for (String folder : List.of("sqlite", "postgresql")) {
            try (InputStream in = Migrations.class.getResourceAsStream("migrations/" + folder
                    + "/V18__given_back_index.sql")) {
                assertThat(in).as(folder).isNotNull();
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).as(folder)
                        .contains("ON job_attempts (boot_id, outcome) WHERE " + where + ";");
            }
        }
    }

    /** EXPLAIN (QUERY PLAN) of {@code sql} with its one parameter. */
    private String plan(String sql, String parameter) throws SQLException {
        boolean postgres = store.dialect() == Dialect.POSTGRESQL;
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (postgres) {
                    try (Statement s = c.createStatement()) {
                        s.execute("ANALYZE job_attempts");
                        s.execute("ANALYZE jobs");
                    }
                }
                try (PreparedStatement p = c.prepareStatement((postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql)) {
                    p.setString(1, parameter);
                    StringBuilder plan = new StringBuilder();
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            plan.append(rs.getString(postgres ? 1 : 4)).append('\n');
                        }
                    }
                    return plan.toString();
                }
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        }
    }
}
