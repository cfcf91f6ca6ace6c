package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.job;
import static org.buildhook.servlet.TestApplication.rewriteRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout57 F4 (H), F5 (M): a reload that disables a rule or lowers a {@code concurrency} while the store refuses its
 * work (a SQLite database another program holds locked, a PostgreSQL table locked by another session) said so in one
 * {@code WARN} ("they may still run") and never tried again: the disabled rule's queued job ran once the store
 * answered, its job awaiting an approval could be approved, and the jobs stored under the old limit started by it. Now
 * the node refuses to start or approve a job of a rule its rules in force take out, whatever the cancel did, and tries
 * the reload's store-side work again until the store takes it. A real application, its rules file rewritten as an
 * operator does, real commands, a real lock held by another connection; on SQLite and on PostgreSQL (needs {@code
 * BUILDHOOK_TEST_PG_URL}; fails without it on CI).
 */
class ReloadDuringAStoreOutageTest {

    private static final PostgresSchemas PG = new PostgresSchemas();

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aRuleDisabledWhileTheStoreRefusesTheCancelRunsNoneOfItsStoredJobsOnceItAnswers(boolean postgres)
            throws Exception {
        Path ran = dir.resolve("ran");
        Path go = dir.resolve("go");
        String rules = "rules:\n  - name: work\n%s"
                + "    run: {command: [/bin/sh, -c, 'echo x >> " + ran + "; while [ ! -e " + go + " ]; do sleep 0.05;"
                + " done'], concurrency: 1}\n"
                + "  - name: deploy\n%s    approval: {}\n    run: {command: [/bin/sh, -c, 'echo d >> " + ran + "']}\n";
        Files.writeString(dir.resolve("rules.yaml"), rules.formatted("", ""));
        String url = postgres ? PG.newSchemaUrl() : null;
        Path file = TestApplication.configuration(dir, url, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            Map<String, String> first = jobsByRule(app, "build-67-passed.json");
            Map<String, String> second = jobsByRule(app, "build-68-failed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, first.get("work")).state() == JobState.RUNNING);
            assertThat(job(app, second.get("work")).state()).isEqualTo(JobState.QUEUED);
            assertThat(job(app, first.get("deploy")).state()).isEqualTo(JobState.AWAITING_APPROVAL);

            try (Connection other = lockHolder(postgres, url); Statement st = other.createStatement()) {
                lock(postgres, st);
                rewriteRules(dir, rules.formatted("    enabled: false\n", "    enabled: false\n"));
                await().atMost(Duration.ofMinutes(2)).until(() -> !log.warnings("could not be cancelled").isEmpty());
                unlock(postgres, other, st);
            }
            // Approved the moment the store answers: refused, the job ended as the reload's cancel ends it.
            assertThatThrownBy(() -> new AdminRequests(app, "alice").decide(first.get("deploy"), true))
                    .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(409))
                    .hasMessageContaining("is CANCELLED, not awaiting an approval: not started: its rule 'deploy' is"
                            + " disabled or removed in the rules in force on node ");
            Files.writeString(go, "");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, second.get("work")).state().isFinal());
            assertThat(job(app, second.get("work")).state()).isEqualTo(JobState.CANCELLED);
            assertThat(job(app, second.get("work")).message()).startsWith("not started: its rule 'work' is disabled or"
                    + " removed in the rules in force on node ");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, first.get("work")).state().isFinal());
            // Tried again until the store took it, and said once done.
            await().atMost(Duration.ofMinutes(1)).until(() -> log.messages().stream()
                    .anyMatch(m -> m.contains("are cancelled now")));
            assertThat(job(app, second.get("deploy")).state()).isEqualTo(JobState.CANCELLED);
        }
        assertThat(Files.readAllLines(ran)).as("only the job running before the reload ran").containsExactly("x");
        assertThat(log.warnings("could not be cancelled")).as("said once").hasSize(1);
    }

    @ParameterizedTest(name = "postgres={0}")
    @ValueSource(booleans = {false, true})
    void aConcurrencyLoweredWhileTheStoreRefusesItIsGivenToTheStoredJobsOnceItAnswers(boolean postgres)
            throws Exception {
        Path go = dir.resolve("go");
        String rules = "rules:\n  - name: work\n    run: {command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep"
                + " 0.05; done'], concurrency: %d}\n";
        Files.writeString(dir.resolve("rules.yaml"), rules.formatted(2));
        String url = postgres ? PG.newSchemaUrl() : null;
        Path file = TestApplication.configuration(dir, url, "slot-retry: 1s");
        try (BuildhookApplication app = TestApplication.start(file)) {
            String a = TestApplication.deliver(app, "build-67-passed.json");
            String b = TestApplication.deliver(app, "build-68-failed.json");
            String c = TestApplication.deliver(app, "build-412-promoted.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, a).state() == JobState.RUNNING
                    && job(app, b).state() == JobState.RUNNING);
            assertThat(job(app, c).concurrency()).isEqualTo(2);

            try (Connection other = lockHolder(postgres, url); Statement st = other.createStatement()) {
                lock(postgres, st);
                rewriteRules(dir, rules.formatted(1));
                await().atMost(Duration.ofMinutes(2)).until(() -> !log.warnings("concurrency limits of").isEmpty());
                unlock(postgres, other, st);
            }
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, c).concurrency() == 1);
            await().atMost(Duration.ofMinutes(1)).until(() -> log.messages().stream()
                    .anyMatch(m -> m.contains("concurrency limits of") && m.contains("are given to the jobs already"
                            + " stored now")));
            Files.writeString(go, "");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, c).state().isFinal());
        }
        assertThat(log.warnings("concurrency limits of")).as("said once").hasSize(1);
    }

    private static Map<String, String> jobsByRule(BuildhookApplication app, String fixture) throws Exception {
        List<String> ids = app.deliveries().receive(DeliveryServiceTest.signed(DeliveryServiceTest.fixture(fixture),
                "default")).jobIds();
        Map<String, String> byRule = new HashMap<>();
        ids.forEach(id -> byRule.put(job(app, id).ruleName(), id));
        return byRule;
    }

    /** Another program's connection to the store. */
    private Connection lockHolder(boolean postgres, String url) throws Exception {
        if (postgres) {
            Connection c = DriverManager.getConnection(url);
            c.setAutoCommit(false);
            return c;
        }
        org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
        config.setBusyTimeout(60_000);
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data/buildhook.db"), config.toProperties());
    }

    /** SQLite: the database's write lock (an operator's sqlite3 in a transaction); PostgreSQL: the jobs table. */
    private static void lock(boolean postgres, Statement st) throws Exception {
        st.execute(postgres ? "LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE" : "BEGIN EXCLUSIVE");
    }

    private static void unlock(boolean postgres, Connection c, Statement st) throws Exception {
        if (postgres) {
            c.commit();
        } else {
            st.execute("COMMIT");
        }
    }
}
