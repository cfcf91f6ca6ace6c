package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Retention and the workflow features: it never takes a job that still waits (for resources or an
 * approval) or still owes its follow-up, and it forgets a supersede key with the delivery of the
 * key's newest build. On SQLite and PostgreSQL by the subclasses.
 */
abstract class AbstractWorkflowRetentionTest {

    private static final Instant OLD = Instant.now().minus(Duration.ofDays(31));

    @TempDir
    Path dir;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void keepsOldDeliveriesWhoseJobsAwaitAnApprovalWaitForResourcesOrOweAFollowUp() throws SQLException {
        String awaiting = deliver(OLD, 1, new JobWorkflow(1L, null, false, Duration.ofDays(60), Map.of(), Map.of(),
                null, null, 0));
        String waiting = deliver(OLD, 2, new JobWorkflow(2L, null, false, null, Map.of("boards", 1),
                Map.of("boards", 3), null, null, 0));
        setState(waiting, JobState.WAITING);
        String owing = deliver(OLD, 3, new JobWorkflow(3L, null, false, null, Map.of(), Map.of(),
                "{\"on-failure\":{}}", null, 0));
        fail(owing);
        String done = deliver(OLD, 4, JobWorkflow.NONE);
        fail(done);

        assertThat(store.runRetention()).isEqualTo(1);

        assertThat(store.job(done)).isEmpty();
        assertThat(store.job(awaiting).orElseThrow().job().state()).isEqualTo(JobState.AWAITING_APPROVAL);
        assertThat(store.job(waiting).orElseThrow().job().state()).isEqualTo(JobState.WAITING);
        assertThat(store.followUps().pending(10)).containsExactly(owing);
    }

    @Test
    void itsLogLineWritesTheAgeAsTheConfigurationDoesNotAsIso8601() {
        // tryout28 F: "retention removed 5 deliveries older than PT2M" for store.retention: 2m.
        fail(deliver(OLD, 5, JobWorkflow.NONE));
        Logger logger = (Logger) LoggerFactory.getLogger(Retention.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            assertThat(store.runRetention()).isEqualTo(1);
        } finally {
            logger.detachAppender(log);
        }
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                .contains("retention removed 1 deliveries older than 720h");
    }

    @Test
    void aSupersedeKeyIsForgottenWithTheDeliveryOfItsNewestBuildAndKeptWhileThatIsKept() throws SQLException {
        // Key "kept": its newest build (70) arrived now; key "gone": nothing arrived for the retention age.
        deliver(OLD, 69, keyed("kept", 69));
        String newest = deliver(Instant.now(), 70, keyed("kept", 70));
        fail(deliver(OLD, 69, keyed("gone", 69)));
        assertThat(keys()).containsOnly(Map.entry("gone", 69L), Map.entry("kept", 70L));

        assertThat(store.runRetention()).isEqualTo(2);

        assertThat(keys()).containsOnly(Map.entry("kept", 70L));
        // A late older build of a remembered key is superseded at once, by the newest build's job.
        Job late = store.job(deliver(Instant.now(), 68, keyed("kept", 68))).orElseThrow().job();
        assertThat(late.state()).isEqualTo(JobState.SUPERSEDED);
        assertThat(late.supersededBy()).isEqualTo(newest);
        // A forgotten key starts again from whatever build comes.
        Job fresh = store.job(deliver(Instant.now(), 68, keyed("gone", 68))).orElseThrow().job();
        assertThat(fresh.state()).isEqualTo(JobState.QUEUED);
        assertThat(keys()).containsOnly(Map.entry("gone", 68L), Map.entry("kept", 70L));
    }

    private static JobWorkflow keyed(String key, long build) {
        return new JobWorkflow(build, key, false, null, Map.of(), Map.of(), null, null, 0);
    }

    /** A delivery received at {@code at} with one job of rule deploy; returns the job's id. */
    private String deliver(Instant at, long build, JobWorkflow workflow) {
        PlannedJob job = Plans.job("deploy", List.of("/bin/true")).withWorkflow(workflow);
        return store.accept(Plans.delivery("default", "{\"build_id\": " + build + ", \"at\": \"" + at + "\", \"n\": \""
                + System.nanoTime() + "\"}", at), List.of(job)).jobIds().get(0);
    }

    private void fail(String jobId) {
        int attempt = store.ledger().startAttempt(jobId, "test-node");
        store.ledger().finishAttempt(jobId, attempt, new JobOutcome(JobOutcome.Result.FAILED, 1, Instant.now(),
                Instant.now(), "exited with 1", null, false), JobState.FAILED);
    }

    private void setState(String jobId, JobState state) throws SQLException {
        try (Connection c = store.dataSource().getConnection();
             PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ? WHERE id = ?")) {
            p.setString(1, state.name());
            p.setString(2, jobId);
            p.executeUpdate();
        }
    }

    private Map<String, Long> keys() throws SQLException {
        Map<String, Long> out = new java.util.TreeMap<>();
        try (Connection c = store.dataSource().getConnection();
             PreparedStatement p = c.prepareStatement("SELECT supersede_key, build_id FROM supersede_keys");
             ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }
}
