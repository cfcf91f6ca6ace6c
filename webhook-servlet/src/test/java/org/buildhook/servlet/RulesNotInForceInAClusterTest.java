package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.buildhook.servlet.TestApplication.deliver;
import static org.buildhook.servlet.TestApplication.job;
import static org.buildhook.servlet.TestApplication.putBack;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.buildhook.runner.engine.ClusterRules;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.NodeLeases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * rulesdiff23: on PostgreSQL a start or reload cancelled, for the whole cluster, the stored jobs still to
 * run of every rule not enabled in that node's rules, also while another running node still had the rule
 * (a rolling change of the rules file: a node restarted with an older file cancelled the approvals of a
 * rule the others run). While another running node records other rules, nothing is cancelled and one
 * {@code WARN} says so; once every running node has the same rules, the jobs are cancelled. A real
 * application on PostgreSQL; the other node is a claim of its node id with a fingerprint recorded, as a
 * running node makes them. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI.
 */
class RulesNotInForceInAClusterTest {

    private static final PostgresSchemas PG = new PostgresSchemas();
    private static final String WITH_DEPLOY = "rules:\n  - name: deploy\n    approval: {}\n"
            + "    run: {command: [/bin/true]}\n  - name: notify\n    run: {command: [/bin/true]}\n";
    private static final String WITHOUT_DEPLOY = "rules:\n  - name: notify\n    run: {command: [/bin/true]}\n";
    private static final String DEPLOY_DISABLED = "rules:\n  - name: deploy\n    enabled: false\n    approval: {}\n"
            + "    run: {command: [/bin/true]}\n  - name: notify\n    run: {command: [/bin/true]}\n";

    @TempDir
    Path dir;

    @RegisterExtension
    final LogCapture log = new LogCapture(BuildhookApplication.class, ClusterRules.class);

    @AfterAll
    static void dropSchemas() throws Exception {
        PG.dropAll();
    }

