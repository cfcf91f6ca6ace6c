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
import java.util.Map;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jobs --run NAME}: the jobs of one run of a build, newest first, a page at a time, read from the run index
 * (V22) rather than the whole jobs table backwards (surface48: with {@code --run} alone, a run name no job has read
 * every job kept), also on a store upgraded from version 21. On SQLite and PostgreSQL by the subclasses.
 */
abstract class AbstractJobsOfARunTest {

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
    void listsTheJobsOfOneRunNewestFirstAPageAtATime() {
        List<String> armhf = deliverRuns();

        assertThat(allPages("build-armhf", 2)).containsExactlyElementsOf(newestFirst(armhf));
        assertThat(allPages("build-aarch64", 500)).hasSize(4);
        assertThat(allPages("build-riscv", 500)).isEmpty();
    }

    @Test
    void theListOfARunReadsTheRunIndex() throws SQLException {
        deliverRuns();

        assertThat(plan(query("build-armhf", null, 50))).contains("jobs_run_idx");
        assertThat(plan(query("no-such-run", "01ZZZZZZZZZZZZZZZZZZZZZZZZ", 50))).contains("jobs_run_idx");
    }

    @Test
    void anUpgradeFromVersion21AddsTheRunIndexAndTheListAnswersAsBefore() throws Exception {
        List<String> armhf = deliverRuns();
        // As a build of version 21 left the store: without the index or V22's row.
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP INDEX jobs_run_idx");
            s.execute("DELETE FROM schema_version WHERE version >= 22");
        }
        assertThat(plan(query("build-armhf", null, 50))).doesNotContain("jobs_run_idx");
        store.close();

        store = Store.open(config);

        assertThat(version()).isEqualTo(AbstractStoreTest.knownMigrations());
        assertThat(plan(query("build-armhf", null, 50))).contains("jobs_run_idx");
        assertThat(allPages("build-armhf", 2)).containsExactlyElementsOf(newestFirst(armhf));
        store.close();
        // Opened again: nothing applied twice.
        store = Store.open(config);
        assertThat(version()).isEqualTo(AbstractStoreTest.knownMigrations());
    }

    /**
     * Ten deliveries of a {@code runs: {match: each}} rule's jobs, one for {@code build-armhf}, one for {@code
     * build-aarch64} on four of them, and a job of a rule without runs in each; returns armhf's job ids,
     * oldest first.
     */
    private List<String> deliverRuns() {
        List<String> armhf = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            List<PlannedJob> jobs = new ArrayList<>();
            jobs.add(run("build-armhf"));
            if (i % 2 == 0 && i < 8) {
                jobs.add(run("build-aarch64"));
            }
            jobs.add(Plans.job("announce", List.of("/bin/true")));
            armhf.add(store.accept(Plans.delivery("default", "{\"n\": " + i + "}", Instant.now()), jobs).jobIds()
                    .get(0));
        }
        return armhf;
    }

    private static PlannedJob run(String name) {
        return new PlannedJob("lab-test", "name: lab-test", List.of("/bin/true"), Map.of(), null, false,
                Duration.ofSeconds(30), 0, Duration.ofMillis(100), 0, name);
    }

    private static List<String> newestFirst(List<String> ids) {
        List<String> reversed = new ArrayList<>(ids);
        java.util.Collections.reverse(reversed);
        return reversed;
    }

    private static JobQuery query(String run, String before, int limit) {
        return new JobQuery(null, null, null, before, limit, null, run);
    }

    /** Every job of run {@code run}, following the pages' cursors. */
    private List<String> allPages(String run, int limit) {
        List<String> ids = new ArrayList<>();
        String before = null;
        do {
            Page<Job> page = store.jobs(query(run, before, limit));
            page.items().forEach(j -> ids.add(j.id()));
            before = page.nextCursor();
        } while (before != null);
        return ids;
    }

    /** The plan of {@link StoreReader#jobsSql} for {@code q}, as the engine says it. */
    private String plan(JobQuery q) throws SQLException {
        List<Object> args = new ArrayList<>();
        String sql = StoreReader.jobsSql(q, args);
        boolean postgres = store.dialect() == Dialect.POSTGRESQL;
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (postgres) {
                    try (Statement s = c.createStatement()) {
                        // A table this small is read whole, or by its primary key, whatever its indexes.
                        s.execute("SET LOCAL enable_seqscan = off");
                        s.execute("ANALYZE jobs");
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
