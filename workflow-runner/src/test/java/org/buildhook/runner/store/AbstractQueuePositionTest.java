package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.kagkarlsson.scheduler.jdbc.Queries;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout50 F4: jobs due at the same moment (a delivery's jobs, a burst in one millisecond) each said {@code queued:
 * next in line}, and the ones after them the same count: {@link QueuePosition} ranked by due time alone. Each place is
 * now one job's, in the order the pick takes them, and they add up; the statement still reads along {@code
 * execution_time_idx}. On SQLite and PostgreSQL by the subclasses.
 */
abstract class AbstractQueuePositionTest {

    @TempDir
    Path dir;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private int builds;

    /** One delivery with {@code jobs} jobs, all due at its moment; their ids, in the order they were stored. */
    private List<String> delivery(int jobs) {
        String body = Plans.fixture().replace("\"build_id\": 67", "\"build_id\": " + (67 + builds++));
        List<org.buildhook.runner.PlannedJob> planned = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            planned.add(Plans.job("rule-" + i, List.of("/bin/true")));
        }
        return store.accept(Plans.delivery(body), planned).jobIds();
    }

    /** The waiting executions in the order the pick asks for them (db-scheduler's ORDER BY, read along its index). */
    private List<String> pickOrder() throws SQLException {
        List<String> order = new ArrayList<>();
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT task_instance FROM scheduled_tasks WHERE picked = ? AND execution_time <= ?"
                        + Queries.ansiSqlOrderPart(false))) {
            p.setBoolean(1, false);
            JobQueue.customization(store.dialect()).setInstant(p, 2, Instant.now());
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    order.add(rs.getString(1));
                }
            }
        }
        return order;
    }

    @Test
    void jobsDueAtTheSameMomentEachHaveAPlaceOfTheirOwnAndThePlacesAddUp() throws Exception {
        List<String> ids = new ArrayList<>(delivery(6));
        ids.addAll(delivery(1));
        ids.addAll(delivery(3));
        assertThat(due(ids.get(0))).as("one moment for a delivery's jobs").isEqualTo(due(ids.get(5)));

        Map<String, QueuePosition> positions = store.queuePositions(ids);

        assertThat(positions).hasSize(10);
        List<String> byPlace = new ArrayList<>(ids);
        byPlace.sort(Comparator.comparingInt(id -> positions.get(id).dueBefore()));
        assertThat(byPlace.stream().map(id -> positions.get(id).dueBefore()).toList())
                .as("one job next in line, each place one job's").isEqualTo(IntStream.range(0, 10).boxed().toList());
        assertThat(positions.values().stream().filter(p -> p.text().startsWith("queued: next in line"))).hasSize(1);
        assertThat(store.queuePositions(ids)).as("the same when asked again").isEqualTo(positions);
        assertThat(store.queuePositions(List.of(ids.get(9), ids.get(3)))).as("a page of them alike")
                .isEqualTo(Map.of(ids.get(9), positions.get(ids.get(9)), ids.get(3), positions.get(ids.get(3))));
        if (store.dialect() == Dialect.SQLITE) {
            // The pick reads ties in the index's order, the rowid's: so does the window. A row stored again (a higher
            // rowid) is taken after the others of its moment, whatever its id.
            reinsert(ids.get(0));
            Map<String, QueuePosition> now = store.queuePositions(ids);
            List<String> picked = pickOrder();
            assertThat(picked.get(0)).isNotEqualTo(ids.get(0));
            for (String id : ids) {
                assertThat(now.get(id).dueBefore()).as("%s's place as the pick takes it", id)
                        .isEqualTo(picked.indexOf(id));
            }
        }
    }

    /** The statement reads the waiting executions along execution_time_idx, as before: no sort of the whole queue. */
    @Test
    void thePlacesAreReadAlongTheDueTimesIndex() throws Exception {
        boolean postgres = store.dialect() == Dialect.POSTGRESQL;
        String id = delivery(1).get(0);
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            // 20,000 waiting executions, a thousand moments of 20 ties, as a burst leaves them.
            s.executeUpdate(postgres
                    ? "INSERT INTO scheduled_tasks (task_name, task_instance, execution_time, picked, version) SELECT '"
                            + JobQueue.TASK_NAME + "', 'filler-' || i, now() - interval '1 hour' + (i / 20) * interval"
                            + " '1 millisecond', false, 1 FROM generate_series(1, 20000) i"
                    : "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO"
                            + " scheduled_tasks (task_name, task_instance, execution_time, picked, version) SELECT '"
                            + JobQueue.TASK_NAME + "', 'filler-' || i, " + (Instant.now().toEpochMilli() - 3_600_000)
                            + " + i / 20, 0, 1 FROM n");
            s.execute(postgres ? "ANALYZE scheduled_tasks" : "ANALYZE");
        }
        String plan = plan(QueuePosition.statement(store.dialect(), 1), id);

        assertThat(plan).contains("execution_time_idx");
        if (postgres) {
            assertThat(plan).as("ties sorted within their moment only").contains("Incremental Sort")
                    .doesNotContainPattern("->\\s*Sort\\s+\\(").doesNotContain("Seq Scan on scheduled_tasks");
        } else {
            assertThat(plan).doesNotContain("TEMP B-TREE").doesNotContain("SCAN scheduled_tasks");
        }
        assertThat(store.queuePositions(List.of(id)).get(id).dueBefore()).isEqualTo(20_000);
    }

    /** EXPLAIN (QUERY PLAN) of QueuePosition's statement for the one job {@code id}. */
    private String plan(String sql, String id) throws SQLException {
        boolean postgres = store.dialect() == Dialect.POSTGRESQL;
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                (postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql)) {
            int i = 0;
            p.setString(++i, JobQueue.TASK_NAME);
            p.setBoolean(++i, false);
            JobQueue.customization(store.dialect()).setInstant(p, ++i, Instant.now());
            p.setString(++i, JobQueue.TASK_NAME);
            p.setBoolean(++i, false);
            p.setString(++i, id);
            p.setString(++i, id);
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(postgres ? 1 : 4)).append('\n');
                }
            }
            return plan.toString();
        }
    }

    private Instant due(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT execution_time FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return JobQueue.customization(store.dialect()).getInstant(rs, "execution_time");
            }
        }
    }

    /** Stores {@code jobId}'s execution again, as it was, in a new row (SQLite: a higher rowid). */
    private void reinsert(String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("CREATE TEMP TABLE moved AS SELECT * FROM scheduled_tasks WHERE task_instance = '"
                        + jobId + "'");
                s.executeUpdate("DELETE FROM scheduled_tasks WHERE task_instance = '" + jobId + "'");
                s.executeUpdate("INSERT INTO scheduled_tasks SELECT * FROM moved");
                s.executeUpdate("DROP TABLE moved");
            }
            c.commit();
        }
    }
}
