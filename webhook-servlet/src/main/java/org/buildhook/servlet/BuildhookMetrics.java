package org.buildhook.servlet;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.buildhook.core.Verification;
import org.buildhook.runner.engine.JobEvents;
import org.buildhook.runner.rules.RuleException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RulesWatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics of one running buildhook, in a Prometheus registry of its own (never Micrometer's
 * global one), so that undeploying the WAR leaves nothing behind: {@link #close} releases the
 * registry and the JVM listeners. Every name is documented in docs/operations.md, chapter "Metrics".
 *
 * <p>Label values are bounded: an endpoint label is always a configured endpoint name (anything
 * else a client typed becomes {@value #UNKNOWN}), a rule label a rule name from the rules file.
 */
public final class BuildhookMetrics implements AutoCloseable {

    /** The endpoint label of a request to an endpoint that is not configured. */
    public static final String UNKNOWN = "_unknown";

    private static final Logger LOG = LoggerFactory.getLogger(BuildhookMetrics.class);
    private static final Duration[] ACCEPT_BUCKETS = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1, 1.5, 2, 2.5, 3, 4, 5, 10);
    // Fine between 1 and 5 s, where short deploy and notify scripts end, so their p95 is not "somewhere under 5 s".
    private static final Duration[] JOB_BUCKETS = seconds(0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 30, 60,
            120, 300, 600, 1800, 3600);

    /**
     * What a delivery came to, as the {@code outcome} label says it: {@code TIMED_OUT} is a body not
     * complete within {@code server.request-timeout} ({@code 408}).
     */
    public enum DeliveryOutcome {
        ACCEPTED, DUPLICATE, REJECTED, UNAUTHORIZED, TOO_LARGE, TIMED_OUT, UNKNOWN_ENDPOINT, UNAVAILABLE;

        static DeliveryOutcome of(Receipt.Kind kind) {
            switch (kind) {
                case ACCEPTED:
                    return ACCEPTED;
                case DUPLICATE:
                    return DUPLICATE;
                case UNKNOWN_ENDPOINT:
                    return UNKNOWN_ENDPOINT;
                case UNAUTHORIZED:
                    return UNAUTHORIZED;
                case INVALID:
                    return REJECTED;
                default:
                    return UNAVAILABLE;
            }
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final PrometheusMeterRegistry registry;
    private final List<Object> held = new CopyOnWriteArrayList<>();
    private final Map<String, EndpointMeters> byEndpoint;
    private final JvmMeters jvm;
    private final java.util.concurrent.atomic.AtomicBoolean rulesRefused = new java.util.concurrent.atomic.AtomicBoolean();
    /** The gauges' values read from the store, in the background: a scrape never waits on it (tryout32 F3). */
    private final StoreSnapshot store;

    private BuildhookMetrics(Set<String> endpoints, boolean withJvm, java.util.function.LongSupplier nanos) {
        this.store = new StoreSnapshot(nanos);
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmMeters.names(registry); // filters before the first meter, as Micrometer requires
        Map<String, EndpointMeters> meters = new java.util.HashMap<>();
        // Every endpoint's series exist from the start at 0, so rate() and alerts see the first event.
        for (String endpoint : Set.copyOf(endpoints)) {
            EndpointMeters m = new EndpointMeters(endpoint);
            for (DeliveryOutcome outcome : DeliveryOutcome.values()) {
                m.deliveries(outcome);
            }
            for (Verification.Failure failure : Verification.Failure.values()) {
                m.signatureFailures(failure);
            }
            m.latency();
            meters.put(endpoint, m);
        }
        // The unknown endpoint's series appear with their first event.
        meters.putIfAbsent(UNKNOWN, new EndpointMeters(UNKNOWN));
        this.byEndpoint = Map.copyOf(meters);
        rulesCounter("buildhook.rules.reloads", "Rules files loaded and put in force");
        rulesCounter("buildhook.rules.reload.failures", "Changed rules files refused (the previous rules stay in force)");
        unknownPaths();
        Gauge.builder("buildhook.rules.refused", rulesRefused, r -> r.get() ? 1 : 0)
                .description("1 while the rules file on disk is refused (a mistake in it) and older rules are in"
                        + " force; 0 otherwise").register(registry);
        Gauge.builder("buildhook.build.info", () -> 1)
                .description("The buildhook version and commit running, and its Java, as labels")
                .tags("version", BuildInfo.version(), "revision", BuildInfo.revision(),
                        "java_version", System.getProperty("java.version", "unknown"))
                .register(registry);
        this.jvm = withJvm ? JvmMeters.bind(registry) : null;
    }

    /**
     * Metrics for the given configured endpoints.
     *
     * @param withJvm whether to add the JVM and process meters (memory, GC, threads, uptime, CPU)
     */
    public static BuildhookMetrics create(Set<String> endpoints, boolean withJvm) {
        return new BuildhookMetrics(endpoints, withJvm, System::nanoTime);
    }

    /** As {@link #create}, with the monotonic clock (nanoseconds) that times the store's reads; for tests. */
    static BuildhookMetrics create(Set<String> endpoints, boolean withJvm, java.util.function.LongSupplier nanos) {
        return new BuildhookMetrics(endpoints, withJvm, nanos);
    }

    /**
     * Starts reading the gauges that come from the store ({@code buildhook_jobs_queued} …, registered before) on a
     * thread of its own, {@code buildhook-metrics-store}, {@link StoreSnapshot#EVERY} after each round ends; the first
     * round on the caller's thread, before this returns. A scrape shows the last round's values and never waits on the store; {@code buildhook_store_up} says
     * whether the store answered them. Stopped by closing what this returns, or these metrics.
     *
     * @return what ends the reads (before the store closes)
     */
    public AutoCloseable startStoreReads() {
        store.start();
        return store;
    }

    /**
     * As {@link #startStoreReads()}, each read bounded through {@code bounds} ({@code Store::readWithin}) by {@link
     * StoreSnapshot#READ_BOUND} (10 s): one that waits longer for the database fails as the store unavailable, and the
     * next round, {@link StoreSnapshot#EVERY} later, reads again, so a database that stops answering with the
     * connection open cannot hold the reading thread for good.
     *
     * @return what ends the reads (before the store closes)
     */
    AutoCloseable startStoreReads(StoreSnapshot.Bounds bounds) {
        store.start(bounds);
        return store;
    }

    /** Reads the gauges that come from the store once, on the caller's thread; for tests. */
    void readStoreNow() {
        store.round();
    }

    /** The value read from the store, or NaN when unknown ({@link StoreSnapshot}). */
    private static double known(StoreSnapshot.Read<? extends Number> read) {
        Number n = read.value();
        return n == null ? Double.NaN : n.doubleValue();
    }

    /**
     * Adds a value the gauges read from the store; the first one also registers {@code buildhook_store_up} and
     * {@code buildhook_store_snapshot_age_seconds}.
     */
    private <T> StoreSnapshot.Read<T> fromStore(String what, Supplier<T> source) {
        boolean first = !store.reads();
        StoreSnapshot.Read<T> read = store.add(what, source);
        if (first) {
            Gauge.builder("buildhook.store.up", store, s -> s.up() ? 1 : 0)
                    .description("1 while the store answers the reads of the gauges that come from it (the last"
                            + " round read them all, and none has lasted over 10 s), 0 otherwise; those gauges are"
                            + " NaN then").register(registry);
            Gauge.builder("buildhook.store.snapshot.age", store, StoreSnapshot::ageSeconds).baseUnit("seconds")
                    .description("Seconds since the gauges that come from the store were last read in full (since"
                            + " the start when never); they are read every 5 s").register(registry);
        }
        return read;
    }

    /** Counts one answered delivery; {@code endpoint} may be anything a client sent. */
    public void delivery(String endpoint, DeliveryOutcome outcome) {
        meters(endpoint).deliveries(outcome).increment();
    }

    /** Counts one refused signature of a configured endpoint. */
    public void signatureFailure(String endpoint, Verification.Failure failure) {
        meters(endpoint).signatureFailures(failure).increment();
    }

    /** Records the time from the body read to the answer of one delivery. */
    public void accepted(String endpoint, Duration took) {
        meters(endpoint).latency().record(took);
    }

    /** Counts one request to a path of the application that does not exist (e.g. {@code /webhooks}). */
    public void unknownPath(String method) {
        unknownPaths().increment();
    }

    /**
     * The gauge {@code buildhook_refused_builds}: the builds this node answered 503 (store unavailable) that no
     * later delivery stored, the ones to re-send ({@code GET /api/refused-builds}); this node's, in memory, so a
     * restart sets it back to 0. {@code listed} is read once per scrape.
     */
    public void refusedBuilds(LongSupplier listed) {
        Gauge.builder("buildhook.refused.builds", () -> read(listed, "builds to re-send"))
                .description("Builds answered 503 (store unavailable) and not stored by a later delivery since:"
                        + " the ones to re-send (this node, since its start or the list's dismissal)")
                .register(registry);
    }

    /** The queued-jobs gauge: {@code queued} is read from the store in the background ({@link #startStoreReads}). */
    public void queueDepth(LongSupplier queued) {
        StoreSnapshot.Read<Long> read = fromStore("queued jobs", queued::getAsLong);
        Gauge.builder("buildhook.jobs.queued", read, BuildhookMetrics::known)
                .description("Jobs waiting for their first run, a retry or a free slot (all nodes)")
                .register(registry);
    }

    /**
     * The gauge of the queued jobs in a retry's backoff (all nodes), among {@code buildhook.jobs.queued}, which
     * keeps counting them: {@code waiting} is read from the store in the background ({@link #startStoreReads}).
     */
    public void retryWaiting(LongSupplier waiting) {
        StoreSnapshot.Read<Long> read = fromStore("jobs waiting for a retry", waiting::getAsLong);
        Gauge.builder("buildhook.jobs.retry.waiting", read, BuildhookMetrics::known)
                .description("Of the queued jobs, those in a retry's backoff, not due yet (all nodes)")
                .register(registry);
    }

    /**
     * The gauge of jobs awaiting an approval (all nodes): {@code awaiting} is read from the store in the background
     * ({@link #startStoreReads}).
     */
    public void awaitingApproval(LongSupplier awaiting) {
        StoreSnapshot.Read<Long> read = fromStore("jobs awaiting an approval", awaiting::getAsLong);
        Gauge.builder("buildhook.jobs.awaiting.approval", read, BuildhookMetrics::known)
                .description("Jobs waiting for someone to approve or reject them (all nodes)")
                .register(registry);
    }

    /**
     * The shared resources' gauges: units in use per resource and jobs waiting for units (all
     * nodes), read from the store in the background ({@link #startStoreReads}); the declared resources are asked at
     * each scrape (the rules in force, in memory).
     *
     * @param capacities the resources the rules file declares now (name to capacity)
     */
    public void sharedResources(Supplier<Map<String, Integer>> capacities, Supplier<Map<String, Integer>> inUse,
            LongSupplier waiting) {
        StoreSnapshot.Read<Long> waitingRead = fromStore("jobs waiting for resources", waiting::getAsLong);
        StoreSnapshot.Read<Map<String, Integer>> inUseRead = fromStore("resource units in use", inUse);
        Gauge.builder("buildhook.jobs.waiting", waitingRead, BuildhookMetrics::known)
                .description("Jobs waiting for units of a shared resource (all nodes)")
                .register(registry);
        held.add(capacities);
        held.add(inUse);
        // A resource the rules file declares later gets its gauge at the next scrape, once (registering
        // it again would make Micrometer warn); one no longer declared loses its gauge.
        resourceGauges = () -> {
            Map<String, Integer> declared;
            try {
                declared = capacities.get();
            } catch (RuntimeException e) {
                return;
            }
            for (String name : declared.keySet()) {
                resourceGaugesByName.computeIfAbsent(name, n -> Gauge.builder("buildhook.resource.units.in.use", () -> {
                    Map<String, Integer> units = inUseRead.value();
                    return units == null ? Double.NaN : units.getOrDefault(n, 0);
                }).tag("resource", n).description("Units of a shared resource held by job attempts now (all nodes)")
                        .register(registry));
            }
            resourceGaugesByName.entrySet().removeIf(e -> {
                if (declared.containsKey(e.getKey())) {
                    return false;
                }
                registry.remove(e.getValue());
                return true;
            });
        };
    }

    private volatile Runnable resourceGauges = () -> { };
    private final Map<String, Gauge> resourceGaugesByName = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * SQLite's group commit: commits made and the write transactions they carried (their ratio is
     * the average batch). Registered only when the store says (SQLite); read once per scrape.
     */
    public void storeCommits(LongSupplier batches, LongSupplier transactions) {
        // Held here: the suppliers are lambdas nobody else holds, and Micrometer keeps the state of a
        // function counter weakly (it would read 0 after the next GC).
        held.add(batches);
        held.add(transactions);
        FunctionCounter.builder("buildhook.store.commits", batches, b -> b.getAsLong())
                .description("SQLite commits made by the group-committing writer").register(registry);
        FunctionCounter.builder("buildhook.store.transactions", transactions, t -> t.getAsLong())
                .description("Write transactions carried by those commits").register(registry);
    }

    /**
     * What this node's retention sweeps removed from its disk because the store no longer had their job
     * or delivery: log folders and payload copies, read once per scrape.
     */
    public void retentionOrphans(LongSupplier logFolders, LongSupplier payloadCopies) {
        held.add(logFolders);
        held.add(payloadCopies);
        orphanCounter("log_folder", logFolders);
        orphanCounter("payload_copy", payloadCopies);
    }

    private void orphanCounter(String kind, LongSupplier removed) {
        FunctionCounter.builder("buildhook.retention.orphans.removed", removed, r -> r.getAsLong())
                .description("Job log folders and payload copies removed from this node's disk by retention because"
                        + " the store no longer has their job or delivery")
                .tag("kind", kind).register(registry);
    }

    /**
     * The running-jobs gauge of this node: the attempts whose command runs now (an attempt whose command has ended is
     * counted by {@link #jobsAwaitingRecord} until its end is recorded).
     */
    public void runningJobs(LongSupplier running) {
        Gauge.builder("buildhook.jobs.running", () -> read(running, "running jobs"))
                .description("Job attempts whose command runs on this node now")
                .register(registry);
    }

    /**
     * The gauge of this node's jobs whose command has ended and whose end waits to be recorded in the store ({@code
     * buildhook_jobs_awaiting_record}): above 0 for more than a moment, the store does not take the records (the
     * jobs' threads wait for it). Not among {@code buildhook_jobs_running}, which counts the commands running.
     *
     * @param awaiting the number of those jobs now, 0 or more (in memory)
     */
    public void jobsAwaitingRecord(LongSupplier awaiting) {
        Gauge.builder("buildhook.jobs.awaiting.record", () -> read(awaiting, "jobs awaiting the record of their end"))
                .description("Jobs of this node whose command has ended and whose end is not recorded in the store"
                        + " yet (their threads wait for it while it is unavailable)")
                .register(registry);
    }

    /**
     * The paused-jobs gauge of this node: 1 while it starts no jobs because it cannot write a folder an
     * attempt needs before its command (its data folder's disk full, read-only…), 0 otherwise.
     */
    public void jobsPaused(java.util.function.BooleanSupplier paused) {
        Gauge.builder("buildhook.jobs.paused", () -> paused.getAsBoolean() ? 1 : 0)
                .description("1 while this node starts no jobs because it cannot write its data folder (payload"
                        + " files, job logs), 0 otherwise; /healthz then says status degraded")
                .register(registry);
    }

    /**
     * The cluster-rules gauge of this node: how many other running nodes of its PostgreSQL cluster run
     * other rules than this node, as of its last comparison (at its start, each reload and every
     * {@code runner.heartbeat-interval}); 0 when they all agree or record none (older nodes). Registered
     * only on PostgreSQL, where {@link org.buildhook.runner.engine.ClusterRules} compares them.
     *
     * @param differing the number of differing nodes now, 0 or more
     */
    public void rulesDifferingNodes(LongSupplier differing) {
        Gauge.builder("buildhook.rules.differing.nodes", () -> read(differing, "nodes with other rules"))
                .description("Other running nodes of this cluster whose rules differ from this node's (a rules"
                        + " fingerprint), as of the last comparison; 0 when they agree")
                .register(registry);
    }

    /**
     * The gauge {@code buildhook_cluster_nodes} with a {@code state} label: the nodes of the cluster running (this one
     * included), silent past the dead-node limit (their jobs are taken over by the others) and gone (of this node's
     * host, their JVM ended without giving their id back), as the nodes list counts them. {@code counts} is read once
     * per round for the three series (one read of the node claims alone, by the database's clock on PostgreSQL), in the
     * background ({@link #startStoreReads}); a failing read makes them {@code NaN} until the next round reads them.
     *
     * @param counts the nodes per state now; on SQLite this node alone ({@code running} 1)
     */
    public void clusterNodes(Supplier<org.buildhook.runner.store.ClusterNodes.Counts> counts) {
        StoreSnapshot.Read<org.buildhook.runner.store.ClusterNodes.Counts> read = fromStore("the cluster's nodes", counts);
        nodeGauge(read, "running", org.buildhook.runner.store.ClusterNodes.Counts::running);
        nodeGauge(read, "silent", org.buildhook.runner.store.ClusterNodes.Counts::silent);
        nodeGauge(read, "gone", org.buildhook.runner.store.ClusterNodes.Counts::gone);
    }

    private void nodeGauge(StoreSnapshot.Read<org.buildhook.runner.store.ClusterNodes.Counts> read, String state,
            java.util.function.ToIntFunction<org.buildhook.runner.store.ClusterNodes.Counts> of) {
        Gauge.builder("buildhook.cluster.nodes", () -> {
            org.buildhook.runner.store.ClusterNodes.Counts c = read.value();
            return c == null ? Double.NaN : of.applyAsInt(c);
        }).tag("state", state).description("Nodes of the cluster by state: running (this one included), silent past"
                + " the dead-node limit (the others take their jobs over), gone (of this host, ended without a clean"
                + " stop)").register(registry);
    }

    /**
     * The watchdog gauge of this node: 1 while its watchdog process runs, 0 while it is dead or could
     * not be started (the node starts it again). Registered only on a node that has a watchdog
     * (PostgreSQL, {@code runner.watchdog: auto}).
     */
    public void watchdog(java.util.function.BooleanSupplier up) {
        Gauge.builder("buildhook.watchdog.up", () -> up.getAsBoolean() ? 1 : 0)
                .description("1 while this node's watchdog process runs (it kills the node's jobs if the node stalls"
                        + " for half the dead-node limit or dies), 0 while it is away")
                .register(registry);
    }

    /** Counts and times job attempts as the engine ends them. */
    public JobEvents jobEvents() {
        return new JobEvents() {
            @Override
            public void attemptEnded(String rule, Ending ending, Duration duration) {
                attempts(rule, ending).increment();
                if (duration == null) {
                    // Its end is unknown: counted above, not timed (as 0 s it would pull the histogram down).
                    return;
                }
                jobTimers.computeIfAbsent(rule, key -> Timer.builder("buildhook.job.duration")
                        .description("How long job attempts ran, by rule").tags("rule", rule)
                        .serviceLevelObjectives(JOB_BUCKETS).register(registry)).record(duration);
            }

            @Override
            public void jobEnded(String rule, Ending ending) {
                finished(rule, ending).increment();
            }
        };
    }

    /**
     * Makes the series of {@code buildhook_job_attempts_total} and {@code buildhook_jobs_finished_total} of every rule
     * of {@code rules} (its enabled rules and their follow-ups' names, {@code deploy/on-failure}) exist at 0 for every
     * outcome, as the endpoints' series do: Prometheus' {@code increase()} and {@code rate()} see nothing in a series
     * that appears at 1, so an alert on a rule's first failure after a start or a reload that added the rule never
     * fired (tryout58 F2). Called at the start and at each reload with the rules put in force; the series of a rule
     * taken out of the file stay, with their counts, until the server stops. Bounded by the rules file: 11 series per
     * rule or follow-up name.
     *
     * @param rules the rules in force
     */
    public void rulesInForce(RuleSet rules) {
        java.util.List<String> names = new java.util.ArrayList<>(rules.ruleNames());
        names.addAll(rules.followUpNames());
        for (String rule : names) {
            for (JobEvents.Ending ending : JobEvents.Ending.values()) {
                attempts(rule, ending);
                if (ending != JobEvents.Ending.INTERRUPTED) { // a job's final state is never "interrupted"
                    finished(rule, ending);
                }
            }
        }
    }

    private Counter attempts(String rule, JobEvents.Ending ending) {
        return jobMeters.computeIfAbsent(new JobMeterKey("attempts", rule, ending), key -> Counter
                .builder("buildhook.job.attempts").description("Job attempts ended, by rule and how they ended")
                .tags("rule", rule, "outcome", ending.label()).register(registry));
    }

    private Counter finished(String rule, JobEvents.Ending ending) {
        return jobMeters.computeIfAbsent(new JobMeterKey("finished", rule, ending), key -> Counter
                .builder("buildhook.jobs.finished")
                .description("Jobs that reached their final state, by rule and final outcome (after retries)")
                .tags("rule", rule, "outcome", ending.label()).register(registry));
    }

    /**
     * The job meters, registered on first use and kept: building and registering them again for
     * every attempt was a tenth of a job thread's CPU (docs/BENCHMARKS.md, "Fourth pass: the job
     * side"). One per rule and outcome, as the registry keeps them anyway.
     */
    private final Map<JobMeterKey, Counter> jobMeters = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Timer> jobTimers = new java.util.concurrent.ConcurrentHashMap<>();

    private record JobMeterKey(String meter, String rule, JobEvents.Ending ending) {
        // Written out: a record's generated ones go through method handles, slow under C1 alone (the
        // shipped JVM options), and every attempt looks its meters up (docs/BENCHMARKS.md, "Fifth pass").
        @Override
        public int hashCode() {
            return (meter.hashCode() * 31 + java.util.Objects.hashCode(rule)) * 31 + java.util.Objects.hashCode(ending);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof JobMeterKey key && key.ending == ending && key.meter.equals(meter)
                    && java.util.Objects.equals(key.rule, rule);
        }
    }

    /** Counts rules reloads and refusals. */
    public RulesWatcher.Listener rulesListener() {
        return new RulesWatcher.Listener() {
            @Override
            public void reloaded(RuleSet rules) {
                rulesRefused.set(false);
                rulesInForce(rules);
                registry.counter("buildhook.rules.reloads").increment();
            }

            @Override
            public void refused(RuleException error) {
                rulesRefused.set(true);
                registry.counter("buildhook.rules.reload.failures").increment();
            }

            @Override
            public void validAgain(RuleSet rules) {
                rulesRefused.set(false);
            }
        };
    }

    /** Everything, in the Prometheus text format 0.0.4. */
    public String scrape() {
        resourceGauges.run();
        return registry.scrape();
    }

    @Override
    public void close() {
        store.close();
        if (jvm != null) {
            jvm.close();
        }
        registry.close();
    }

    private EndpointMeters meters(String endpoint) {
        EndpointMeters m = endpoint == null ? null : byEndpoint.get(endpoint);
        return m != null ? m : byEndpoint.get(UNKNOWN);
    }

    /**
     * The per-delivery meters of one endpoint label, each registered once and then kept: building a
     * meter by name and tags at every delivery costs a registry look-up (tags sorted, hashed and
     * compared) on the request thread. Registering again returns the same meter, so a race between
     * two first uses is harmless.
     */
    private final class EndpointMeters {
        private final String endpoint;
        private final AtomicReferenceArray<Counter> deliveries = new AtomicReferenceArray<>(DeliveryOutcome.values().length);
        private final AtomicReferenceArray<Counter> signatureFailures =
                new AtomicReferenceArray<>(Verification.Failure.values().length);
        private volatile Timer latency;

        EndpointMeters(String endpoint) {
            this.endpoint = endpoint;
        }

        Counter deliveries(DeliveryOutcome outcome) {
            Counter c = deliveries.get(outcome.ordinal());
            if (c == null) {
                c = BuildhookMetrics.this.deliveries(endpoint, outcome);
                deliveries.set(outcome.ordinal(), c);
            }
            return c;
        }

        Counter signatureFailures(Verification.Failure failure) {
            Counter c = signatureFailures.get(failure.ordinal());
            if (c == null) {
                c = BuildhookMetrics.this.signatureFailures(endpoint, failure);
                signatureFailures.set(failure.ordinal(), c);
            }
            return c;
        }

        Timer latency() {
            Timer t = latency;
            if (t == null) {
                t = acceptLatency(endpoint);
                latency = t;
            }
            return t;
        }
    }

    private Counter deliveries(String endpoint, DeliveryOutcome outcome) {
        return Counter.builder("buildhook.deliveries").description("Webhook deliveries answered, by endpoint and outcome")
                .tags("endpoint", endpoint, "outcome", outcome.label()).register(registry);
    }

    private Counter signatureFailures(String endpoint, Verification.Failure failure) {
        return Counter.builder("buildhook.signature.failures")
                .description("Deliveries refused because of their signature, by endpoint and reason")
                .tags("endpoint", endpoint, "reason", failure.name().toLowerCase(Locale.ROOT)).register(registry);
    }

    private Timer acceptLatency(String endpoint) {
        return Timer.builder("buildhook.accept.latency")
                .description("From the body read to the answer of a delivery (verify, parse, match, store)")
                .tags("endpoint", endpoint).serviceLevelObjectives(ACCEPT_BUCKETS).register(registry);
    }

    private Counter unknownPaths() {
        return Counter.builder("buildhook.http.unknown.paths")
                .description("Requests to a path of the application that does not exist (answered 404; e.g. a"
                        + " factory posting to a mistyped webhook URL)").register(registry);
    }

    private void rulesCounter(String name, String description) {
        Counter.builder(name).description(description).register(registry);
    }

    /** A failing read (the store is down) shows as NaN for this scrape, logged, never as a failed scrape. */
    private static double read(LongSupplier value, String what) {
        try {
            return value.getAsLong();
        } catch (RuntimeException e) {
            LOG.warn("metrics: cannot read {}: {}", what, e.getMessage());
            return Double.NaN;
        }
    }

    private static Duration[] seconds(double... values) {
        return java.util.Arrays.stream(values).mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9)))
                .toArray(Duration[]::new);
    }

    /**
     * Every {@code buildhook_} metric's name as Prometheus sees it (a histogram's without its suffixes): what
     * docs/operations.md's "Metrics" chapter must name, and no other (BuildhookMetricsTest).
     */
    static List<String> names() {
        return List.of("buildhook_deliveries_total", "buildhook_signature_failures_total",
                "buildhook_accept_latency_seconds", "buildhook_jobs_queued", "buildhook_jobs_retry_waiting",
                "buildhook_jobs_running",
                "buildhook_jobs_awaiting_approval", "buildhook_jobs_waiting", "buildhook_resource_units_in_use",
                "buildhook_job_attempts_total", "buildhook_job_duration_seconds", "buildhook_rules_reloads_total",
                "buildhook_rules_reload_failures_total", "buildhook_store_commits_total",
                "buildhook_store_transactions_total", "buildhook_retention_orphans_removed_total",
                "buildhook_http_unknown_paths_total",
                "buildhook_jobs_finished_total", "buildhook_rules_refused", "buildhook_build_info",
                "buildhook_cluster_nodes", "buildhook_refused_builds", "buildhook_jobs_paused",
                "buildhook_jobs_awaiting_record", "buildhook_rules_differing_nodes", "buildhook_watchdog_up",
                "buildhook_store_up", "buildhook_store_snapshot_age_seconds");
    }
}
