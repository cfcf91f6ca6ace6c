package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /metrics} of a real {@code buildhook serve} while its store does not answer (tryout32 F3, F5). On
 * PostgreSQL the database hangs: a {@code TcpProxy} that stops forwarding (the shared server is never touched), with
 * {@code store.connect-timeout} 2 minutes. Before, each scrape read five gauges from the store and waited with each:
 * the scrape outlasted Prometheus's 10 s timeout (25 s with the database down, minutes here), so every series went
 * stale in the outage. Now every scrape during the hang answers (each is bounded by the client's 60 s here, a bound
 * for a hung test only, far below what a scrape that waited with the store takes), says {@code buildhook_store_up 0},
 * the store's gauges {@code NaN}, and counts the job whose command ended meanwhile in {@code
 * buildhook_jobs_awaiting_record}, not in {@code buildhook_jobs_running} (before, it was in neither). On SQLite another
 * program holds the file's write lock: the job's end waits the same, counted the same. Needs {@code
 * BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI where it fails.
 */
class MetricsWithStoreAwayTest extends AbstractProxiedServeTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    MetricsWithStoreAwayTest() {
        super("metrics_");
    }

    @Test
    void onAPostgresqlThatHangsEveryScrapeAnswersSaysTheStoreIsAwayAndCountsTheEndWaitingToBeRecorded()
            throws Exception {
        Path runs = deployRule();
        URI base = serve("store: {url: '" + pg.storeUrlGenerousLogins + "', connect-timeout: 2m}");
        ServeProcesses.sendSample(base, dir);
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(runs)); // the command runs
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            String m = scrape(base);
            return has(m, "buildhook_store_up", 1.0) && has(m, "buildhook_jobs_running", 1.0);
        });

        pg.proxy.freeze(); // held until the end of the test's asserts: every scrape below is made while it hangs
        Files.writeString(dir.resolve("go"), "go\n"); // the command exits; its end cannot be recorded

        await().atMost(Duration.ofMinutes(2)).until(() -> {
            String m = scrape(base);
            return has(m, "buildhook_store_up", 0.0) && has(m, "buildhook_jobs_awaiting_record", 1.0);
        });
        String away = scrape(base);
        assertThat(value(away, "buildhook_jobs_queued")).as(away).isNaN();
        assertThat(value(away, "buildhook_jobs_retry_waiting")).as(away).isNaN();
        assertThat(value(away, "buildhook_jobs_awaiting_approval")).as(away).isNaN();
        assertThat(value(away, "buildhook_jobs_waiting")).as(away).isNaN();
        assertThat(value(away, "buildhook_cluster_nodes{state=\"running\"}")).as(away).isNaN();
        assertThat(value(away, "buildhook_jobs_running")).as("its command has ended: %s", away).isZero();
        assertThat(value(away, "buildhook_jobs_awaiting_record")).as(away).isEqualTo(1.0);
        assertThat(value(away, "buildhook_store_snapshot_age_seconds")).as(away).isGreaterThan(10.0);
        assertThat(value(away, "buildhook_deliveries_total{endpoint=\"default\",outcome=\"accepted\"}")).as(away)
                .isEqualTo(1.0);

        pg.proxy.thaw();
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            String m = scrape(base);
            return has(m, "buildhook_store_up", 1.0) && has(m, "buildhook_jobs_awaiting_record", 0.0);
        });
        String back = scrape(base);
        assertThat(value(back, "buildhook_jobs_queued")).as(back).isZero();
        assertThat(value(back, "buildhook_cluster_nodes{state=\"running\"}")).as(back).isEqualTo(1.0);
        assertThat(value(back, "buildhook_job_attempts_total{outcome=\"succeeded\",rule=\"deploy\"}")).as(back)
                .isEqualTo(1.0);
    }

    @Test
    void onSqliteWhoseWriteLockAnotherProgramHoldsTheEndWaitingToBeRecordedIsCountedNotRunning() throws Exception {
        Path runs = deployRule();
        String db = "jdbc:sqlite:" + dir.resolve("data").resolve("buildhook.db").toAbsolutePath();
        try (SqliteLockHeld lock = new SqliteLockHeld(db)) {
            URI base = serve("store: {}");
            ServeProcesses.sendSample(base, dir);
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(runs));
            await().atMost(Duration.ofMinutes(1)).until(() -> has(scrape(base), "buildhook_jobs_running", 1.0));

            lock.start();
            Files.writeString(dir.resolve("go"), "go\n");

            await().atMost(Duration.ofMinutes(2)).until(() -> {
                String m = scrape(base);
                return has(m, "buildhook_jobs_awaiting_record", 1.0) && has(m, "buildhook_jobs_running", 0.0);
            });
            lock.end();
            await().atMost(Duration.ofMinutes(2)).until(() -> {
                String m = scrape(base);
                // The series exists at 0 from the start (tryout58 F2): the attempt's end is its 1.
                return has(m, "buildhook_jobs_awaiting_record", 0.0)
                        && has(m, "buildhook_job_attempts_total{outcome=\"succeeded\",rule=\"deploy\"}", 1.0);
            });
            assertThat(value(scrape(base), "buildhook_store_up")).isEqualTo(1.0);
        }
    }

    /** A rule {@code deploy} whose command says it runs, in {@code runs}, then exits 0 once {@code dir/go} exists. */
    private Path deployRule() throws java.io.IOException {
        Path runs = dir.resolve("runs");
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-metrics-test\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: deploy\n    run: {command: [/bin/sh, -c,"
                + " 'echo ran >> \"" + runs + "\"; while [ ! -e \"" + dir.resolve("go") + "\" ]; do sleep 0.1; done;"
                + " exit 0']}\n");
        return runs;
    }

    /** Starts a server with {@code store} as its {@code store:} line; its base URL. */
    private URI serve(String store) throws java.io.IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                store,
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "runner: {node-id: metrics-node}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        return ServeProcesses.awaitUrl(server, dir.resolve("data"));
    }

    /**
     * One {@code GET /metrics}, answered 200 within 60 s: a bound for a hung test only; a scrape that waits with the
     * store (2 minutes per gauge on the hung PostgreSQL) fails the test with its timeout.
     */
    private static String scrape(URI base) throws Exception {
        HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(base.resolve("metrics"))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return answer.body();
    }

    /** Whether the scrape has the series with the value. */
    private static boolean has(String scrape, String series, double expected) {
        Double v = value(scrape, series);
        return v != null && v == expected;
    }

    /** The value of one series in a scrape, or null when the series is not there. */
    private static Double value(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
        return m.find() ? Double.valueOf(m.group(1)) : null;
    }
}
