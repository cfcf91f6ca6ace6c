package org.buildhook.benchmarks;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;

/**
 * Deliveries accepted per second (delivery + one job + its db-scheduler execution, one
 * transaction each, committed) with 1, 2, 4 and 16 concurrent writers. Not JMH: the unit of work is
 * a durable commit, measured over whole seconds on a fresh database.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.StoreAcceptBenchmark \
 *     sqlite|jdbc:postgresql://… [seconds=10] [fixture=fixtures/build-67-passed.json]
 * </pre>
 */
public final class StoreAcceptBenchmark {

    private StoreAcceptBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String target = args.length > 0 ? args[0] : "sqlite";
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        byte[] fixture = Files.readAllBytes(Path.of(args.length > 2 ? args[2] : "fixtures/build-67-passed.json"));
        System.out.printf("engine=%s body=%d bytes, %d s per run%n", target.startsWith("jdbc:") ? "postgresql"
                : "sqlite", fixture.length, seconds);
        for (int writers : new int[] {1, 2, 4, 16}) {
            Path data = Files.createTempDirectory("buildhook-bench");
            StoreConfig config = target.startsWith("jdbc:") ? StoreConfig.of(freshSchema(target, writers), data)
                    : StoreConfig.sqlite(data);
            try (Store store = Store.open(config.withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO))) {
                run(store, fixture, writers, 2); // warm-up
                long processBefore = processCpuNanos();
                long writerBefore = writerCpuNanos();
                long[] count = new long[1];
                double rate = run(store, fixture, writers, seconds, count);
                // CPU per accept moves far less than the rate with the machine's other load.
                System.out.printf(java.util.Locale.ROOT, "writers=%d accepted/s=%.0f process_cpu_us_per_accept=%.1f"
                        + " writer_thread_cpu_us_per_accept=%.1f%n", writers, rate,
                        (processCpuNanos() - processBefore) / 1e3 / count[0],
                        (writerCpuNanos() - writerBefore) / 1e3 / count[0]);
            }
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** CPU time of the SQLite writer thread ({@code buildhook-store-writer}); 0 on PostgreSQL. */
    private static long writerCpuNanos() {
        java.lang.management.ThreadMXBean bean = java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("buildhook-store-writer")) {
                total += Math.max(0, bean.getThreadCpuTime(t.getId()));
            }
        }
        return total;
    }

    private static double run(Store store, byte[] fixture, int writers, int seconds) throws InterruptedException {
        return run(store, fixture, writers, seconds, new long[1]);
    }

    private static double run(Store store, byte[] fixture, int writers, int seconds, long[] count)
            throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong accepted = new AtomicLong();
        AtomicLong serial = new AtomicLong(System.nanoTime());
        PlannedJob job = new PlannedJob("deploy", "name: deploy", List.of("/opt/scripts/deploy.sh", "67"),
                Map.of("TARGET", "staging"), null, true, Duration.ofMinutes(10), 2, Duration.ofSeconds(10), 0, null);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            Thread t = new Thread(() -> {
                while (!stop.get()) {
                    byte[] suffix = ("\n" + serial.incrementAndGet()).getBytes(StandardCharsets.UTF_8);
                    byte[] body = new byte[fixture.length + suffix.length];
                    System.arraycopy(fixture, 0, body, 0, fixture.length);
                    System.arraycopy(suffix, 0, body, fixture.length, suffix.length);
                    store.accept(new NewDelivery("default", Instant.now(), "127.0.0.1",
                            Map.of("Content-Type", "application/json"), body), List.of(job));
                    accepted.incrementAndGet();
                }
            });
            threads.add(t);
        }
        long start = System.nanoTime();
        threads.forEach(Thread::start);
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        count[0] = accepted.get();
        return accepted.get() / ((System.nanoTime() - start) / 1e9);
    }

    private static String freshSchema(String url, int writers) throws Exception {
        String schema = "bench_" + writers + "_" + System.currentTimeMillis();
        // Loaded by name: the merged benchmarks jar keeps only one java.sql.Driver service file.
        Class.forName("org.postgresql.Driver");
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }
}
