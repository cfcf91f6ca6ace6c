package org.buildhook.distribution;

import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * What a standalone server on PostgreSQL logs while its database cannot be reached (a {@code TcpProxy} between them,
 * cut) and when it can again: buildhook's own lines, one per episode, and no library's stack trace. tryout25 F7:
 * db-scheduler's {@code ERROR … RunUntilShutdown - Unhandled exception. Will keep running.} with a 30-line stack trace
 * at the polls, and HikariCP's "marked as broken" WARN with its own, where SQLite says one line of buildhook's
 * ({@code could not pick due jobs, trying again at every poll: …}). Needs {@code BUILDHOOK_TEST_PG_URL}; skipped
 * without it, except on CI where it fails.
 */
class OutageLogWithStoreDownTest extends AbstractProxiedServeTest {

    /** A line of a stack trace, as logback writes one ({@code \tat org.example.Type.method(File.java:12)}). */
    private static final Pattern STACK_LINE = Pattern.compile("\n\\s+at [a-z]+\\.[\\w.$]+\\(");

    OutageLogWithStoreDownTest() {
        super("outlog_");
    }

    @Test
    void aPostgresqlOutageIsSaidInBuildhooksOwnLinesOncePerEpisodeWithoutAStackTraceAndItsEndIsSaid()
            throws Exception {
        Path out = dir.resolve("serve.out");
        // The housekeeper's rounds (heartbeats, dead executions) at every second: they meet the outage too.
        Process server = serveQuickRule(out, "runner: {node-id: outage-log-node, heartbeat-interval: 1s}");
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        awaitLine(server, out, "job engine started on node outage-log-node");

        pg.proxy.cut();
        awaitLine(server, out, "could not pick due jobs");
        // A minute of the outage, as the server itself tells it: the filter of library lines says how many of
        // db-scheduler's housekeeping errors (one a second or so here) it left out in the last 60 s. Some ten polls
        // for due jobs (one each runner.polling-interval, 5 s, after a connection wait of 2 s) met the outage too.
        awaitLine(server, out, "more like the next line of com.github.kagkarlsson.scheduler.RunAndLogErrors");

        pg.proxy.open();
        awaitLine(server, out, "due jobs are picked again");
        // And they are: a delivery stored once the server says it is healthy again runs.
        await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive())
                .until(() -> healthz(url).statusCode() == 200);
        String job = ServeProcesses.sendSample(url, dir);
        await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive())
                .until(() -> "SUCCEEDED".equals(outcome(job)));

        String log = read(out);
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(log).as("no stack trace: %s", log).doesNotContainPattern(STACK_LINE);
        soft.assertThat(log).as("no db-scheduler error at the polls: %s", log).doesNotContain("RunUntilShutdown");
        // A WARN since 053dd3bb (chaos32 L2): a lost connection is an outage buildhook says in its own lines, not an error.
        soft.assertThat(log).as("db-scheduler's housekeeping errors: one line each: %s", log).containsPattern(
                "WARN .*RunAndLogErrors - Unhandled exception. Will keep running. \\([^\n]*the database cannot be"
                        + " reached[^\n]*; stack trace at DEBUG\\)");
        soft.assertThat(log).as("not an ERROR any more: %s", log).doesNotContainPattern("ERROR .*RunAndLogErrors");
        soft.assertThat(count(log, "WARN .*could not pick due jobs, trying again at every poll: [^\n]+"))
                .as("our line, once for the episode: %s", log).isEqualTo(1);
        soft.assertThat(count(log, "INFO .*due jobs are picked again")).as("its end, once: %s", log).isEqualTo(1);
        soft.assertAll();
    }

    /** Waits for {@code text} in the server's output (3 minutes at most); fails with that output. */
    private static void awaitLine(Process server, Path out, String text) throws java.io.IOException {
        try {
            await().atMost(Duration.ofMinutes(3)).failFast(() -> !server.isAlive())
                    .until(() -> read(out).contains(text));
        } catch (org.awaitility.core.ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            throw new AssertionError("no '" + text + "' in the server's output:\n" + read(out), e);
        }
    }

    /** The outcome of {@code job}'s first attempt, read straight from PostgreSQL; null while it has none. */
    private String outcome(String job) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.url + "&currentSchema=" + pg.schema);
                java.sql.PreparedStatement p = c.prepareStatement(
                        "SELECT outcome FROM job_attempts WHERE job_id = ? AND attempt = 1")) {
            p.setString(1, job);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static long count(String log, String regex) {
        return Pattern.compile(regex).matcher(log).results().count();
    }

    private static String read(Path out) throws java.io.IOException {
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
