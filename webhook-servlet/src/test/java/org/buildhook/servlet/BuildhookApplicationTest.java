package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.Secret;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.runner.engine.JobEngine;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.store.Ids;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigException;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What the running application wires together beyond what its parts' own tests see. */
class BuildhookApplicationTest {

    @TempDir
    Path dir;

    /**
     * The store knows its data folder but not {@code runner.log-dir}: the application tells it, so that
     * retention removes the log folders of jobs whose rows another node deleted (tryout10, F11), and
     * counts them in its metrics.
     */
    @Test
    void retentionAlsoRemovesFromTheConfiguredLogFolderTheLogsOfJobsTheStoreNoLongerHas() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrunner: {log-dir: job-logs}\n");
        Path orphan = Files.createDirectories(dir.resolve("job-logs")
                .resolve(Ids.lowestAt(Instant.now().minus(Duration.ofDays(35)))));
        Files.setLastModifiedTime(Files.writeString(orphan.resolve("attempt-1.log"), "output"), anHourAgo());
        Files.setLastModifiedTime(orphan, anHourAgo());

        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            app.store().runRetention();

            assertThat(BuildhookMetricsTest.value(app.metrics().scrape(),
                    "buildhook_retention_orphans_removed_total{kind=\"log_folder\"}")).isEqualTo(1.0);
        }

        assertThat(orphan).doesNotExist();
        assertThat(dir.resolve("job-logs")).isDirectory();
    }

    /**
     * tryout13 F4: jobs of rules without a workdir ran in the data folder, where a script that cleans or
     * archives its working directory takes the database and the secrets with it. They get a folder of
     * their own, made at start.
     */
    @Test
    void jobsWithoutAWorkdirGetAnEmptyFolderOfTheirOwnNotTheDataFolder() throws Exception {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\n");

        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            Path workdir = app.config().launcher().defaultWorkdir();
            assertThat(workdir).isNotEqualTo(dir.resolve("data")).startsWith(dir.resolve("data")).isDirectory()
                    .isEmptyDirectory();
        }
    }

    /**
     * review14 F11: the jobs' own folder, {@code <data-dir>/work}, was made only after the engine had
     * started (which may start jobs at once: those put back by the stop before an upgrade), and never
     * again: a job that found it missing (not made yet, or removed since by a script that cleaned up
     * after itself with {@code cd .. && rm -rf work}) failed to start, "working directory does not
     * exist". The launcher now makes buildhook's own default folder when a job needs it.
     */
    @Test
    void aJobWithoutAWorkdirStartsEvenWhenItsFolderIsMissing() throws Exception {
        Path out = dir.resolve("pwd.out");
        Files.writeString(dir.resolve("webhook-secret"), DeliveryServiceTest.SECRET + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: where\n    run: {command: [/bin/sh, -c,"
                + " 'pwd > " + out + "']}\n");
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: rules.yaml\n"
                + "endpoints: {default: {secrets: [{file: webhook-secret}]}}\n");

        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            Path workdir = app.config().launcher().defaultWorkdir();
            Files.delete(workdir);
            Receipt receipt = app.deliveries().receive(DeliveryServiceTest.signed(
                    DeliveryServiceTest.fixture("build-67-passed.json"), "default"));
            assertThat(receipt.kind()).isEqualTo(Receipt.Kind.ACCEPTED);
            String job = receipt.jobIds().get(0);
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> app.store().job(job)
                    .orElseThrow().job().state().isFinal());

            assertThat(app.store().job(job).orElseThrow().job().state()).as(app.store().job(job).orElseThrow().job()
                    .message()).isEqualTo(org.buildhook.runner.store.JobState.SUCCEEDED);
            assertThat(Files.readString(out).strip()).isEqualTo(workdir.toRealPath().toString());
        }
    }

    /**
     * chaos15 F1: the limit in force is that of a rule's newest stored job, so a lowered {@code concurrency}
     * held only once a new delivery stored a job: a job stored before the reload (or before a restart with
     * the edited file) started beside the running ones under the old limit. The application gives the jobs
     * still to run the rules' limit on every reload and at start.
     */
    @Test
    void aReloadAndARestartGiveTheJobsAlreadyStoredTheirRulesNewConcurrency() throws Exception {
        Path file = limitedDeployRule(2);
        Path rules = dir.resolve("rules.yaml");
        String rule = LIMITED_DEPLOY;
        String job;

        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            Receipt receipt = app.deliveries().receive(DeliveryServiceTest.signed(
                    DeliveryServiceTest.fixture("build-67-passed.json"), "default"));
            job = receipt.jobIds().get(0);
            assertThat(app.store().job(job).orElseThrow().job().concurrency()).isEqualTo(2);

            Files.writeString(rules, rule.formatted(1));
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(
                    app.store().job(job).orElseThrow().job().concurrency()).as("after the reload").isEqualTo(1));
        }
        Files.writeString(rules, rule.formatted(3));
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(app.store().job(job).orElseThrow().job().concurrency()).as("once started again").isEqualTo(3);
        }
    }

    /**
     * tryout58 F2: a rule's job series appeared with its first event, at 1, and Prometheus' {@code increase()} of a
     * series that appears at 1 is 0: the alert operations.md gives on {@code buildhook_jobs_finished_total} never fired
     * for a rule's first failure after a start. Every rule's and follow-up's series exist at 0 from the start, and
     * those of a rule a reload adds from the reload.
     */
    @Test
    void everyRulesJobSeriesExistAtZeroFromTheStartAndFromTheReloadThatAddsIt() throws Exception {
        Path file = limitedDeployRule(1);
        Path rules = dir.resolve("rules.yaml");
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            String atStart = app.metrics().scrape();
            for (String outcome : new String[] {"succeeded", "failed", "timed_out", "failed_to_start", "cancelled"}) {
                assertThat(BuildhookMetricsTest.value(atStart, "buildhook_jobs_finished_total{outcome=\"" + outcome
                        + "\",rule=\"deploy\"}")).as(outcome + " at the start").isEqualTo(0.0);
            }
            assertThat(BuildhookMetricsTest.value(atStart,
                    "buildhook_job_attempts_total{outcome=\"interrupted\",rule=\"deploy\"}")).isEqualTo(0.0);
            assertThat(atStart).as("a job's final state is never interrupted")
                    .doesNotContain("buildhook_jobs_finished_total{outcome=\"interrupted\"");

            Files.writeString(rules, LIMITED_DEPLOY.formatted(1) + "  - name: notify\n"
                    + "    run: {command: [/bin/true]}\n    on-failure: {command: [/bin/true]}\n");
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
                String reloaded = app.metrics().scrape();
                assertThat(BuildhookMetricsTest.value(reloaded,
                        "buildhook_jobs_finished_total{outcome=\"failed\",rule=\"notify\"}")).isEqualTo(0.0);
                assertThat(BuildhookMetricsTest.value(reloaded,
                        "buildhook_jobs_finished_total{outcome=\"failed\",rule=\"notify/on-failure\"}"))
                        .isEqualTo(0.0);
            });
        }
    }

    /**
     * tryout24 F1: a rule disabled in the rules file still ran its stored jobs: a deploy awaiting an approval
     * was approved after the reload and deployed. The reload cancels them, says so in its log, and an approval
     * is refused with why; the same for a rule a reload removes, and for a rule the file disables at a start.
     * rulesknown23 (tryout25 F4): a rule merely absent from the file at a start (in a cluster, maybe another
     * node's new rule) is not cancelled: its job stays until the file disables it.
     */
    @Test
    void aRuleDisabledOrRemovedByAReloadOrARestartRunsNoneOfItsStoredJobs() throws Exception {
        Path file = limitedDeployRule(0);
        Path rules = dir.resolve("rules.yaml");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger appLog =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(BuildhookApplication.class);
        log.start();
        appLog.addAppender(log);
        String removed;
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            String job = app.deliveries().receive(DeliveryServiceTest.signed(
                    DeliveryServiceTest.fixture("build-67-passed.json"), "default")).jobIds().get(0);
            Files.writeString(rules, "rules:\n  - name: deploy\n    enabled: false\n    approval: {}\n"
                    + "    run: {command: [/bin/true]}\n");
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> app.store().job(job)
                    .orElseThrow().job().state() != org.buildhook.runner.store.JobState.AWAITING_APPROVAL);
            org.buildhook.runner.store.Job cancelled = app.store().job(job).orElseThrow().job();
            assertThat(cancelled.state()).isEqualTo(org.buildhook.runner.store.JobState.CANCELLED);
            assertThat(cancelled.message()).startsWith("not started: its rule 'deploy' is disabled or removed in the"
                    + " rules in force on node ").contains("rules.yaml, loaded at ").endsWith("run it again with"
                    + " buildhook rerun once the rule is back");
            assertThat(app.store().approve(job, "alice")).isFalse();
            assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                    .startsWith("rule 'deploy' is disabled or removed in the rules in force on node ")
                    .contains(": 1 of its stored job(s) still to run (queued, waiting or awaiting an approval) will not"
                            + " run: cancelled (" + job + " (delivery ")
                    .endsWith(")); jobs of it already running go on"));

            Files.writeString(rules, LIMITED_DEPLOY.formatted(0));
            // Enabled again: a build delivered now makes a job that waits for its approval.
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> app.rules().current()
                    .ruleNames().contains("deploy"));
            removed = app.deliveries().receive(DeliveryServiceTest.signed(
                    DeliveryServiceTest.fixture("build-68-failed.json"), "default")).jobIds().get(0);
            assertThat(app.store().job(removed).orElseThrow().job().state())
                    .isEqualTo(org.buildhook.runner.store.JobState.AWAITING_APPROVAL);
            // Removed by a reload: this node had it in force, so its job is cancelled.
            Files.writeString(rules, "rules: []\n");
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> app.store().job(removed)
                    .orElseThrow().job().state() == org.buildhook.runner.store.JobState.CANCELLED);
            // Its WARN names the job this reload cancelled, not the one the first reload did (follow40: the jobs were
            // looked up by their message afterwards; now the store returns those it cancelled).
            org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> log.list.stream()
                    .filter(e -> e.getFormattedMessage().contains("will not run: cancelled")).count() == 2);
            assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                    .filteredOn(m -> m.contains("will not run: cancelled")).last().asString()
                    .contains(": 1 of its stored job(s) still to run (queued, waiting or awaiting an approval) will not"
                            + " run: cancelled (" + removed + " (delivery " + app.store().job(removed).orElseThrow()
                                    .job().deliveryId() + ")); jobs of it already running go on")
                    .doesNotContain(job);
        } finally {
            appLog.detachAppender(log);
        }
        Files.writeString(rules, LIMITED_DEPLOY.formatted(0));
        String absent;
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            absent = app.deliveries().receive(DeliveryServiceTest.signed(
                    DeliveryServiceTest.fixture("build-412-promoted.json"), "default")).jobIds().get(0);
        }
        Files.writeString(rules, "rules: []\n");
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(app.store().job(absent).orElseThrow().job().state()).as("a rule merely absent at a start")
                    .isEqualTo(org.buildhook.runner.store.JobState.AWAITING_APPROVAL);
        }
        Files.writeString(rules, "rules:\n  - name: deploy\n    enabled: false\n    approval: {}\n"
                + "    run: {command: [/bin/true]}\n");
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(app.store().job(absent).orElseThrow().job().state()).as("a rule disabled while stopped")
                    .isEqualTo(org.buildhook.runner.store.JobState.CANCELLED);
        }
    }

    /**
     * review15: the start gave the stored jobs the limits of the rules it had read, on the main thread, while
     * a reload of an edited rules file gave them its own on the watcher's thread: the start could write the
     * older file's limits last, and they stayed until the next reload. Here the reload comes, and is applied,
     * between the start's read of the rules and its write; the start's older limits are not written over it.
     */
    @Test
    void aReloadDuringTheStartIsNotUndoneByTheStartsOlderLimits() throws Exception {
        Path file = limitedDeployRule(2);
        Path rules = dir.resolve("rules.yaml");
        String rule = LIMITED_DEPLOY;
        String job;
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            job = app.deliveries().receive(DeliveryServiceTest.signed(
                    DeliveryServiceTest.fixture("build-67-passed.json"), "default")).jobIds().get(0);
        }
        Files.writeString(rules, rule.formatted(3));
        BuildhookApplication.beforeStartLimits = read -> {
            try {
                Files.writeString(rules, rule.formatted(4));
                Files.setLastModifiedTime(rules, FileTime.from(Instant.now().plusSeconds(10)));
                org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> storedLimit(job) == 4);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(app.store().job(job).orElseThrow().job().concurrency()).as("the reloaded file's").isEqualTo(4);
        } finally {
            BuildhookApplication.beforeStartLimits = read -> { };
        }
    }

    /**
     * tryout17 F4: a start (or reload) that gives the stored jobs another limit says which rule's, from what
     * to what. In a cluster a node whose rules file differs from the others' flips a limit at each start;
     * before, the line said only "1 job(s) still to run now go by their rule's concurrency in …".
     */
    @Test
    void aStartSaysWhichRulesLimitItChangedAndFromWhat() throws Exception {
        Path file = limitedDeployRule(2);
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            app.deliveries().receive(DeliveryServiceTest.signed(DeliveryServiceTest.fixture("build-67-passed.json"),
                    "default"));
        }
        Files.writeString(dir.resolve("rules.yaml"), LIMITED_DEPLOY.formatted(1));
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger appLog =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(BuildhookApplication.class);
        log.start();
        appLog.addAppender(log);
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                    .startsWith("rule 'deploy': 1 job(s) still to run now go by concurrency 1 in ")
                    .endsWith("rules.yaml (they were stored with concurrency 2)"));
        } finally {
            appLog.detachAppender(log);
        }
    }

    /**
     * tryout17 F4: nodes of a PostgreSQL cluster compare their rules' fingerprints (ClusterRulesTest); a
     * SQLite store has one node, which compares nothing and runs no thread for it.
     */
    @Test
    void aSqliteNodeComparesItsRulesWithNoOtherNode() throws Exception {
        Path file = limitedDeployRule(1);
        try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
            assertThat(app.clusterRulesDisagreement()).isEmpty();
            assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                    .doesNotContain("buildhook-cluster-rules");
        }
    }

    /** A rule "deploy" held for an approval, with {@code concurrency: %d}. */
    private static final String LIMITED_DEPLOY = "rules:\n  - name: deploy\n    approval: {}\n"
            + "    run: {command: [/bin/true], concurrency: %d}\n";

    /** Writes the webhook secret, {@link #LIMITED_DEPLOY} with {@code limit} and a configuration naming them. */
    /**
     * tryout33 F4: a job awaiting an approval at the backup awaits it again in the restored store, though it may have
     * been approved (and run) on the old server since; nothing said so. A start on a SQLite store restored from a
     * backup ({@code .backup} into a data folder of its own, without the original's lock file) says how many await
     * an approval and what to do; a start of the original's own data folder says nothing.
     */
    @Test
    void aStoreRestoredFromABackupSaysAtItsStartThatItsApprovalsMayHaveBeenGivenSince() throws Exception {
        Path file = limitedDeployRule(0);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger appLog =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(BuildhookApplication.class);
        log.start();
        appLog.addAppender(log);
        try {
            try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
                String job = app.deliveries().receive(DeliveryServiceTest.signed(
                        DeliveryServiceTest.fixture("build-67-passed.json"), "default")).jobIds().get(0);
                assertThat(app.store().job(job).orElseThrow().job().state())
                        .isEqualTo(org.buildhook.runner.store.JobState.AWAITING_APPROVAL);
                Files.createDirectories(dir.resolve("restored"));
                try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:"
                        + dir.resolve("data/buildhook.db")); java.sql.Statement st = c.createStatement()) {
                    st.executeUpdate("backup to " + dir.resolve("restored/buildhook.db"));
                }
            }
            try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(file))) {
                assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                        .noneMatch(m -> m.contains("await an approval in this store, restored or moved"));
            }
            Path restored = Files.writeString(dir.resolve("buildhook-restored.yaml"), "data-dir: restored\nrules:"
                    + " rules.yaml\nendpoints: {default: {secrets: [{file: webhook-secret}]}}\n");
            try (BuildhookApplication app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(restored))) {
                assertThat(log.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                        .extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                                .startsWith("1 job(s) await an approval in this store, restored or moved (its data"
                                        + " folder has no lock file of a server that served it")
                                .contains("an approval given again runs it again").contains("reject what already ran"));
            }
        } finally {
            appLog.detachAppender(log);
        }
    }

    private Path limitedDeployRule(int limit) throws java.io.IOException {
        Files.writeString(dir.resolve("webhook-secret"), DeliveryServiceTest.SECRET + "\n");
        Files.writeString(dir.resolve("rules.yaml"), LIMITED_DEPLOY.formatted(limit));
        return Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: rules.yaml\n"
                + "endpoints: {default: {secrets: [{file: webhook-secret}]}}\n");
    }

    /** The concurrency job {@code id} is stored with, read straight from the SQLite file. */
    private int storedLimit(String id) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data/buildhook.db"));
                java.sql.PreparedStatement p = c.prepareStatement("SELECT concurrency FROM jobs WHERE id = ?")) {
            p.setString(1, id);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        }
    }

    /**
     * review15: the secrets a start generates were written after the engine had started, which sweeps,
     * releases and picks jobs at once (those a stop before an upgrade put back in the queue): a start
     * refused because one could not be written (here: another start made the file meanwhile) had started
     * picking, and could start a job's command before it said it cannot start. They are written before the
     * engine picks anything.
     */
    @Test
    void aStartRefusedBecauseItsGeneratedSecretCannotBeWrittenPicksNoJob() throws Exception {
        Path ran = dir.resolve("ran");
        Files.writeString(dir.resolve("webhook-secret"), DeliveryServiceTest.SECRET + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: mark\n    run: {command: [/bin/sh, -c,"
                + " 'echo ran >> " + ran + "']}\n");
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: rules.yaml\n"
                + "admin: {token: generate}\nendpoints: {default: {secrets: [{file: webhook-secret}]}}\n");
        BuildhookConfig config = new ConfigLoader(Map.of(), dir).load(file);
        String job;
        try (Store store = Store.open(config.store())) {
            // Queued while no engine runs, as a stop before an upgrade leaves a job.
            RuleSet rules = new RuleSetLoader(Clock.systemUTC()).load(config.rulesFile());
            job = new DeliveryService(Map.of("default", SignatureVerifier.of(Secret.of(DeliveryServiceTest.SECRET))),
                    new BuildEventParser(), () -> rules, store, Clock.systemUTC())
                    .receive(DeliveryServiceTest.signed(DeliveryServiceTest.fixture("build-67-passed.json"), "default"))
                    .jobIds().get(0);
        }
        Path token = Files.writeString(config.dataDir().resolve("admin-token"), "another-start's-admin-token\n");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger engineLog = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(JobEngine.class);
        log.start();
        engineLog.addAppender(log);
        try {
            assertThatThrownBy(() -> BuildhookApplication.start(config)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("was created by another start while this one started");
        } finally {
            engineLog.detachAppender(log);
        }

        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).as("the engine never started picking")
                .noneSatisfy(m -> assertThat(m).contains("job engine started"));
        try (Store store = Store.open(config.store())) {
            JobDetail detail = store.job(job).orElseThrow();
            assertThat(detail.job().state()).isEqualTo(JobState.QUEUED);
            assertThat(detail.attempts()).isEmpty();
        }
        assertThat(ran).doesNotExist();
        assertThat(token).hasContent("another-start's-admin-token");
    }

    private static FileTime anHourAgo() {
        return FileTime.from(Instant.now().minus(Duration.ofHours(1)));
    }

    /** The stop's first line: on PostgreSQL the other nodes run the deliveries' jobs at once (cluster27 F2). */
    @Test
    void theStopsFirstLineSaysWhereTheJobsOfDeliveriesStillAcceptedRun() {
        assertThat(BuildhookApplication.stoppingLine(true, Duration.ofSeconds(30))).isEqualTo("stopping: deliveries are"
                + " still accepted and stored, their jobs are run by the other nodes (or by this one after its next"
                + " start); running jobs get up to 30s (runner.shutdown-grace); /healthz answers 503 meanwhile");
        assertThat(BuildhookApplication.stoppingLine(false, Duration.ofSeconds(30))).isEqualTo("stopping: deliveries"
                + " are still accepted and stored, their jobs wait for the next start; running jobs get up to 30s"
                + " (runner.shutdown-grace); /healthz answers 503 meanwhile");
    }
}
