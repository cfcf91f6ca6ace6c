package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * A standalone server stopped (SIGTERM) while a job runs past {@code runner.shutdown-grace} and its database no
 * longer answers — on PostgreSQL a {@code TcpProxy} that stops forwarding (the shared server is never touched), on
 * SQLite another program holding the file's write lock — then started again once the database answers: what each side says of the job cut short (tryout20 F2). Before, the stop
 * said nothing of that job (no "was still running when the stop's grace period … ended" line), db-scheduler logged
 * an ERROR "Failed while completing execution" with a whole stack trace, and the next start said the node had
 * "died before the attempt ended", as after a kill -9. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it,
 * except on CI where it fails.
 */
class StopCutShortWithStoreHungTest extends AbstractProxiedServeTest {

    StopCutShortWithStoreHungTest() {
        super("hungcut_");
    }

    /** What makes the store hang through the stop (it answers nothing, refuses nothing), and what ends that. */
    @Test
    void onPostgresqlTheJobCutShortByAStopWhoseStoreHangsIsNamedAndTheNextStartSaysTheNodeStoppedNotDied()
            throws Exception {
        // Logins bounded by a minute (the URL's), not store.connect-timeout's 5 s: both starts are a cold JVM's first
        // login (flake26); the stop's bounds, what is checked, come from the key and are unchanged.
        cutShortWhileTheStoreHangs("store: {url: '" + pg.storeUrlGenerousLogins + "'}", pg.url + "&currentSchema=" + pg.schema,
                new StoreOutage() {
            @Override
            public void start() {
                pg.proxy.freeze();
            }

            @Override
            public void end() {
                pg.proxy.thaw();
            }
        });
    }

    /** On SQLite the store hangs when another program (an sqlite3 shell in a transaction) holds its write lock. */
    @Test
    void onSqliteTheJobCutShortByAStopWhileAnotherProgramHoldsTheLockIsNamedAndTheNextStartSaysTheNodeStopped()
            throws Exception {
        String db = "jdbc:sqlite:" + dir.resolve("data").resolve("buildhook.db").toAbsolutePath();
        try (SqliteLockHeld lock = new SqliteLockHeld(db)) {
            cutShortWhileTheStoreHangs("store: {}", db, lock);
        }
    }

    /** @param look a JDBC URL of the store for the test's own look at the attempt's record */
    private void cutShortWhileTheStoreHangs(String store, String look, StoreOutage hang) throws Exception {
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-hung-cut-test\n");
        Files.writeString(dir.resolve("rules.yaml"),
                "rules:\n  - name: slow\n    run: {command: [/bin/sleep, '600']}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                store,
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "runner: {node-id: hung-cut-node, shutdown-grace: 1s, kill-grace: 1s}",
                "server: {host: 127.0.0.1, port: 0, stop-timeout: 2s}",
                ""));
        processes = new ServeProcesses(dir);
        Path out = dir.resolve("serve.out");
        Process server = processes.serve(config, out);
        String job = ServeProcesses.sendSample(ServeProcesses.awaitUrl(server, dir.resolve("data")), dir);
        await().atMost(Duration.ofMinutes(1)).until(() -> server.toHandle().descendants()
                .anyMatch(p -> p.info().command().orElse("").endsWith("sleep"))); // the job runs

        hang.start();
        server.destroy(); // SIGTERM, as systemd's stop
        assertThat(server.waitFor(5, TimeUnit.MINUTES)).as("the stop ended: %s", read(out)).isTrue();
        String stop = read(out);
        assertThat(server.exitValue()).as(stop).isEqualTo(143);
        java.time.Instant stopped = java.time.Instant.now();

        // Each of 1-3 is said on its own when it fails (tryout20 F2 saw all three).
        SoftAssertions soft = new SoftAssertions();
        // 1. The job cut short is named, with what is known of its fate: its end could not be recorded.
        soft.assertThat(stop).as("1. the job cut short is named: %s", stop).containsPattern("WARN .*job " + job
                + " of rule 'slow' \\(build [^)]*\\): attempt 1 was still running when the stop's grace period"
                + " \\(runner.shutdown-grace, 1s\\) ended: its process tree was killed; its end could not be recorded"
                + " \\(the store could not be reached\\)[^\\n]*runs again after the next start, or on another node");
        // 2. No library's stack trace at WARN or ERROR for the store that could not be reached during the stop:
        // db-scheduler's "Failed while completing execution" (an ERROR with a whole stack trace) before.
        soft.assertThat(stop).as("2. no ERROR of db-scheduler: %s", stop)
                .doesNotContain("Failed while completing execution")
                .doesNotContain("Unhandled exception during execution");
        soft.assertThat(stop).as("2. no stack trace: %s", stop).doesNotContainPattern("\n\\s+at [a-z]+\\.[\\w.$]+\\(");

        // 3. Started again once the database answers: the node knows from its data folder that it was stopped, not
        // killed, and says so of the attempt it could not record; the job runs again.
        hang.end();
        Path again = dir.resolve("serve-again.out");
        Process restarted = processes.serve(config, again);
        ServeProcesses.awaitUrl(restarted, dir.resolve("data"));
        // The sweep and the release of the start come before the engine's start line.
        await().atMost(Duration.ofMinutes(2)).failFast(() -> !restarted.isAlive())
                .until(() -> read(again).contains("job engine started on node hung-cut-node"));
        String start = read(again);
        soft.assertThat(start).as("3. the next start says the node stopped: %s", start)
                .contains("job " + job + " attempt 1: its node hung-cut-node was stopped before the attempt ended, and"
                        + " the stop could not record its end (the store could not be reached)")
                .containsPattern("job " + job + ": its node hung-cut-node \\(pid \\d+ on this host\\) was stopped before"
                        + " it could record the job's end; the job is put back in the queue now")
                .doesNotContain("died before the attempt ended").doesNotContain("was gone before")
                .doesNotContain("is dead and what it left was killed");
        // ... and does not count it as a death (node_died, runner.deaths-in-a-row): three such stops in a row
        // would otherwise end the job FAILED as a job whose command ends its node. It is a stop (node_died 0,
        // runner.stops-in-a-row: review21 R2).
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(look);
                java.sql.PreparedStatement p = c.prepareStatement("SELECT outcome, node_died, ended_at FROM"
                        + " job_attempts WHERE job_id = ? AND attempt = 1")) {
            p.setString(1, job);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                soft.assertThat(rs.getString(1)).as("3. the attempt's outcome").isEqualTo("INTERRUPTED");
                soft.assertThat(rs.getObject(2)).as("3. counted as its node's stop, not its death").hasToString("0");
                // ... and ended when the stop killed its process tree, not when the next start came (tryout22 F5).
                soft.assertThat(java.time.Instant.ofEpochMilli(rs.getLong(3))).as("3. the attempt's end")
                        .isBefore(stopped);
            }
        }
        soft.assertAll();
        await().atMost(Duration.ofMinutes(2)).failFast(() -> !restarted.isAlive())
                .until(() -> restarted.toHandle().descendants()
                        .anyMatch(p -> p.info().command().orElse("").endsWith("sleep"))); // run again
    }

    private static String read(Path out) throws java.io.IOException {
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