    @Test
    void aNodeWhoseRulesDifferFromAnotherRunningNodesCancelsNoJobOfItsRulesNotInForceUntilTheyAgree() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), WITH_DEPLOY);
        Path file = configuration();
        String job;
        RulesFingerprint withDeploy;
        try (BuildhookApplication app = TestApplication.start(file)) {
            job = deliver(app, "build-67-passed.json");
            assertThat(job(app, job).state()).isEqualTo(JobState.AWAITING_APPROVAL);
            // node-b runs beside with the same file, then this node's file loses the rule.
            withDeploy = RulesFingerprint.of(app.rules().current());
            otherNodeRuns(app, withDeploy);
            Files.writeString(rules, WITHOUT_DEPLOY);

            awaitLeftWarning(app);
            assertThat(job(app, job).state()).as("left at the reload").isEqualTo(JobState.AWAITING_APPROVAL);
        }
        log.clear();
        // A start with the file that disables the rule (rulesknown23: a start cancels only what its file
        // disables, never a rule merely absent), node-b still with the other: left again.
        Files.writeString(rules, DEPLOY_DISABLED);
        try (BuildhookApplication app = TestApplication.start(file)) {
            assertThat(app.rules().current().ruleNames()).doesNotContain("deploy");
            assertThat(log.events()).extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                    .contains("are left as they are, not cancelled: rule 'deploy': 1 job(s); running node(s) node-b"));
            assertThat(job(app, job).state()).as("left at the start").isEqualTo(JobState.AWAITING_APPROVAL);
            assertThat(cancelWarnings()).isEmpty();

            // node-b gets the same file: the next comparison finds the nodes agreeing and cancels the job.
            otherNodeRuns(app, RulesFingerprint.of(app.rules().current()));
            await().atMost(Duration.ofMinutes(2)).until(() -> job(app, job).state() != JobState.AWAITING_APPROVAL);
            Job cancelled = job(app, job);
            assertThat(cancelled.state()).isEqualTo(JobState.CANCELLED);
            assertThat(cancelled.message()).startsWith("not started: its rule 'deploy' is disabled or removed in the"
                    + " rules in force on node ");
            assertThat(app.store().approve(job, "alice")).isFalse();
            await().atMost(Duration.ofMinutes(1)).until(() -> !cancelWarnings().isEmpty());
            assertThat(cancelWarnings()).singleElement().asString().contains(": 1 of its stored job(s) still to run"
                    + " (queued, waiting or awaiting an approval) will not run: cancelled (" + job + " (delivery ")
                    .endsWith(")); jobs of it already running go on");
        }
    }

    /**
     * tryout25 F4: a node started with an older rules file, lacking a new rule that node-b runs, left the rule's
     * stored job alone while node-b ran (rulesdiff23), but once node-b stopped (an ordinary restart: its claim
     * given back) every running node "agreed" and it cancelled the job, a deploy awaiting its approval, of a
     * rule it never had. It cancels only what its own file disables or a reload of it took out: the job stays,
     * and is approved once node-b is back.
     */
    @Test
    void aNodeThatNeverHadARuleDoesNotCancelItsJobsWhenTheNodeThatHasItStops() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), WITH_DEPLOY);
        Path file = configuration();
        String job;
        RulesFingerprint withDeploy;
        // The job of the new rule, stored as node-b (which has the rule) would store it.
        try (BuildhookApplication app = TestApplication.start(file)) {
            job = deliver(app, "build-67-passed.json");
            withDeploy = RulesFingerprint.of(app.rules().current());
        }
        Files.writeString(rules, WITHOUT_DEPLOY);
        try (BuildhookApplication app = TestApplication.start(file)) {
            otherNodeRuns(app, withDeploy);
            await().atMost(Duration.ofMinutes(2)).until(() -> clusterSaid("has other rules than 1 running node(s)"));
            // node-b stops: this node is the only running one, and "every running node agrees".
            log.clear();
            app.store().nodeLeases().release("node-b", "instance-b");
            await().atMost(Duration.ofMinutes(2)).until(() -> clusterSaid("agree again"));
            // node-b is back (its restart): a later look says so, after the look that agreed had ended.
            otherNodeRuns(app, withDeploy);
            await().atMost(Duration.ofMinutes(2)).until(() -> clusterSaid("has other rules than 1 running node(s)"));

            assertThat(job(app, job).state()).as("a job of a rule this node never had").isEqualTo(
                    JobState.AWAITING_APPROVAL);
            assertThat(cancelWarnings()).isEmpty();
            assertThat(log.events()).extracting(ILoggingEvent::getFormattedMessage)
                    .noneSatisfy(m -> assertThat(m).contains("are left as they are"));
            assertThat(app.store().approve(job, "alice")).isTrue();
        }
    }

    /**
     * tryout33 F11 (rename34) in a cluster: an approval added to a rule on this node while node-b still runs the file
     * without it leaves the rule's queued job as it is (node-b would run it anyway) and says so; once node-b has the
     * same rules, the next comparison makes it await the approval, once (one {@code gate} entry, however many nodes
     * look), and it does not start when the slot frees.
     */
    @Test
    void anApprovalAddedOnOneNodeGatesTheQueuedJobsOnlyOnceEveryRunningNodeHasIt() throws Exception {
        Path go = dir.resolve("go");
        String rule = "rules:\n  - name: long\n%s"
                + "    run: {command: [/bin/sh, -c, 'while [ ! -e " + go + " ]; do sleep 0.05; done'],"
                + " concurrency: 1}\n";
        Path rules = Files.writeString(dir.resolve("rules.yaml"), rule.formatted(""));
        Path file = configuration();
        try (BuildhookApplication app = TestApplication.start(file)) {
            String running = deliver(app, "build-67-passed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, running).state() == JobState.RUNNING);
            String queued = deliver(app, "build-68-failed.json");
            await().atMost(Duration.ofMinutes(1)).until(() -> putBack(app, queued));
            otherNodeRuns(app, RulesFingerprint.of(app.rules().current()));
            Files.writeString(rules, rule.formatted("    approval: {expires: 1h}\n"));

            await().atMost(Duration.ofMinutes(2)).until(() -> !log.warnings("but were planned without one are left as"
                    + " they are, not made to await one: rule 'long': 1 job(s); running node(s) node-b have other rules")
                    .isEmpty());
            assertThat(job(app, queued).state()).as("left while node-b has other rules").isEqualTo(JobState.QUEUED);
            assertThat(app.store().actionsOnJob(queued)).isEmpty();

            otherNodeRuns(app, RulesFingerprint.of(app.rules().current()));
            await().atMost(Duration.ofMinutes(2)).until(() -> job(app, queued).state() == JobState.AWAITING_APPROVAL);
            // node-b's own look (or this node's next) finds nothing more to gate.
            assertThat(app.store().gateJobsOfRules(app.rules().current().approvalExpiries(),
                    app.rules().current().approvalRequests(), r -> "again")).isEmpty();
            app.compareRulesNow();
            assertThat(app.store().actionsOnJob(queued)).extracting(a -> a.actor() + " " + a.action())
                    .containsExactly("buildhook gate");
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> job(app, running).state().isFinal());
            assertThat(job(app, queued).state()).isEqualTo(JobState.AWAITING_APPROVAL);
        }
    }

    /**
     * Writes the webhook secret and a configuration on a new PostgreSQL schema naming rules.yaml: the other
     * node's claim counts as running for 1000 s; this node compares the rules every second; a job refused a slot
     * tries again only when a slot frees.
     */
    private Path configuration() throws Exception {
        return TestApplication.configuration(dir, PG.newSchemaUrl(),
                "heartbeat-interval: 1s, missed-heartbeats: 1000, watchdog: off, slot-retry: 1h");
    }

    /** Whether {@link org.buildhook.runner.engine.ClusterRules} logged a line containing {@code text}. */
    private boolean clusterSaid(String text) {
        return log.events().stream().anyMatch(e -> e.getLoggerName().equals(ClusterRules.class.getName())
                && e.getFormattedMessage().contains(text));
    }

    /** Claims node-b (running for the dead-node limit) and records {@code rules} as its rules in force. */
    private static void otherNodeRuns(BuildhookApplication app, RulesFingerprint rules) {
        NodeLeases leases = app.store().nodeLeases();
        assertThat(leases.claim("node-b", "instance-b", NodeIdentity.current(), app.config().engine().deadNodeLimit(),
                true)).isEmpty();
        assertThat(leases.recordRules("node-b", NodeIdentity.current(), rules, Instant.now())).isTrue();
    }

    /** Waits for the WARN of a reload on this node that left the job of 'deploy', naming node-b. */
    private void awaitLeftWarning(BuildhookApplication app) {
        await().atMost(Duration.ofMinutes(2)).until(() -> !log.warnings("are left as they are, not cancelled: rule"
                + " 'deploy': 1 job(s); running node(s) node-b have other rules").isEmpty());
        String node = app.config().engine().nodeId();
        assertThat(log.events()).extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                .startsWith("the stored jobs still to run of the rules disabled or removed in the rules in force on node "
                        + node + " (")
                .endsWith("They are cancelled once every running node has the same rules (this node compares them"
                        + " every runner.heartbeat-interval, and at each start and reload); until then they run when"
                        + " due or approved"));
        assertThat(cancelWarnings()).isEmpty();
    }

    /** The WARNs of jobs cancelled because their rule is not in force. */
    private List<String> cancelWarnings() {
        return log.messages().stream().filter(m -> m.startsWith("rule 'deploy' is disabled or removed")).toList();
    }
}
