package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job planned refused (a payload value its rule writes into its command is refused, PayloadValues) is stored ended,
 * FAILED with its message and no attempt, beside the delivery's other jobs, which are queued as ever; its on-failure
 * is pending, and it supersedes nothing. On PostgreSQL the accept takes the transaction's path for it. And the
 * start's look for stored jobs with refused values reads a delivery's body once for its jobs (review44 R1).
 */
abstract class AbstractRefusedJobStoreTest {

    @TempDir
    Path dir;
    Store store;

    abstract StoreConfig config(Path dir);

    @BeforeEach
    void open() {
        store = Store.open(config(dir));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static PlannedJob refused(String rule, String followUps, String key) {
        PlannedJob plain = Plans.job(rule, List.of("/bin/rm", "-rf", "/srv/builds/${build.trigger}"));
        JobWorkflow workflow = new JobWorkflow(67L, key, false, null, Map.of(), Map.of(), followUps, null, 0);
        return new PlannedJob(rule, plain.ruleSnapshot(), plain.argv(), Map.of("BUILDHOOK_TRIGGER", "../victim"), null,
                true, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 0, null, workflow,
                "not started: rule '" + rule + "' writes ${build.trigger} into argument 2 of 'command', …");
    }

    @Test
    void aRefusedJobIsStoredFailedBesideTheDeliverysOtherJobsAndItsOnFailureIsPending() {
        AcceptResult accepted = store.accept(Plans.delivery(Plans.fixture()), List.of(
                refused("cleanup", "{\"on-failure\":{\"command\":[\"/bin/true\"]},\"depth\":1}", null),
                Plans.job("notify", List.of("/bin/true"))));

        Job refused = store.job(accepted.jobIds().get(0)).orElseThrow().job();
        Job other = store.job(accepted.jobIds().get(1)).orElseThrow().job();
        assertThat(refused.state()).isEqualTo(JobState.FAILED);
        assertThat(refused.message()).startsWith("not started: rule 'cleanup' writes ${build.trigger}");
        assertThat(refused.attempts()).isZero();
        assertThat(refused.endedAt()).isNotNull();
        assertThat(refused.argv()).containsExactly("/bin/rm", "-rf", "/srv/builds/${build.trigger}");
        assertThat(other.state()).isEqualTo(JobState.QUEUED);
        assertThat(store.followUps().pending(10)).containsExactly(refused.id());
    }

    /**
     * review44 R2: a job whose stored values the pick refuses is marked FAILED, but one cancelled between the pick's
     * read and that mark stays CANCELLED, and no on-failure of it is left pending.
     */
    @Test
    void aJobCancelledBeforeItsStoredValuesAreRefusedStaysCancelled() {
        AcceptResult accepted = store.accept(Plans.delivery(Plans.fixture()), List.of(
                Plans.job("cleanup", List.of("/bin/true")), Plans.job("other", List.of("/bin/true"))));
        String cancelled = accepted.jobIds().get(0);
        String queued = accepted.jobIds().get(1);
        assertThat(store.cancel(cancelled)).isTrue();

        assertThat(store.ledger().markFailedUnstarted(cancelled, "not started: refused"))
                .isEqualTo(ExecutionLedger.UnstartedEnd.ENDED);
        assertThat(store.ledger().markFailedUnstarted(queued, "not started: refused"))
                .isEqualTo(ExecutionLedger.UnstartedEnd.FAILED);

        Job stays = store.job(cancelled).orElseThrow().job();
        assertThat(stays.state()).isEqualTo(JobState.CANCELLED);
        assertThat(stays.message()).doesNotContain("refused");
        Job failed = store.job(queued).orElseThrow().job();
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        assertThat(failed.message()).isEqualTo("not started: refused");
    }

    /**
     * review44: a first attempt picked by a node is only flagged by a cancel (cancel_requested; its node ends it). One
     * flagged after its pick read it, whose stored values that pick then refused, was marked FAILED: the operator's
     * cancel lost, and its on-failure started. It ends CANCELLED before it ran, as the pick ends a job it reads flagged.
     */
    @Test
    void aPickedJobWhoseCancelWasFlaggedBeforeItsStoredValuesAreRefusedEndsCancelled() throws Exception {
        String picked = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("cleanup",
                List.of("/bin/true")))).jobIds().get(0);
        try (Connection c = store.dataSource().getConnection(); java.sql.PreparedStatement p = c.prepareStatement(
                "UPDATE scheduled_tasks SET picked = ?, picked_by = ? WHERE task_instance = ?")) {
            p.setBoolean(1, true);
            p.setString(2, "another-node");
            p.setString(3, picked);
            assertThat(p.executeUpdate()).as("its execution, picked").isEqualTo(1);
        }
        assertThat(store.cancel(picked)).isTrue();
        Job flagged = store.job(picked).orElseThrow().job();
        assertThat(flagged.cancelRequested()).as("only flagged: its node ends it").isTrue();
        assertThat(flagged.state()).isEqualTo(JobState.QUEUED);

