package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.store.AcceptResult;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared set-up of the workflow tests (supersede, follow-ups, approvals, resources): a real store,
 * real engines and real processes, rules from YAML, deliveries from the JobServ fixture with chosen
 * build ids. Run on SQLite and PostgreSQL by the subclasses.
 */
abstract class AbstractWorkflowTest {

    @TempDir
    Path dir;
    Store store;
    JobEngine engine;
    private CommonsExecLauncher launcher;

    abstract StoreConfig config(Path dir);

    private StoreConfig storeConfig;

    /** Opens the store; after {@link #stopAll()}, the same database again (a restart). */
    Store openStore() {
        if (storeConfig == null) {
            storeConfig = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        }
        store = Store.open(storeConfig);
        return store;
    }

    void startEngine() {
        startEngine(AbstractEngineTest.steady("node-a"));
    }

    void startEngine(EngineConfig config) {
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        engine = JobEngine.create(store, launcher, config);
        engine.start();
    }

    void stopAll() {
        if (engine != null) {
            engine.stop();
            engine = null;
        }
        if (launcher != null) {
            launcher.close();
            launcher = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
    }

    @AfterEach
    void close() {
        stopAll();
    }

    RuleSet rules(String yaml) {
        return new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"), yaml);
    }

    Path script(String name, String body) throws IOException {
        return Files.writeString(dir.resolve(name), "#!/bin/sh\n" + body + "\n");
    }

    /** The fixture's body with {@code build_id} set to {@code buildId}. */
    static byte[] body(long buildId) {
        return Plans.fixture().replace("\"build_id\": 67", "\"build_id\": " + buildId).getBytes(StandardCharsets.UTF_8);
    }

    /** Delivers build {@code buildId} as the servlet does: match the rules, store delivery and jobs together. */
    AcceptResult deliver(RuleSet rules, long buildId) {
        return deliver(rules, body(buildId));
    }

    /** Delivers {@code body} as the servlet does. */
    AcceptResult deliver(RuleSet rules, byte[] body) {
        BuildEvent event = new BuildEventParser().parse(body);
        return store.accept(Plans.delivery("default", new String(body, StandardCharsets.UTF_8), Instant.now()),
                DeliverySummary.of(event), rules.match("default", event));
    }

    /** When the job's execution is due, while it waits in the queue not picked; empty when it is picked or gone. */
    java.util.Optional<Instant> queuedFor(String jobId) throws java.sql.SQLException {
        try (java.sql.Connection c = store.dataSource().getConnection(); java.sql.PreparedStatement p = c
                .prepareStatement("SELECT execution_time FROM scheduled_tasks WHERE task_instance = ? AND picked = ?")) {
            p.setString(1, jobId);
            p.setBoolean(2, false);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                return rs.next() ? java.util.Optional.of(org.buildhook.runner.store.JobQueue.customization(
                        store.dialect()).getInstant(rs, "execution_time")) : java.util.Optional.empty();
            }
        }
    }

    /**
     * The bound of a wait for a job to end: its pick, its start and its records, each a wake-up on a busy machine.
     * The lead's full run of fdd8c9fe, at load 50, took over 60 s for AbstractApprovalTest's
     * jobsThatOnlyNameOnApprovalRequestDoNotHideANewerJobsRequest (two looks of 100 candidates, then the request's
     * run). The bound only ends a wait that would never end.
     */
    static final Duration WAIT = Duration.ofMinutes(3);

    Job job(String id) {
        return store.job(id).orElseThrow().job();
    }

    JobDetail awaitFinal(String jobId) {
        await().atMost(WAIT).until(() -> job(jobId).state().isFinal());
        return store.job(jobId).orElseThrow();
    }

    /** The one job of {@code rule}, once it is stored and has ended. */
    Job awaitOnlyJobOf(String rule) {
        await().atMost(WAIT).until(() -> jobsOfRule(rule).size() == 1
                && jobsOfRule(rule).get(0).state().isFinal());
        return jobsOfRule(rule).get(0);
    }

    List<Job> jobsOfRule(String rule) {
        return store.jobs(new JobQuery(null, rule, null, null, 500)).items();
    }

    static void assertState(Job job, JobState state) {
        assertThat(job.state()).as("job %s (%s): %s", job.id(), job.ruleName(), job.message()).isEqualTo(state);
    }
}
