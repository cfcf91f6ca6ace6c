package org.buildhook.benchmarks;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;

/**
 * The read of the attempts given back unswept ({@code ExecutionLedger.givenBackUnswept}, twice per take of a job
 * that needs shared resources) against N interrupted attempts of this host boot that were not given back, N = 0,
 * 1,000, 10,000, 100,000: "after" is the read as it is (the partial index of V18); "before" is the read as it was
 * before V18 (the same query with its values as parameters, which no planner can match to a partial index) with the
 * index dropped, on the same rows in the same run; then the index is built again by V18's statement, timed. 41 reads
 * each, median and p10–p90 in ms. Not JMH: the unit is one read of a database.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.GivenBackScanBenchmark sqlite|jdbc:postgresql://…
 * </pre>
 */
public final class GivenBackScanBenchmark {

    /** The read before V18, word for word. */
    private static final String BEFORE = "SELECT a.job_id, a.attempt, a.node, a.boot_id, a.node_pid, a.node_started,"
            + " a.pid, a.session_id, a.process_started, j.resources FROM job_attempts a JOIN jobs j ON j.id = a.job_id"
            + " WHERE a.outcome = ? AND a.boot_id = ? AND a.message LIKE ?";
    private static final String GIVEN_BACK = "its node stopped heart-beating before the attempt's end was recorded;"
            + " run again on %, once its units are free";
    private static final int READS = 41;

    private GivenBackScanBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String target = args.length > 0 ? args[0] : "sqlite";
        boolean postgres = target.startsWith("jdbc:");
        Path data = Files.createTempDirectory("buildhook-bench");
        StoreConfig config = postgres ? StoreConfig.of(freshSchema(target), data) : StoreConfig.sqlite(data);
        String index = resource("/org/buildhook/runner/store/migrations/" + (postgres ? "postgresql" : "sqlite")
                + "/V18__given_back_index.sql");
        try (Store store = Store.open(config.withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO))) {
            PlannedJob job = new PlannedJob("deploy", "name: deploy", List.of("/bin/true"), Map.of(), null, true,
                    Duration.ofMinutes(10), 0, Duration.ZERO, 0, null);
            String jobId = store.accept(new NewDelivery("default", Instant.now(), "127.0.0.1",
                    Map.of("Content-Type", "application/json"), "{\"build_id\": 1}".getBytes(StandardCharsets.UTF_8)),
                    List.of(job)).jobIds().get(0);
            String boot = NodeIdentity.current().bootId();
            System.out.printf("engine=%s boot=%s reads=%d%n", postgres ? "postgresql" : "sqlite", boot, READS);
            int have = 0;
            for (int n : new int[] {0, 1_000, 10_000, 100_000}) {
                insert(store, jobId, boot, have, n);
                have = n;
                analyze(store, postgres);
                double[] after = time(() -> store.ledger().givenBackUnswept(boot, Set.of("board")));
                exec(store, "DROP INDEX job_attempts_given_back_idx");
                analyze(store, postgres);
                double[] before = time(() -> before(store, boot));
                long start = System.nanoTime();
                exec(store, index);
                double build = (System.nanoTime() - start) / 1e6;
                System.out.printf(java.util.Locale.ROOT, "n=%d after_ms median=%.2f p10=%.2f p90=%.2f"
                        + " before_ms median=%.2f p10=%.2f p90=%.2f ratio_before_after=%.0f create_index_ms=%.0f%n",
                        n, after[0], after[1], after[2], before[0], before[1], before[2], before[0] / after[0], build);
            }
        }
    }

    private static void insert(Store store, String jobId, String boot, int from, int to) throws Exception {
        try (Connection c = store.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO job_attempts (job_id, attempt, outcome,"
                    + " started_at, ended_at, node, message, boot_id, node_pid, node_started, node_died)"
                    + " VALUES (?, ?, 'INTERRUPTED', 1, 2, 'n1', ?, ?, 1, 1, 1)")) {
                for (int i = from; i < to; i++) {
                    p.setString(1, jobId);
                    p.setInt(2, i + 10);
                    p.setString(3, "its node n1 stopped heart-beating before the attempt's end was recorded;"
                            + " node n2 killed what it left: pid 1 (sleep); run again");
                    p.setString(4, boot);
                    p.addBatch();
                    if (i % 1000 == 999) {
                        p.executeBatch();
                    }
                }
                p.executeBatch();
            }
            c.commit();
        }
    }

    private static int before(Store store, String boot) throws Exception {
        int rows = 0;
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(BEFORE)) {
            p.setString(1, "INTERRUPTED");
            p.setString(2, boot);
            p.setString(3, GIVEN_BACK);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    rows++;
                }
            }
        }
        return rows;
    }

    private interface Read {
        Object read() throws Exception;
    }

    /** Median, p10, p90 of {@link #READS} reads, ms. */
    private static double[] time(Read read) throws Exception {
        long[] t = new long[READS];
        for (int k = 0; k < t.length; k++) {
            long s = System.nanoTime();
            read.read();
            t[k] = System.nanoTime() - s;
        }
        Arrays.sort(t);
        return new double[] {t[READS / 2] / 1e6, t[READS / 10] / 1e6, t[READS * 9 / 10] / 1e6};
    }

    private static void analyze(Store store, boolean postgres) throws Exception {
        if (postgres) {
            exec(store, "ANALYZE job_attempts");
        }
    }

    private static void exec(Store store, String sql) throws Exception {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String line : sql.split("\n")) {
                if (!line.startsWith("--") && !line.isBlank()) {
                    s.execute(line.strip().replaceAll(";$", ""));
                }
            }
        }
    }

    private static String resource(String name) throws Exception {
        try (InputStream in = GivenBackScanBenchmark.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String freshSchema(String url) throws Exception {
        String schema = "bench_given_back_" + System.currentTimeMillis();
        // Loaded by name: the merged benchmarks jar keeps only one java.sql.Driver service file.
        Class.forName("org.postgresql.Driver");
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }
}
