package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deliveries --build N}: the deliveries of one build, newest first, a page at a time, read from
 * the build index (V14) rather than the whole table, also on a store upgraded from version 13. On
 * SQLite and PostgreSQL by the subclasses.
 */
abstract class AbstractDeliveriesOfABuildTest {

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
    void listsTheDeliveriesOfOneBuildNewestFirstAPageAtATime() {
        List<String> build67 = deliverBuilds();

        assertThat(allPages(query(67L, null, 2))).containsExactlyElementsOf(newestFirst(build67));
        assertThat(allPages(query(68L, null, 500))).hasSize(2);
        assertThat(allPages(query(70L, null, 500))).isEmpty();
        // With another filter too: build 67's deliveries of one project.
        assertThat(allPages(new DeliveryQuery(null, null, "andy-corp/other", null, null, null, null, 500, 67L)))
                .containsExactly(build67.get(3));
    }

    @Test
    void theListOfABuildReadsARangeOfTheBuildIndex() throws SQLException {
        deliverBuilds();
        List<Object> args = new ArrayList<>();
        String sql = StoreReader.deliveriesSql(query(67L, "01ZZZZZZZZZZZZZZZZZZZZZZZZ", 50), args);

        assertThat(plan(sql, args)).contains("deliveries_build_idx");
    }

    @Test
    void anUpgradeFromVersion13AddsTheBuildIndexAndTheListAnswersAsBefore() throws SQLException, java.io.IOException {
        List<String> build67 = deliverBuilds();
        // As a build of version 13 left the store: without the index or V14's row, nor what V15 to V22 added.
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP INDEX deliveries_build_idx");
            for (String column : List.of("rules_fingerprint", "rules_loaded_at", "rules_instance")) {
                s.execute("ALTER TABLE node_leases DROP COLUMN " + column);
            }
            s.execute("ALTER TABLE job_attempts DROP COLUMN node_died");
            s.execute("ALTER TABLE resource_holds DROP COLUMN unit_numbers");
            s.execute("DROP INDEX job_attempts_given_back_idx");
            s.execute("ALTER TABLE node_leases DROP COLUMN acquired_host_at");
            s.execute("ALTER TABLE node_leases DROP COLUMN acquired_host_instance");
            s.execute("ALTER TABLE job_attempts DROP COLUMN unit_numbers");
            s.execute("ALTER TABLE node_leases DROP COLUMN data_dir");
            s.execute("DROP INDEX jobs_run_idx");
            s.execute("DELETE FROM schema_version WHERE version >= 14");
        }
        store.close();

        store = Store.open(config);

        assertThat(version()).isEqualTo(AbstractStoreTest.knownMigrations());
        assertThat(plan(StoreReader.deliveriesSql(query(67L, null, 50), new ArrayList<>()), List.of(67L)))
                .contains("deliveries_build_idx");
        assertThat(allPages(query(67L, null, 2))).containsExactlyElementsOf(newestFirst(build67));
        store.close();
        // Opened again: nothing applied twice.
        store = Store.open(config);
        assertThat(version()).isEqualTo(AbstractStoreTest.knownMigrations());
    }

    /**
     * Builds 67 (five deliveries, one of another project) and 68 (two), and three deliveries with no
     * build number; returns 67's ids, oldest first.
     */
    private List<String> deliverBuilds() {
        List<String> build67 = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            long build = i % 2 == 0 ? 67L : i < 5 ? 68L : -1;
            String project = i == 6 ? "andy-corp/other" : "andy-corp/lmp";
            DeliverySummary summary = build < 0 ? DeliverySummary.NONE
                    : new DeliverySummary(build, "PASSED", project, "andy-corp", "containers-devel");
            String id = store.accept(Plans.delivery("default", "{\"n\": " + i + "}", Instant.now()), summary, List.of())
                    .deliveryId();
            if (build == 67L) {
                build67.add(id);
            }
        }
        assertThat(build67).hasSize(5);
        return build67;
    }

    private static List<String> newestFirst(List<String> ids) {
        List<String> reversed = new ArrayList<>(ids);
        java.util.Collections.reverse(reversed);
        return reversed;
    }

    private static DeliveryQuery query(Long build, String before, int limit) {
        return new DeliveryQuery(null, null, null, null, null, null, before, limit, build);
    }

    /** Every delivery {@code q} matches, following the pages' cursors. */
    private List<String> allPages(DeliveryQuery q) {
        List<String> ids = new ArrayList<>();
        String before = null;
        do {
            Page<Delivery> page = store.deliveries(new DeliveryQuery(q.outcome(), q.endpoint(), q.project(), q.trigger(),
                    q.from(), q.to(), before, q.limit(), q.buildId()));
            page.items().forEach(d -> ids.add(d.id()));
            before = page.nextCursor();
        } while (before != null);
        return ids;
    }

    private String plan(String sql, List<Object> args) throws SQLException {
        boolean postgres = store.dialect() == Dialect.POSTGRESQL;
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (postgres) {
                    try (Statement s = c.createStatement()) {
                        // A table this small is read whole, or by its primary key, whatever its indexes.
                        s.execute("SET LOCAL enable_seqscan = off");
                        s.execute("ANALYZE deliveries");
                    }
                }
                try (PreparedStatement p = c.prepareStatement((postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql)) {
                    for (int i = 0; i < args.size(); i++) {
                        p.setObject(i + 1, args.get(i));
                    }
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

    private int version() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
