package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.Secret;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.runner.engine.JobEvents;
import org.buildhook.runner.rules.RuleException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.RulesWatcher;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The recording points of {@link BuildhookMetrics}, read back from a real scrape. */
class BuildhookMetricsTest {

    @TempDir
    Path dir;
    final BuildhookMetrics metrics = BuildhookMetrics.create(Set.of("default", "lmp"), false);

    @AfterEach
    void close() {
        metrics.close();
    }

    /** The value of one series in a scrape, or null when the series is not there. */
    static Double value(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
        return m.find() ? Double.valueOf(m.group(1)) : null;
    }

    @Test
    void countsDeliveriesByEndpointAndOutcomeWithAnUnconfiguredEndpointAsUnknown() {
        metrics.delivery("lmp", BuildhookMetrics.DeliveryOutcome.ACCEPTED);
        metrics.delivery("lmp", BuildhookMetrics.DeliveryOutcome.ACCEPTED);
        metrics.delivery("lmp", BuildhookMetrics.DeliveryOutcome.TOO_LARGE);
        metrics.delivery("whatever-a-client-typed", BuildhookMetrics.DeliveryOutcome.UNKNOWN_ENDPOINT);
        metrics.delivery(null, BuildhookMetrics.DeliveryOutcome.UNKNOWN_ENDPOINT);

        String scrape = metrics.scrape();

        assertThat(value(scrape, "buildhook_deliveries_total{endpoint=\"lmp\",outcome=\"accepted\"}")).isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_deliveries_total{endpoint=\"lmp\",outcome=\"too_large\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_deliveries_total{endpoint=\"_unknown\",outcome=\"unknown_endpoint\"}"))
                .isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_deliveries_total{endpoint=\"default\",outcome=\"unavailable\"}"))
                .as("every configured endpoint's series exists from the start").isEqualTo(0.0);
        assertThat(scrape).doesNotContain("whatever-a-client-typed");
    }

    @Test
    void theDeliveryServiceCountsSignatureFailuresByReason() throws IOException {
        try (Store store = Store.open(StoreConfig.sqlite(dir).withRetention(StoreConfig.DEFAULT_RETENTION,
                Duration.ZERO))) {
            DeliveryService service = new DeliveryService(Map.of("default", SignatureVerifier.of(
                    Secret.of(DeliveryServiceTest.SECRET))), new BuildEventParser(),
                    () -> RuleSet.empty(Path.of("rules.yaml"), Clock.systemUTC().instant()), store, Clock.systemUTC(),
                    metrics);
            byte[] body = DeliveryServiceTest.fixture("build-67-passed.json");

            service.receive(new IncomingDelivery("default", body, List.of(), Map.of(), "192.0.2.7"));
            service.receive(new IncomingDelivery("default", body, List.of("sha256:abc"), Map.of(), "192.0.2.7"));
            service.receive(new IncomingDelivery("default", body, List.of("sha256:" + "0".repeat(64)), Map.of(),
                    "192.0.2.7"));
            Receipt good = service.receive(DeliveryServiceTest.signed(body, "default"));

            String scrape = metrics.scrape();
            assertThat(good.kind()).isEqualTo(Receipt.Kind.ACCEPTED);
            assertThat(value(scrape, "buildhook_signature_failures_total{endpoint=\"default\",reason=\"missing\"}"))
                    .isEqualTo(1.0);
            assertThat(value(scrape, "buildhook_signature_failures_total{endpoint=\"default\",reason=\"bad_length\"}"))
                    .isEqualTo(1.0);
            assertThat(value(scrape, "buildhook_signature_failures_total{endpoint=\"default\",reason=\"no_match\"}"))
                    .isEqualTo(1.0);
            assertThat(value(scrape, "buildhook_signature_failures_total{endpoint=\"default\",reason=\"not_hex\"}"))
                    .isEqualTo(0.0);
        }
    }

    /**
     * nodes29: the nodes by state, read once per round of the store's reads for the three series; a failing read is
     * NaN, not an error.
     */
    @Test
    void theClusterNodesAreReadOncePerRoundAndAFailingReadIsNaN() {
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean();
        metrics.clusterNodes(() -> {
            reads.incrementAndGet();
            if (down.get()) {
                throw new org.buildhook.runner.store.StoreUnavailableException("the store is away", null);
            }
            return new org.buildhook.runner.store.ClusterNodes.Counts(2, 1, 0);
        });

        metrics.readStoreNow();
        String text = metrics.scrape();

        assertThat(reads).hasValue(1);
        assertThat(text).contains("# TYPE buildhook_cluster_nodes gauge",
                "buildhook_cluster_nodes{state=\"running\"} 2.0", "buildhook_cluster_nodes{state=\"silent\"} 1.0",
                "buildhook_cluster_nodes{state=\"gone\"} 0.0");
        assertThat(metrics.scrape()).contains("buildhook_store_up 1.0");
        assertThat(reads).as("a scrape does not read the store").hasValue(1);
        down.set(true);
        metrics.readStoreNow();
        assertThat(metrics.scrape()).contains("buildhook_cluster_nodes{state=\"silent\"} NaN", "buildhook_store_up 0.0");
        assertThat(reads).hasValue(2);
    }

    @Test
    void acceptLatencyIsAHistogramInSeconds() {
        metrics.accepted("default", Duration.ofMillis(3));
        metrics.accepted("default", Duration.ofMillis(30));

        String scrape = metrics.scrape();

        assertThat(value(scrape, "buildhook_accept_latency_seconds_count{endpoint=\"default\"}")).isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_accept_latency_seconds_bucket{endpoint=\"default\",le=\"0.005\"}"))
                .isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_accept_latency_seconds_bucket{endpoint=\"default\",le=\"0.05\"}"))
                .isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_accept_latency_seconds_sum{endpoint=\"default\"}")).isEqualTo(0.033);
    }

    @Test
    void jobAttemptsAreCountedByRuleAndEndingAndTimedByRule() {
        JobEvents events = metrics.jobEvents();

        events.attemptEnded("deploy", JobEvents.Ending.FAILED, Duration.ofSeconds(2));
        events.attemptEnded("deploy", JobEvents.Ending.SUCCEEDED, Duration.ofSeconds(40));
        events.attemptEnded("notify", JobEvents.Ending.INTERRUPTED, Duration.ofMillis(50));

        String scrape = metrics.scrape();
        assertThat(value(scrape, "buildhook_job_attempts_total{outcome=\"failed\",rule=\"deploy\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_job_attempts_total{outcome=\"succeeded\",rule=\"deploy\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_job_attempts_total{outcome=\"interrupted\",rule=\"notify\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_job_duration_seconds_count{rule=\"deploy\"}")).isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_job_duration_seconds_bucket{rule=\"deploy\",le=\"5.0\"}")).isEqualTo(1.0);
    }

    /**
     * wording15: an attempt whose end nobody recorded (its node died on another host) was observed as
     * 0 s, pulling the duration histogram towards nothing; it is counted, and not timed.
     */
    @Test
    void anAttemptWhoseEndIsUnknownIsCountedButNotTimed() {
        JobEvents events = metrics.jobEvents();

        events.attemptEnded("deploy", JobEvents.Ending.SUCCEEDED, Duration.ofSeconds(40));
        events.attemptEnded("deploy", JobEvents.Ending.FAILED, null);

        String scrape = metrics.scrape();
        assertThat(value(scrape, "buildhook_job_attempts_total{outcome=\"failed\",rule=\"deploy\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_job_duration_seconds_count{rule=\"deploy\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_job_duration_seconds_bucket{rule=\"deploy\",le=\"0.1\"}")).isEqualTo(0.0);
    }

    @Test
    void jobsAreCountedByRuleAndFinalOutcomeAndShortDurationsHaveFineBuckets() {
        JobEvents events = metrics.jobEvents();

        events.jobEnded("deploy", JobEvents.Ending.FAILED);
        events.jobEnded("deploy", JobEvents.Ending.TIMED_OUT);
        events.jobEnded("deploy", JobEvents.Ending.FAILED);
        events.attemptEnded("deploy", JobEvents.Ending.SUCCEEDED, Duration.ofMillis(2_200));

        String scrape = metrics.scrape();
        assertThat(value(scrape, "buildhook_jobs_finished_total{outcome=\"failed\",rule=\"deploy\"}")).isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_jobs_finished_total{outcome=\"timed_out\",rule=\"deploy\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_job_duration_seconds_bucket{rule=\"deploy\",le=\"2.0\"}")).isEqualTo(0.0);
        assertThat(value(scrape, "buildhook_job_duration_seconds_bucket{rule=\"deploy\",le=\"2.5\"}")).isEqualTo(1.0);
        for (String le : new String[] {"1.0", "1.5", "2.0", "2.5", "3.0", "4.0", "5.0"}) {
            assertThat(scrape).contains("buildhook_job_duration_seconds_bucket{rule=\"deploy\",le=\"" + le + "\"}");
        }
    }

    @Test
    void aRefusedRulesFileShowsAsAGaugeUntilAGoodOneIsLoaded() {
        var listener = metrics.rulesListener();
        assertThat(value(metrics.scrape(), "buildhook_rules_refused")).isEqualTo(0.0);

        listener.refused(new org.buildhook.runner.rules.RuleException(List.of(
                new org.buildhook.runner.rules.Problem("rules.yaml", 1, 1, "broken"))));
        assertThat(value(metrics.scrape(), "buildhook_rules_refused")).isEqualTo(1.0);

        listener.reloaded(org.buildhook.runner.rules.RuleSet.empty(java.nio.file.Path.of("rules.yaml"),
                java.time.Instant.now()));
        assertThat(value(metrics.scrape(), "buildhook_rules_refused")).isEqualTo(0.0);
    }

    @Test
    void aRefusedRulesFileRevertedToTheRulesInForceEndsTheGauge() {
        var listener = metrics.rulesListener();
        listener.refused(new org.buildhook.runner.rules.RuleException(List.of(
                new org.buildhook.runner.rules.Problem("rules.yaml", 1, 1, "broken"))));
        assertThat(value(metrics.scrape(), "buildhook_rules_refused")).isEqualTo(1.0);

        listener.validAgain(org.buildhook.runner.rules.RuleSet.empty(java.nio.file.Path.of("rules.yaml"),
                java.time.Instant.now()));
        assertThat(value(metrics.scrape(), "buildhook_rules_refused")).isEqualTo(0.0);
        assertThat(value(metrics.scrape(), "buildhook_rules_reloads_total")).as("nothing was reloaded").isEqualTo(0.0);
    }

    @Test
    void theBuildInfoNamesTheVersionAndTheCommitAsPrometheusExportersDo() {
        assertThat(metrics.scrape()).containsPattern("buildhook_build_info\\{java_version=\"[^\"]+\",revision=\""
                + java.util.regex.Pattern.quote(BuildInfo.revision()) + "\",version=\""
                + java.util.regex.Pattern.quote(BuildInfo.version()) + "\"\\} 1(\\.0)?\n");
        assertThat(BuildInfo.revision()).matches("[0-9a-f]{8}(-dirty)?|unknown");
    }

    @Test
    void theGaugesFromTheStoreReadItOncePerRoundAndTheOthersAtEachScrape() {
        AtomicInteger reads = new AtomicInteger();
        metrics.queueDepth(() -> {
            reads.incrementAndGet();
            return 7;
        });
        metrics.runningJobs(() -> 2);
        metrics.awaitingApproval(() -> 3);
        metrics.retryWaiting(() -> 4);

        metrics.readStoreNow();
        String scrape = metrics.scrape();
        metrics.scrape();

        assertThat(value(scrape, "buildhook_jobs_queued")).isEqualTo(7.0);
        assertThat(value(scrape, "buildhook_jobs_retry_waiting")).isEqualTo(4.0);
        assertThat(value(scrape, "buildhook_jobs_running")).isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_jobs_awaiting_approval")).isEqualTo(3.0);
        assertThat(reads).hasValue(1);
    }

    @Test
    void eachDeclaredSharedResourceHasAGaugeOfItsUnitsInUse() {
        java.util.Map<String, Integer> declared = new java.util.concurrent.ConcurrentHashMap<>(java.util.Map.of("boards", 3));
        metrics.sharedResources(() -> declared, () -> java.util.Map.of("boards", 2, "phones", 1), () -> 4);

        metrics.readStoreNow();
        String scrape = metrics.scrape();
        declared.put("phones", 2);
        String later = metrics.scrape();

        assertThat(value(scrape, "buildhook_resource_units_in_use{resource=\"boards\"}")).isEqualTo(2.0);
        assertThat(scrape).doesNotContain("resource=\"phones\"");
        assertThat(value(later, "buildhook_resource_units_in_use{resource=\"phones\"}")).isEqualTo(1.0);
        assertThat(value(scrape, "buildhook_jobs_waiting")).isEqualTo(4.0);
    }

    @Test
    void storeCommitsAndTheTransactionsTheyCarriedAreCountersReadAtScrape() {
        java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong(3);
        java.util.concurrent.atomic.AtomicLong transactions = new java.util.concurrent.atomic.AtomicLong(40);
        metrics.storeCommits(() -> commits.get(), () -> transactions.get());

        assertThat(value(metrics.scrape(), "buildhook_store_commits_total")).isEqualTo(3.0);
        System.gc(); // the registry must hold the suppliers itself
        commits.set(5);
        transactions.set(90);
        String scrape = metrics.scrape();
        assertThat(value(scrape, "buildhook_store_commits_total")).isEqualTo(5.0);
        assertThat(value(scrape, "buildhook_store_transactions_total")).isEqualTo(90.0);
    }

    @Test
    void theOrphanFilesRetentionRemovedAreCountersByKindReadAtScrape() {
        java.util.concurrent.atomic.AtomicLong folders = new java.util.concurrent.atomic.AtomicLong(2);
        java.util.concurrent.atomic.AtomicLong copies = new java.util.concurrent.atomic.AtomicLong();
        metrics.retentionOrphans(() -> folders.get(), () -> copies.get());

        assertThat(value(metrics.scrape(), "buildhook_retention_orphans_removed_total{kind=\"payload_copy\"}"))
                .isEqualTo(0.0);
        System.gc(); // the registry must hold the suppliers itself
        folders.set(7);
        copies.set(1);
        String scrape = metrics.scrape();
        assertThat(value(scrape, "buildhook_retention_orphans_removed_total{kind=\"log_folder\"}")).isEqualTo(7.0);
        assertThat(value(scrape, "buildhook_retention_orphans_removed_total{kind=\"payload_copy\"}")).isEqualTo(1.0);
    }

    @Test
    void aQueueThatCannotBeReadShowsAsNaNAndTheScrapeStillAnswers() {
        metrics.queueDepth(() -> {
            throw new IllegalStateException("injected: the store does not answer");
        });
        metrics.delivery("lmp", BuildhookMetrics.DeliveryOutcome.ACCEPTED);

        metrics.readStoreNow();
        String scrape = metrics.scrape();

        assertThat(value(scrape, "buildhook_jobs_queued")).isNaN();
        assertThat(value(scrape, "buildhook_store_up")).isZero();
        assertThat(value(scrape, "buildhook_deliveries_total{endpoint=\"lmp\",outcome=\"accepted\"}")).isEqualTo(1.0);
    }

    /**
     * metrics32 left the store-away WARN out of troubleshooting.md: the line an operator searches for there must be
     * the one this node logs, as it logs it (up to its reason), and so must the line of its end.
     */
    @Test
    void theStoreAwayLinesOfTheMetricsAreTheOnesTroubleshootingNames() throws IOException {
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(StoreSnapshot.class);
        log.start();
        logger.addAppender(log);
        java.util.concurrent.atomic.AtomicBoolean away = new java.util.concurrent.atomic.AtomicBoolean(true);
        try {
            metrics.queueDepth(() -> {
                if (away.get()) {
                    throw new org.buildhook.runner.store.StoreUnavailableException("injected: connection refused",
                            null);
                }
                return 3L;
            });
            metrics.readStoreNow();
            away.set(false);
            metrics.readStoreNow();
        } finally {
            logger.detachAppender(log);
        }

        String troubleshooting = Files.readString(Docs.root().resolve("docs/troubleshooting.md"));
        assertThat(log.list).extracting(e -> e.getLevel().toString()).containsExactly("WARN", "INFO");
        for (ch.qos.logback.classic.spi.ILoggingEvent e : log.list) {
            String line = e.getFormattedMessage();
            int reason = line.indexOf(" (");
            String searched = reason < 0 ? line : line.substring(0, reason);
            assertThat(troubleshooting).as("troubleshooting.md names the %s line", e.getLevel()).contains(searched);
        }
    }

    @Test
    void rulesReloadsAndRefusalsAreCounted() {
        metrics.rulesListener().reloaded(RuleSet.empty(Path.of("rules.yaml"), Clock.systemUTC().instant()));
        metrics.rulesListener().reloaded(RuleSet.empty(Path.of("rules.yaml"), Clock.systemUTC().instant()));
        metrics.rulesListener().refused(new RuleException(List.of(new org.buildhook.runner.rules.Problem("rules.yaml", 3, 5, "a typo"))));

        String scrape = metrics.scrape();

        assertThat(value(scrape, "buildhook_rules_reloads_total")).isEqualTo(2.0);
        assertThat(value(scrape, "buildhook_rules_reload_failures_total")).isEqualTo(1.0);
    }

    @Test
    void aRealRulesWatcherCountsARefusedEditAndTheFixThatFollows() throws IOException {
        Path file = Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: a\n    run: {command: [/bin/true]}\n");
        try (RulesWatcher watcher = RulesWatcher.start(file, new RuleSetLoader(Clock.systemUTC()),
                Duration.ofMillis(50), metrics.rulesListener())) {
            replace(file, "rules:\n  - name: a\n    runn: {command: [/bin/true]}\n");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(value(metrics.scrape(), "buildhook_rules_reload_failures_total")).isEqualTo(1.0));
            double before = value(metrics.scrape(), "buildhook_rules_reloads_total");

            replace(file, "rules:\n  - name: b\n    run: {command: [/bin/true]}\n");

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(value(metrics.scrape(), "buildhook_rules_reloads_total")).isEqualTo(before + 1));
            assertThat(watcher.current().ruleNames()).containsExactly("b");
        }
    }

    /** As an editor saves: the watcher never sees a half-written file, so each edit counts once. */
    private void replace(Path file, String content) throws IOException {
        Path next = Files.writeString(dir.resolve("rules.yaml.new"), content);
        Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void jvmMetricsAreThereWhenAskedFor() {
        try (BuildhookMetrics withJvm = BuildhookMetrics.create(Set.of("default"), true)) {
            String scrape = withJvm.scrape();

            assertThat(scrape).contains("jvm_memory_used_bytes{", "jvm_threads_live_threads ", "process_uptime_seconds ",
                    "process_cpu_usage ");
            assertThat(scrape).containsPattern("(?m)^jvm_gc_");
        }
    }

    /**
     * Both ways (tryout32 F6): every metric is in operations.md's chapter, and every {@code buildhook_} name there is a
     * metric (a series' suffix, {@code _bucket}, {@code _count}, {@code _sum}, {@code _max}, aside).
     */
    @Test
    void theOperatorDocsNameEveryMetricAndNoOther() throws IOException {
        String text = Docs.section("operations.md", "## Metrics");

        assertThat(BuildhookMetrics.names()).allSatisfy(name -> assertThat(text).contains("`" + name));
        java.util.Set<String> named = new java.util.TreeSet<>();
        Matcher m = Pattern.compile("buildhook_[a-z_]+").matcher(text);
        while (m.find()) {
            named.add(m.group().replaceFirst("_(bucket|count|sum|max)$", ""));
        }
        assertThat(named).isSubsetOf(BuildhookMetrics.names());
    }

    /**
     * Every gauge this node registers is in {@link BuildhookMetrics#names()} (which the docs test above checks): each
     * recording point registered, then one scrape's {@code # TYPE} lines.
     */
    @Test
    void everyMetricRegisteredIsNamed() {
        metrics.refusedBuilds(() -> 0);
        metrics.queueDepth(() -> 0);
        metrics.retryWaiting(() -> 0);
        metrics.awaitingApproval(() -> 0);
        metrics.sharedResources(() -> Map.of("boards", 1), Map::of, () -> 0);
        metrics.runningJobs(() -> 0);
        metrics.jobsAwaitingRecord(() -> 0);
        metrics.jobsPaused(() -> false);
        metrics.retentionOrphans(() -> 0, () -> 0);
        metrics.clusterNodes(() -> new org.buildhook.runner.store.ClusterNodes.Counts(1, 0, 0));
        metrics.storeCommits(() -> 0, () -> 0);
        metrics.watchdog(() -> true);
        metrics.rulesDifferingNodes(() -> 0);
        metrics.delivery("lmp", BuildhookMetrics.DeliveryOutcome.ACCEPTED);
        metrics.jobEvents().attemptEnded("deploy", JobEvents.Ending.SUCCEEDED, Duration.ofSeconds(1));
        metrics.jobEvents().jobEnded("deploy", JobEvents.Ending.SUCCEEDED);
        metrics.unknownPath("GET");
        metrics.readStoreNow();

        Matcher m = Pattern.compile("(?m)^# TYPE (buildhook_[a-z_]+) ").matcher(metrics.scrape());
        java.util.Set<String> registered = new java.util.TreeSet<>();
        while (m.find()) {
            registered.add(m.group(1).replaceFirst("_max$", ""));
        }
        assertThat(registered).containsExactlyInAnyOrderElementsOf(BuildhookMetrics.names());
    }

    /**
     * tryout32 F3: a scrape never waits on the store. A read that hangs (a latch held, as a database that does not
     * answer) leaves the scrape the last round's values; once the round has lasted over the answer bound (an
     * injected clock), {@code buildhook_store_up} is 0 and the store's gauges NaN, still without waiting; the store
     * answering again brings them back. Before, each scrape read the store and waited with it.
     */
    @Test
    void aScrapeAnswersWhileTheStoreHangsAndSaysTheStoreIsAway() throws Exception {
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.CountDownLatch hung = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean hangs = new java.util.concurrent.atomic.AtomicBoolean();
        try (BuildhookMetrics timed = BuildhookMetrics.create(Set.of("default"), false, nanos::get)) {
            timed.queueDepth(() -> {
                if (hangs.get()) {
                    hung.countDown();
                    try {
                        answer.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return 7;
            });
            timed.runningJobs(() -> 1);
            AutoCloseable reads = timed.startStoreReads();
            await().atMost(Duration.ofSeconds(30)).until(() -> value(timed.scrape(), "buildhook_jobs_queued") == 7.0);
            assertThat(value(timed.scrape(), "buildhook_store_up")).isEqualTo(1.0);

            hangs.set(true);
            nanos.addAndGet(StoreSnapshot.EVERY.toNanos()); // not needed by the thread's own timer; the age grows
            assertThat(hung.await(2, java.util.concurrent.TimeUnit.MINUTES)).as("a round reads the store").isTrue();
            String during = timed.scrape(); // the read hangs meanwhile: the latch is held
            assertThat(answer.getCount()).isOne();
            assertThat(value(during, "buildhook_jobs_queued")).as("the last round's value").isEqualTo(7.0);
            assertThat(value(during, "buildhook_store_up")).isEqualTo(1.0);
            assertThat(value(during, "buildhook_jobs_running")).isEqualTo(1.0);

            nanos.addAndGet(StoreSnapshot.ANSWER_BOUND.toNanos() + 1);
            String away = timed.scrape();
            assertThat(answer.getCount()).isOne();
            assertThat(value(away, "buildhook_store_up")).isZero();
            assertThat(value(away, "buildhook_jobs_queued")).isNaN();
            assertThat(value(away, "buildhook_store_snapshot_age_seconds")).as(away)
                    .isGreaterThan(StoreSnapshot.ANSWER_BOUND.toSeconds());
            assertThat(value(away, "buildhook_jobs_running")).isEqualTo(1.0);

            hangs.set(false);
            answer.countDown();
            await().atMost(Duration.ofSeconds(30)).until(() -> value(timed.scrape(), "buildhook_store_up") == 1.0);
            assertThat(value(timed.scrape(), "buildhook_jobs_queued")).isEqualTo(7.0);
            reads.close();
        }
    }
}