        assertThat(store.ledger().markFailedUnstarted(picked, "not started: refused"))
                .isEqualTo(ExecutionLedger.UnstartedEnd.CANCELLED);

        Job ended = store.job(picked).orElseThrow().job();
        assertThat(ended.state()).isEqualTo(JobState.CANCELLED);
        assertThat(ended.message()).isEqualTo("cancelled before it ran");
        assertThat(ended.endedAt()).isNotNull();
    }

    @Test
    void aRefusedJobSupersedesNothing() {
        String older = store.accept(Plans.delivery(Plans.fixture().replace("\"build_id\": 67", "\"build_id\": 66")),
                List.of(Plans.job("deploy", List.of("/bin/true")).withWorkflow(new JobWorkflow(66L, "k", false, null,
                        Map.of(), Map.of(), null, null, 0)))).jobIds().get(0);

        store.accept(Plans.delivery(Plans.fixture()), List.of(refused("deploy", null, "k")));

        assertThat(store.job(older).orElseThrow().job().state()).isEqualTo(JobState.QUEUED);
    }

    private static final int LISTED_JOBS = 60;

    /** Build 67's real body with about 1 MB of fields buildhook does not read (JobServ sends more than it reads). */
    private static String largeBody() {
        StringBuilder padding = new StringBuilder("\"padding\": [");
        for (int i = 0; i < 16; i++) {
            padding.append(i == 0 ? "" : ", ").append('"').append("x".repeat(64 * 1000)).append('"');
        }
        return Plans.fixture().replaceFirst("\\{", java.util.regex.Matcher.quoteReplacement("{" + padding + "], "));
    }

    /**
     * review44 R1: the start's (and {@code check}'s) look for stored jobs with payload values this build refuses
     * ({@link RefusedStoredJobs}, values43 V2) read their delivery's body with every job, in one result: 60 queued jobs
     * of one 1 MB delivery (a {@code match: each} build, a backlog at a restart) allocated 68 MB on SQLite and 190 MB on
     * PostgreSQL, and 200 jobs of a 5 MiB body (the default largest) were over 1 GB in one PostgreSQL result: an
     * OutOfMemoryError at the start. A delivery's body is read once now for its jobs. Measured as the bytes the reading
     * thread allocates (not time).
     */
    @Test
    void theStartsLookReadsADeliverysBodyOnceForItsJobs() throws Exception {
        String body = largeBody();
        String snapshot = "{\"name\":\"cleanup\",\"run\":{\"command\":[\"/bin/rm\",\"-rf\","
                + "\"/srv/builds/${build.trigger}\"]}}";
        List<PlannedJob> jobs = new ArrayList<>();
        for (int i = 0; i < LISTED_JOBS; i++) {
            jobs.add(new PlannedJob("cleanup", snapshot, List.of("/bin/rm", "-rf", "/srv/builds/containers-devel"),
                    Map.of(), null, false, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 0, null));
        }
        store.accept(Plans.delivery(body), jobs);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();

        long before;
        long allocated;
        java.util.Optional<RefusedStoredJobs> found;
        try (Connection c = store.dataSource().getConnection()) {
            before = threads.getThreadAllocatedBytes(id);
            found = RefusedStoredJobs.of(c);
            allocated = threads.getThreadAllocatedBytes(id) - before;
        }

        // Their values pass ("containers-devel"): nothing to say, and the body was parsed as planning parses it.
        assertThat(found).isEmpty();
        long size = body.getBytes(StandardCharsets.UTF_8).length;
        assertThat(size).isGreaterThan(1_000_000);
        assertThat(allocated).as("bytes allocated reading %d jobs of one %d-byte delivery", LISTED_JOBS, size)
                .isLessThan(12 * size);
    }

    /**
     * values44's leftover: the start's and check's look at stored follow-ups with payload values checked them with
     * their {@code ${job.*}} values empty (their parent was not read), so a {@code ${job.outcome}} written right
     * before {@code ${build.trigger}} made trigger {@code -rf} begin the argument there, and the look named a
     * follow-up its pick runs ({@code FAILED-rf}). The look reads the parent as the pick does: it names only the
     * follow-up the pick refuses.
     */
    @Test
    void theStartsLookAtAFollowUpDecidesAsItsPickWithItsParentsValues() throws Exception {
        String body = Plans.fixture().replace("\"trigger_name\": \"containers-devel\"", "\"trigger_name\": \"-rf\"");
        AcceptResult accepted = store.accept(Plans.delivery(body), List.of(
                refused("cleanup", "{\"on-failure\":{\"command\":[\"/bin/true\"]},\"depth\":1}", null),
                refused("notify", "{\"on-failure\":{\"command\":[\"/bin/true\"]},\"depth\":1}", null)));
        String passes = followUp(accepted.jobIds().get(0), "[\"/usr/bin/logger\",\"${job.outcome}${build.trigger}\"]");
        String refused = followUp(accepted.jobIds().get(1), "[\"/usr/bin/logger\",\"${build.trigger}\"]");

        // The pick's verdict, as JobTask reads it: the parent by id.
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        java.util.function.Function<String, java.util.Optional<Job>> jobs = id -> store.job(id).map(JobDetail::job);
        assertThat(org.buildhook.runner.rules.StoredJobCheck.valuesRefusal(store.job(passes).orElseThrow().job(),
                () -> bytes, jobs)).isEmpty();
        assertThat(org.buildhook.runner.rules.StoredJobCheck.valuesRefusal(store.job(refused).orElseThrow().job(),
                () -> bytes, jobs)).get().asString().contains("begins with '-'");

        RefusedStoredJobs found;
        try (Connection c = store.dataSource().getConnection()) {
            found = RefusedStoredJobs.of(c).orElseThrow();
        }
        assertThat(found.values().named()).extracting(RefusedStoredJobs.Named::jobId).containsExactly(refused);
        assertThat(found.values().count()).isOne();
    }

    /** Stores the on-failure follow-up of FAILED job {@code parentId}, of the action with {@code command}; its id. */
    private String followUp(String parentId, String command) {
        Job parent = store.job(parentId).orElseThrow().job();
        String rule = parent.ruleName() + "/on-failure";
        JobWorkflow workflow = new JobWorkflow(67L, null, false, null, Map.of(), Map.of(), null, parentId, 1);
        return store.followUps().start(parent, new PlannedJob(rule, "{\"command\":" + command + "}",
                List.of("/usr/bin/logger", "as rendered"), Map.of(), null, false, Duration.ofSeconds(30), 0,
                Duration.ofSeconds(1), 0, null, workflow, null)).orElseThrow();
    }
}
