package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A look of the node's background thread ({@code buildhook-stale-picks}) whose PostgreSQL call is never answered: the
 * thread must come back after {@link org.buildhook.runner.store.Store#lookBound()} and its looks go on (tryout46 F7, H:
 * a connection left open by a backend stopped with SIGSTOP, a frozen database host or a silent network drop held the
 * thread until TCP's keepalive, two hours and more; the same-host take-over of a crashed node's job and the approvals'
 * expiry stopped, while {@code /healthz} said ok). The call that never answers is a real one: a trigger on {@code jobs}
 * sleeps in the first approval expiry's UPDATE, on PostgreSQL's side of the connection.
 */
class PostgresLookWithoutAnswerTest extends AbstractWorkflowTest {

    private final String sleeper = "sleep-" + java.util.UUID.randomUUID().toString().substring(0, 8);

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @AfterEach
    void endTheSleep() throws SQLException {
        if (store != null) {
            terminateSleeper();
        }
    }

    private int terminateSleeper() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        + " WHERE application_name = '" + sleeper + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private boolean sleeping() throws SQLException {
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                        + sleeper + "' AND wait_event = 'PgSleep'")) {
            rs.next();
            return rs.getInt(1) > 0;
        }
    }

    /** Whether the engine's thread of background looks is inside the approvals' expiry now. */
    private static boolean lookThreadInTheExpiry() {
        return Thread.getAllStackTraces().entrySet().stream()
                .filter(e -> e.getKey().getName().equals("buildhook-stale-picks"))
                .anyMatch(e -> Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().endsWith(".Approvals")));
    }

    @Test
    void aLookWhoseCallPostgresNeverAnswersEndsAfterItsBoundAndTheLooksGoOn() throws Exception {
        RuleSet rules = rules("rules:\n"
                + "  - name: deploy-prod\n"
                + "    approval: {expires: 1s}\n"
                + "    run: {command: [/bin/true]}\n");
        openStore();
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            // The first expiry's UPDATE sleeps, once (a sequence is not rolled back), named so it can be found and ended.
            s.execute("CREATE SEQUENCE sleep_once");
            s.execute("CREATE FUNCTION sleep_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF NEW.state = 'EXPIRED' AND nextval('sleep_once') = 1 THEN"
                    + " PERFORM set_config('application_name', '" + sleeper + "', true); PERFORM pg_sleep(3600);"
                    + " END IF; RETURN NEW; END $$");
            s.execute("CREATE TRIGGER sleep_once BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION sleep_once()");
        }
        startEngine();
        String first = deliver(rules, 67).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> sleeping() && lookThreadInTheExpiry());
        String second = deliver(rules, 68).jobIds().get(0);

        // Bounded by the look's bound (30 s here) and a hung test's margin, not by TCP's keepalive.
        assertThat(store.lookBound()).isEqualTo(Duration.ofSeconds(30));
        await().atMost(Duration.ofMinutes(2)).until(() -> !lookThreadInTheExpiry());
        // PostgreSQL's side still sleeps with the first job's row locked (it learns of the closed connection only when
        // it writes to it): ended here, as a database that answers again would end it.
        assertThat(terminateSleeper()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(60)).until(() -> job(second).state() == JobState.EXPIRED
                && job(first).state() == JobState.EXPIRED);
    }
}
