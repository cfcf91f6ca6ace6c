package org.buildhook.servlet;

import jakarta.servlet.ServletContext;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.Sha256;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.runner.engine.ClusterRules;
import org.buildhook.runner.engine.JobEngine;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.ProcessEncoding;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.RulesWatcher;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.RefusedStoredJobs;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreLock;
import org.buildhook.runner.store.WriteStats;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.EndpointConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running buildhook: the store, the job engine and its launcher, the rules watcher and the
 * delivery pipeline, started together and stopped together. The same object serves the WAR (made
 * by {@link BuildhookListener}) and the standalone server.
 */
public final class BuildhookApplication implements AutoCloseable {

    /** The servlet context attribute under which the running application is kept. */
    public static final String ATTRIBUTE = BuildhookApplication.class.getName();

    private static final Logger LOG = LoggerFactory.getLogger(BuildhookApplication.class);
    private static final Duration RULES_POLL = Duration.ofSeconds(2);
    /**
     * As PID 1 without the child subreaper (the WAR, or {@code -Dbuildhook.subreaper=off}): the kernel hands orphans
     * to PID 1 to reap, and a JVM that does not reap them itself cannot reap processes it did not start, so the
     * killed leftovers of jobs would stay zombies.
     */
    static final String PID_1_WARNING = "buildhook runs as PID 1 with no init to reap orphans: processes a job"
            + " leaves behind stay zombies once killed. Run the container with an init (docker/podman run --init,"
            + " compose's init: true, or tini as its entrypoint), or install tini (apt-get install tini):"
            + " bin/buildhook then runs under it by itself";
    /**
     * As PID 1 with the child subreaper on ({@code bin/buildhook}): the server reaps the orphans handed to it itself,
     * but as PID 1 it is handed every orphan of the container, also those of a command run in it from outside
     * ({@code docker/podman exec}), and one that started while a job ran is taken for that job's and ended with it.
     * Under an init, those go to the init, and the server is handed only what its own jobs leave behind.
     */
    static final String PID_1_SUBREAPER_WARNING = "buildhook runs as PID 1 with no init: it reaps what its jobs"
            + " leave behind itself (child subreaper), but every process orphaned in this container is handed to it,"
            + " and one left behind by a command run in the container from outside (docker/podman exec) while a job"
            + " runs is taken for that job's and ended with it. Run the container with an init (docker/podman run"
            + " --init, compose's init: true, or tini as its entrypoint), or install tini (apt-get install tini):"
            + " bin/buildhook then runs under it by itself";

    private final BuildhookConfig config;
    private final Store store;
    private final RulesWatcher rules;
    private final DeliveryService deliveries;
    private final RemoteAddress remoteAddress;
    private final BuildhookMetrics metrics;
    private final Deque<AutoCloseable> closeInReverse;
    private final JobEngine engine;
    private final LogFollows logFollows;
    /** PostgreSQL: whether the other running nodes have the same rules; null on SQLite. */
    private final ClusterRules clusterRules;
    /** What this node's rules took out whose jobs it has not cancelled yet; null until the start has made it. */
    private volatile RulesTakenOut takenOut;
    private final DeliveryHandOver handOver;
    private volatile boolean stopping;

    private BuildhookApplication(BuildhookConfig config, Store store, RulesWatcher rules, DeliveryService deliveries,
            BuildhookMetrics metrics, JobEngine engine, LogFollows logFollows, ClusterRules clusterRules,
            DeliveryHandOver handOver, Deque<AutoCloseable> closeInReverse) {
        this.handOver = handOver;
        this.clusterRules = clusterRules;
        this.metrics = metrics;
        this.logFollows = logFollows;
        this.engine = engine;
        this.config = config;
        this.store = store;
        this.rules = rules;
        this.deliveries = deliveries;
        this.remoteAddress = new RemoteAddress(config.http().trustedProxies());
        this.closeInReverse = closeInReverse;
    }

    /**
     * tryout33 F4: a restored (or copied, or moved) SQLite store's jobs awaiting an approval await it again, also
     * those approved or rejected on the old server since; an approval given again would deploy them again. Said at
     * the start, with how many and what to do; nothing when none awaits, or the lock file names this data folder.
     */
    static void warnOfApprovalsRestored(Store store, StoreLock lock) {
        if (lock == null || lock.cameFrom() == null) {
            return;
        }
        long awaiting;
        try {
            awaiting = store.countJobs(org.buildhook.runner.store.JobState.AWAITING_APPROVAL);
        } catch (RuntimeException e) {
            return; // only a courtesy; the store's own trouble is said where it is met
        }
        if (awaiting > 0) {
            LOG.warn("{} job(s) await an approval in this store, restored or moved ({}): any of them approved or"
                    + " rejected on the old server after the backup awaits it again here, and an approval given again"
                    + " runs it again. Before approving, look at what the old server did (its log's approved/rejected"
                    + " lines, `buildhook actions`, the deployment itself) and reject what already ran"
                    + " (docs/storage.md, \"Backing up and restoring\")", awaiting, lock.cameFrom());
        }
    }

    /**
     * Starts everything the configuration describes. On any failure what was started is stopped
     * again and the exception (with every configuration or rules mistake in its message) is thrown.
     */
    public static BuildhookApplication start(BuildhookConfig config) {
        return start(config, StoreLock::acquire);
    }

    /**
     * As {@link #start(BuildhookConfig)}, taking the SQLite store's lock with {@code lock} (after the rules
     * are read, before the store is opened) instead of {@link StoreLock#acquire}; what it throws ends the start.
     */
    static BuildhookApplication start(BuildhookConfig config,
            java.util.function.Function<org.buildhook.runner.store.StoreConfig, StoreLock> lock) {
        return start(config, lock, new RefusedBuilds(Clock.systemUTC()));
    }

    /**
     * As {@link #start(BuildhookConfig, java.util.function.Function)}, keeping the builds answered 503 in {@code
     * refusedBuilds} from the start: those a waiting copy of the web application refused before this start are listed
     * with the later ones ({@link DeliveryService#waiting}).
     */
    static BuildhookApplication start(BuildhookConfig config,
            java.util.function.Function<org.buildhook.runner.store.StoreConfig, StoreLock> lock,
            RefusedBuilds refusedBuilds) {
        // What the start writes before the node serves waits for a lock another program holds on a SQLite store as the
        // store's open does, not as a delivery's accept (migrate53).
        return Store.duringStart(() -> startNow(config, lock, refusedBuilds));
    }

    private static BuildhookApplication startNow(BuildhookConfig config,
            java.util.function.Function<org.buildhook.runner.store.StoreConfig, StoreLock> lock,
            RefusedBuilds refusedBuilds) {
        Deque<AutoCloseable> started = new ArrayDeque<>();
        try {
            Clock clock = Clock.systemUTC();
            // First in, last out: the engine may still end attempts while it stops.
            BuildhookMetrics metrics = BuildhookMetrics.create(config.endpoints().keySet(), config.metrics().enabled());
            started.push(metrics);
            // The rules before the store: a rules file with mistakes refuses the start before the
            // database (or anything else) is created.
            // The store once open: a reload gives the jobs already stored the rules' new concurrency limits.
            java.util.concurrent.atomic.AtomicReference<Store> opened = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicReference<RulesWatcher> watcher = new java.util.concurrent.atomic.AtomicReference<>();
            Object limitsTurn = new Object();
            // rulesknown23: the rules this node knows were disabled or removed, whose stored jobs are cancelled.
            RulesTakenOut takenOut = new RulesTakenOut();
            // The env names said once while this server runs (tryout38 F6): a reload names only those it adds.
            java.util.Set<String> saidOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.function.Consumer<RuleSet> limits = set -> {
                Store open = opened.get();
                if (open != null) {
                    applyLimits(open, set, watcher.get(), limitsTurn, config.engine(), takenOut);
                }
            };
            // PostgreSQL, once the engine has started: a reload records the new rules' fingerprint and
            // compares it with the other running nodes' (tryout17 F4).
            java.util.concurrent.atomic.AtomicReference<ClusterRules> cluster = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.function.Consumer<RuleSet> compare = set -> {
                ClusterRules running = cluster.get();
                if (running != null) {
                    running.reloaded();
                }
            };
            // tryout57 F4, F5: what a reload's store-side work left undone, tried again at each look at the file.
            java.util.function.Consumer<RuleSet> again = set -> {
                Store open = opened.get();
                if (open != null) {
                    storeWorkAgain(open, set, watcher.get(), limitsTurn, config.engine(), takenOut);
                }
            };
            RulesWatcher rules = config.rulesFile() == null ? null
                    : RulesWatcher.start(config.rulesFile(), new RuleSetLoader(clock), RULES_POLL, alsoOnLook(alsoOnReload(
                            alsoOnReload(alsoOnReload(metrics.rulesListener(),
                                    set -> warnAboutThisMachine(set, config, saidOnce)), limits), compare), again));
            watcher.set(rules);
            if (rules != null) {
                started.push(rules);
            }
            // One server per SQLite database: a second one is refused before it opens it.
            StoreLock storeLock = lock.apply(config.store());
            started.push(storeLock);
            Store store = Store.open(config.store());
            started.push(store);
            takenOut.elsewhere = new OtherRulesRunning(store, config.engine());
            opened.set(store);
            warnOfApprovalsRestored(store, storeLock);
            // Ended right before the store closes, after the engine's stop: deliveries a new copy of the web
            // application hands over while this one lets its jobs finish are stored until then.
            DeliveryHandOver handOver = DeliveryHandOver.forStore(config.store(), config.engine().nodeId());
            started.push(handOver);
            if (rules != null) {
                // Before the engine starts: a limit lowered while the server was stopped holds from its first job.
                RuleSet atStart = rules.current();
                metrics.rulesInForce(atStart); // tryout58 F2: the jobs' series at 0 from the start
                beforeStartLimits.accept(atStart);
                applyLimits(store, atStart, rules, limitsTurn, config.engine(), takenOut);
                sayJobsOfRulesNotInTheFile(store, atStart, config.engine().nodeId());
            }
            sayStoredJobsRefused(store);
            // Retention removes the logs of jobs that ran here and whose rows another node deleted.
            store.sweepJobLogsIn(config.launcher().logDirectory());
            CommonsExecLauncher launcher = CommonsExecLauncher.create(config.launcher());
            createDefaultWorkdir(config);
            started.push(launcher);
            Supplier<RuleSet> ruleSet = rules == null
                    ? constant(RuleSet.empty(Path.of("(no rules file)"), clock.instant()))
                    : rules::current;
            Map<String, SignatureVerifier> verifiers = verifiers(config);
            // Closed right after the engine: the summaries of refusals still being counted are written before
            // buildhook says it stopped.
            RefusalLog refusalLog = RefusalLog.start(clock);
            started.push(refusalLog);
            DeliveryService deliveries = new DeliveryService(verifiers, new BuildEventParser(), ruleSet, store, clock,
                    metrics, refusalLog, refusedBuilds);
            handOver.serve(deliveries);
            // The engine last: it may start jobs at once, and everything they need is ready.
            JobEngine engine = JobEngine.create(store, launcher, config.engine(), clock, metrics.jobEvents());
            // tryout57 F4: a job of a rule this node's rules take out is not started, whatever their cancel did.
            engine.refuseJobsOfRulesTakenOut(takenOut::refusal);
            metrics.refusedBuilds(deliveries.refusedBuilds()::size);
            metrics.queueDepth(() -> store.countJobs(JobState.QUEUED));
            metrics.retryWaiting(store::countJobsWaitingForRetry);
            metrics.awaitingApproval(() -> store.countJobs(JobState.AWAITING_APPROVAL));
            metrics.sharedResources(() -> rules == null ? java.util.Map.of() : rules.current().resources(),
                    () -> store.resources().unitsInUse(), () -> store.countJobs(JobState.WAITING));
            metrics.runningJobs(engine::runningCount);
            metrics.jobsAwaitingRecord(engine::endsAwaitingRecord);
            metrics.jobsPaused(() -> engine.jobsPaused().isPresent());
            metrics.retentionOrphans(store::orphanLogFoldersRemoved, store::orphanPayloadCopiesRemoved);
            metrics.clusterNodes(() -> store.nodeLeases().counts(config.engine().deadNodeLimit(),
                    config.engine().nodeId()));
            if (store.writeStats().isPresent()) {
                metrics.storeCommits(() -> store.writeStats().map(WriteStats::commits).orElse(0L),
                        () -> store.writeStats().map(WriteStats::transactions).orElse(0L));
            }
            started.push(engine);
            // Every check that can refuse the start has passed (the store lock, the database, the node id,
            // claimed by the engine): only now are the secrets generated for this start written, so that a
            // refused start leaves none behind and tells nobody to give JobServ a secret of a server that
            // never ran (tryout13 F6). Before the engine picks anything: a start refused because a secret
            // cannot be written has run no job (review15).
            engine.start(() -> writePendingSecrets(config));
            if (engine.watchdog() != null) {
                metrics.watchdog(engine.watchdog()::isUp);
            }
            // After the engine's start, whose claim of the node id carries the fingerprint; null on SQLite.
            ClusterRules clusterRules = ClusterRules.start(store, config.engine().nodeId(), ruleSet,
                    config.engine().heartbeatInterval(), config.engine().deadNodeLimit(),
                    set -> {
                        takenOut.elsewhere.agreeing(set);
                        cancelLeftJobsOnceAgreed(store, set, rules, limitsTurn, config.engine(), takenOut);
                    },
                    set -> {
                        takenOut.elsewhere.differing(set);
                        sayJobsLeftWhileRulesDiffer(store, set, rules, limitsTurn, config.engine(), takenOut);
                    });
            if (clusterRules != null) {
                started.push(clusterRules);
                cluster.set(clusterRules);
                metrics.rulesDifferingNodes(() -> clusterRules.disagreement().map(d -> d.others().size()).orElse(0));
            }
            if (config.metrics().enabled()) {
                // Once the engine has claimed this node's id (it counts among the cluster's running nodes). Closed
                // before the engine and the store: a round under way ends with the store's connections at the latest.
                started.push(metrics.startStoreReads(store::readWithin));
            }
            // Closed first: a follow of a job's log must not outlive what it reads.
            LogFollows logFollows = LogFollows.start();
            started.push(logFollows);
            BuildhookApplication app = new BuildhookApplication(config, store, rules, deliveries, metrics, engine,
                    logFollows, clusterRules, handOver, started);
            app.takenOut = takenOut;
            app.logSummary(ruleSet.get(), launcher.reapsOrphans(), saidOnce);
            return app;
        } catch (RuntimeException e) {
            closeAll(started);
            // A store that gave a step of the start no connection is said with the store, the key and what to check,
            // not in HikariCP's words (store41).
            throw Store.saidAtStart(config.store(), e);
        }
    }

    /** Each endpoint's signature verifier, by endpoint name, in the configuration's order. */
    static Map<String, SignatureVerifier> verifiers(BuildhookConfig config) {
        Map<String, SignatureVerifier> verifiers = new LinkedHashMap<>();
        for (EndpointConfig endpoint : config.endpoints().values()) {
            verifiers.put(endpoint.name(), SignatureVerifier.of(endpoint.secrets()));
        }
        return verifiers;
    }

    /**
     * Lets a new copy of this web application that waits for this one to stop (a WAR replaced in Jetty 12) have
     * its deliveries stored here until this one's store closes ({@link DeliveryHandOver}). Web applications only.
     */
    void publishHandOver() {
        handOver.publish();
    }

    /**
     * Writes the secret files generated for this start. One that cannot be written refuses the start;
     * one written before it stays for the next start, which only uses it, and is announced now.
     */
    private static void writePendingSecrets(BuildhookConfig config) {
        java.util.List<Path> written = new java.util.ArrayList<>();
        try {
            for (org.buildhook.servlet.config.PendingSecret secret : config.pendingSecrets()) {
                secret.create();
                written.add(secret.file());
            }
        } catch (RuntimeException e) {
            config.generatedSecrets().stream()
                    .filter(line -> written.stream().anyMatch(file -> line.contains(" in " + file + " ")))
                    .forEach(LOG::warn);
            throw e;
        }
    }

    /**
     * {@code next} as it is, plus {@code also} run with each reloaded rule set after {@code next} was told
     * of it. Serves the two additions below: a warning for each rule of a reloaded set whose jobs could
     * not start on this node (a program missing or not executable, a missing workdir), as {@code buildhook
     * check} says them, since a hot-reloaded rule naming a script not deployed yet would otherwise be
     * noticed only when a build fails; and, once the store is open, each reloaded rule's {@code concurrency}
     * given to its jobs already stored ({@link #applyLimits}).
     */
    private static RulesWatcher.Listener alsoOnReload(RulesWatcher.Listener next,
            java.util.function.Consumer<RuleSet> also) {
        return also(next, also, rules -> { });
    }

    /** {@code next} as it is, plus {@code also} run after each look at the rules file ({@link #storeWorkAgain}). */
    private static RulesWatcher.Listener alsoOnLook(RulesWatcher.Listener next,
            java.util.function.Consumer<RuleSet> also) {
        return also(next, rules -> { }, also);
    }

    /** {@code next} as it is, plus {@code onReload} after each reload and {@code onLook} after each look. */
    private static RulesWatcher.Listener also(RulesWatcher.Listener next,
            java.util.function.Consumer<RuleSet> onReload, java.util.function.Consumer<RuleSet> onLook) {
        return new RulesWatcher.Listener() {
            @Override
            public void reloaded(RuleSet rules) {
                next.reloaded(rules);
                onReload.accept(rules);
            }

            @Override
            public void refused(org.buildhook.runner.rules.RuleException error) {
                next.refused(error);
            }

            @Override
            public void validAgain(RuleSet rules) {
                next.validAgain(rules);
            }

            @Override
            public void looked(RuleSet rules) {
                next.looked(rules);
                onLook.accept(rules);
            }
        };
    }

    /**
     * What the start or reload of {@code rules} left undone because the store refused it (full, locked, unreachable),
     * tried again (tryout57 F4, F5: the WARN said the jobs "may still run" and nothing tried again, so a disabled rule's
     * queued jobs ran once the store answered, and three jobs started together under a new {@code concurrency: 1}):
     * the concurrency limits, the resource capacities and the cancel of the rules taken out, each until the store takes
     * it. Run after each look at the rules file (every few seconds), in the limits' turn and only while {@code rules}
     * is still in force; a newer set does all of it again anyway. A try that fails again is not said again (the first
     * failure's {@code WARN} said it); one that succeeds says so in one {@code INFO}.
     */
    private static void storeWorkAgain(Store store, RuleSet rules, RulesWatcher watcher, Object turn,
            org.buildhook.runner.engine.EngineConfig engine, RulesTakenOut taken) {
        if (taken.left != rules) {
            return;
        }
        synchronized (turn) {
            if (taken.left != rules || (watcher != null && watcher.current() != rules)) {
                return;
            }
            if (taken.limitsLeft && giveLimits(store, rules, true)) {
                taken.limitsLeft = false;
                LOG.info("the concurrency limits of {} are given to the jobs already stored now, the store having"
                        + " refused them at its reload or start", rules.source());
            }
            if (taken.capacitiesLeft && giveCapacities(store, rules, true)) {
                taken.capacitiesLeft = false;
                LOG.info("the resource capacities of {} are given to the jobs already stored now, the store having"
                        + " refused them at its reload or start", rules.source());
            }
            if (taken.cancelLeft && taken.heldBack == null) {
                taken.heldBack = cancelJobsOfRulesTakenOut(store, rules, taken, engine, true) ? null : rules;
                if (!taken.cancelLeft) {
                    LOG.info("the stored jobs of the rules disabled or removed in {} are cancelled now (the store"
                            + " having refused it at its reload or start): none of them runs", rules.source());
                }
            }
            if (!taken.limitsLeft && !taken.capacitiesLeft && !taken.cancelLeft) {
                taken.left = null;
            }
        }
    }

    /**
     * Why {@code job} may not run, in the words of the cancel of its rule's jobs: its rule is taken out by this node's
     * rules in force ({@link RulesTakenOut#refusal}); empty otherwise. An approval of it is refused (tryout57 F4).
     */
    java.util.Optional<String> ruleTakenOut(org.buildhook.runner.store.Job job) {
        RulesTakenOut taken = takenOut;
        return taken == null ? java.util.Optional.empty() : taken.refusal(job);
    }

    /**
     * Whether stored jobs of rules this node's rules took out are left, not cancelled, as another running node had
     * other rules (PostgreSQL; cancelled once they agree); tests.
     */
    boolean leavesJobsOfRulesTakenOut() {
        RulesTakenOut taken = takenOut;
        return taken != null && taken.heldBack != null;
    }

    /**
     * Compares this node's rules with the running nodes' now, on the comparison's own thread, as a reload does
     * (PostgreSQL; nothing on SQLite); tests, which cannot wait for a {@code runner.heartbeat-interval} without
     * depending on the machine's speed.
     */
    void compareRulesNow() {
        if (clusterRules != null) {
            clusterRules.reloaded();
        }
    }

    /** Run by {@link #start} between reading the rules in force and giving their limits to the jobs; tests only. */
    static volatile java.util.function.Consumer<RuleSet> beforeStartLimits = set -> { };

    /**
     * Gives the jobs still to run the rules' current concurrency limits: the limit in force is that of a
     * rule's newest stored job, so a lowered limit would otherwise hold only from the next delivery, and a
     * job stored before it could start beside the running ones (chaos15 F1). A store that does not answer
     * leaves them as they are, said in one WARN. Then cancels the stored jobs of the rules this node knows
     * were taken out ({@link RulesTakenOut}), and makes those not started yet of the rules that ask for an approval,
     * planned without one, await it ({@link #gateJobsPlannedWithoutApproval}).
     *
     * <p>One at a time ({@code turn}), and only while {@code rules} is still the set in force in
     * {@code watcher}: the start's call and a reload's (on the watcher's thread) could otherwise both run,
     * the start's with the rules it read before the reload, and write the older file's limits last (review15);
     * a reload that came meanwhile gives its own set once this ends.
     */
    private static void applyLimits(Store store, RuleSet rules, RulesWatcher watcher, Object turn,
            org.buildhook.runner.engine.EngineConfig engine, RulesTakenOut takenOut) {
        synchronized (turn) {
            // Also a set a newer reload overtook: it was in force, and may have stored jobs of its rules.
            takenOut.hadInForce.addAll(rules.ruleNames());
            takenOut.snapshots.putAll(rules.snapshots());
            java.util.Set<String> inForce = java.util.Set.copyOf(rules.ruleNames());
            inForce.forEach(rule -> takenOut.alongside.put(rule, inForce));
            if (watcher != null && watcher.current() != rules) {
                return;
            }
            // A newer set does all of it again: what an older one left is no longer tried (storeWorkAgain).
            takenOut.left = null;
            store.ledger().renames(org.buildhook.runner.store.RuleRenames.of(rules.renamedFrom(), rules.snapshots()));
            takenOut.limitsLeft = !giveLimits(store, rules, false);
            takenOut.capacitiesLeft = !giveCapacities(store, rules, false);
            if (takenOut.lastApplied != null && takenOut.lastApplied != rules) {
                sayWhatStoredJobsDoNotFollow(store, takenOut.lastApplied, rules, engine);
            }
            takenOut.lastApplied = rules;
            takenOut.nowInForce(rules);
            // Armed with the new set before its cancel: the refusal compares that set with the running nodes' rules
            // itself (review58 F1: heldBack, still the older set's until the cancel below, let it refuse meanwhile).
            takenOut.refuseAsIn(rules, where(engine.nodeId(), rules));
            takenOut.heldBack = cancelJobsOfRulesTakenOut(store, rules, takenOut, engine, false) ? null : rules;
            if (takenOut.limitsLeft || takenOut.capacitiesLeft || takenOut.cancelLeft) {
                takenOut.left = rules;
            }
        }
    }

    /**
     * The rules whose stored jobs still to run this node cancels (rulesknown23): only what an operator's
     * change of this node's own rules file says, (a) a rule written with {@code enabled: false}, at the start
     * and at each reload, and (b) a rule this node had enabled in force that a reload removed or disabled.
     * Never a rule merely absent from the file at the start: in a cluster it may be another node's new rule
     * (tryout25 F4: a node with an older file cancelled a new rule's approvals once the only node that had
     * it stopped). Guarded by the limits' turn, except {@link #heldBack} (read outside it).
     */
    private static final class RulesTakenOut {
        /** The set last applied (at the start or a reload), to compare the next one with; null before the first. */
        RuleSet lastApplied;
        /** The enabled rules of every set this node had in force since the last one applied. */
        final java.util.Set<String> hadInForce = new java.util.HashSet<>();
        /** The rules known to be taken out whose jobs are not cancelled yet (held back, or the store failed). */
        final java.util.Set<String> pending = new java.util.TreeSet<>();
        /** The set whose cancel was held back as another running node had other rules; null when none was. */
        volatile RuleSet heldBack;
        /**
         * The set in force whose store-side work (below) the store refused, tried again at each look at the rules file
         * ({@link #storeWorkAgain}); null when none is left.
         */
        volatile RuleSet left;
        /** Whether the concurrency limits of {@link #left} are still to be given to the jobs stored. */
        boolean limitsLeft;
        /** Whether the resource capacities of {@link #left} are still to be given to the jobs stored. */
        boolean capacitiesLeft;
        /** Whether the cancel of {@link #pending} failed as the store refused it (not held back). */
        boolean cancelLeft;
        /**
         * The rules taken out as {@link #pending}, but kept once their jobs are cancelled: a job of one is not started
         * ({@link #refusal}), whatever the cancel did (tryout57 F4).
         */
        private final java.util.Set<String> out = new java.util.TreeSet<>();
        /**
         * What {@link #refusal} reads: {@link #out} with the rule that took each over, the rules in force that took them
         * out, and where; published whole.
         */
        private volatile Refusing refusing = new Refusing(java.util.Map.of(), null, "");
        /** Whether other running nodes have other rules ({@link #refusal}); set once the store is open. */
        volatile OtherRulesRunning elsewhere;

        private record Refusing(java.util.Map<String, java.util.Optional<java.util.Map.Entry<String,
                org.buildhook.runner.store.RuleRenames.Taken>>> rules, RuleSet set, String where) {
        }
        /** The held-back set whose left jobs were looked at for the WARN (said or none), or null. */
        volatile RuleSet said;
        /** The rules that WARN named: once the nodes agree, those with nothing left to cancel are said resolved. */
        final java.util.Set<String> saidLeft = new java.util.TreeSet<>();
        /**
         * Each rule's snapshot when last in force here, by name: a rule taken out is known as renamed by the same
         * {@code run} from it (tryout41 F2).
         */
        final java.util.Map<String, String> snapshots = new java.util.HashMap<>();
        /**
         * Each rule's companions when last in force here: the rules enabled in that same set. A rule in force now with
         * the same {@code run} as a rule taken out was not renamed from it if the two were in force together (ci48: a
         * disabled {@code deploy} was called renamed to {@code notify}, in force beside it all along, and the cancel
         * advised a replay that would run {@code notify} twice).
         */
        final java.util.Map<String, java.util.Set<String>> alongside = new java.util.HashMap<>();

        /**
         * The rule in force in {@code renames} that {@code rule}, taken out, was renamed to, and how: by {@code
         * renamed-from}, or by the same {@code run} when that rule was not in force beside {@code rule}; empty when
         * none was.
         */
        java.util.Optional<java.util.Map.Entry<String, org.buildhook.runner.store.RuleRenames.Taken>> renamedTo(
                org.buildhook.runner.store.RuleRenames renames, String rule) {
            return renames.takenBy(rule, snapshots.get(rule),
                    alongside.getOrDefault(rule, java.util.Set.of())::contains);
        }

        /** After {@link #nowInForce}: what {@link #refusal} answers from now on, in {@code where}'s words. */
        void refuseAsIn(RuleSet rules, String where) {
            org.buildhook.runner.store.RuleRenames renames = org.buildhook.runner.store.RuleRenames.of(
                    rules.renamedFrom(), rules.snapshots());
            java.util.Map<String, java.util.Optional<java.util.Map.Entry<String,
                    org.buildhook.runner.store.RuleRenames.Taken>>> to = new java.util.HashMap<>();
            out.forEach(rule -> to.put(rule, renamedTo(renames, rule)));
            refusing = new Refusing(java.util.Map.copyOf(to), rules, where);
        }

        /**
         * Why {@code job} is not started, in the words of the cancel of its rule's jobs ({@link #notInForce}): its rule
         * is taken out by this node's rules in force, their cancel is not held back, and no running node has other
         * rules now ({@link OtherRulesRunning}; else its jobs run when due, as the held-back cancel's WARN says, also
         * when the difference arose after this node's last start or reload: review58 F1); empty otherwise. The engine
         * asks only for jobs that cancel takes (not a follow-up, a re-run or one marked running).
         */
        java.util.Optional<String> refusal(org.buildhook.runner.store.Job job) {
            Refusing now = refusing;
            java.util.Optional<java.util.Map.Entry<String, org.buildhook.runner.store.RuleRenames.Taken>> to =
                    now.rules().get(job.ruleName());
            if (to == null || heldBack != null || job.rerunOf() != null || job.workflow().parentId() != null
                    || job.state() == org.buildhook.runner.store.JobState.RUNNING
                    // A renamed rule's job that already ran (its retry) goes on under the new name's slots (review36).
                    || to.isPresent() && job.attempts() > 0) {
                return java.util.Optional.empty();
            }
            OtherRulesRunning others = elsewhere;
            if (others != null && others.test(now.set())) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(notInForce(job.ruleName(), now.where(), to, job.deliveryId()));
        }

        /** {@code rules} is now in force: adds what it disabled or removed, drops what it enables. */
        void nowInForce(RuleSet rules) {
            java.util.Set<String> enabled = java.util.Set.copyOf(rules.ruleNames());
            pending.addAll(hadInForce);
            pending.addAll(rules.disabledRuleNames());
            pending.removeAll(enabled);
            out.addAll(hadInForce);
            out.addAll(rules.disabledRuleNames());
            out.removeAll(enabled);
            saidLeft.retainAll(pending); // a rule enabled again: its jobs are no longer left
            hadInForce.clear();
            hadInForce.addAll(enabled);
        }
    }

    /**
     * PostgreSQL, at each comparison of the nodes' rules that finds them agreeing ({@link ClusterRules}):
     * when the start or the reload of {@code rules} left the stored jobs of the rules this node knows were
     * taken out because another running node had other rules (rulesdiff23), cancels them now; nothing
     * otherwise, and never a rule this node merely lacks (rulesknown23). The same turn as
     * {@link #applyLimits}, and only while {@code rules} is still in force.
     */
    private static void cancelLeftJobsOnceAgreed(Store store, RuleSet rules, RulesWatcher watcher, Object turn,
            org.buildhook.runner.engine.EngineConfig engine, RulesTakenOut takenOut) {
        if (takenOut.heldBack != rules) {
            return;
        }
        synchronized (turn) {
            if (takenOut.heldBack == rules && (watcher == null || watcher.current() == rules)) {
                takenOut.heldBack = cancelJobsOfRulesTakenOut(store, rules, takenOut, engine, false) ? null : rules;
                if (takenOut.cancelLeft) {
                    takenOut.left = rules; // the store refused the cancel: tried again at each look
                }
            }
        }
    }

    /**
     * PostgreSQL, at each comparison of the nodes' rules that finds a lasting difference ({@link ClusterRules}: at
     * the start's at once, otherwise once it has stayed the same for {@code runner.heartbeat-interval}): when the
     * start or the reload of {@code rules} left the stored jobs of the rules taken out, says so in one {@code WARN}
     * with how many per rule (rulesdiff23), once per such set. Not at the reload itself (tryout30 F7: two nodes that
     * reload one file a moment apart made the first warn of jobs the second cancelled milliseconds later, and its
     * log never said so). The same turn as {@link #applyLimits}, and only while {@code rules} is still in force.
     * Likewise, in a second {@code WARN}, the jobs not started yet left ungated of the rules that ask for an
     * approval ({@link #gateJobsPlannedWithoutApproval}).
     */
    private static void sayJobsLeftWhileRulesDiffer(Store store, RuleSet rules, RulesWatcher watcher, Object turn,
            org.buildhook.runner.engine.EngineConfig engine, RulesTakenOut takenOut) {
        if (takenOut.heldBack != rules || takenOut.said == rules) {
            return;
        }
        synchronized (turn) {
            if (takenOut.heldBack != rules || takenOut.said == rules
                    || (watcher != null && watcher.current() != rules)) {
                return;
            }
            String node = engine.nodeId();
            try {
                org.buildhook.runner.rules.RulesFingerprint own = org.buildhook.runner.rules.RulesFingerprint.of(rules);
                java.util.Optional<org.buildhook.runner.store.RulesDisagreement> differ =
                        org.buildhook.runner.store.RulesDisagreement.among(node, own,
                                store.nodeLeases().runningNodesRules(engine.deadNodeLimit()));
                if (differ.isEmpty()) {
                    return; // they agree now: the next comparison cancels the jobs
                }
                java.util.List<Store.RuleNotInForce> left = store.jobsOfRules(java.util.Set.copyOf(takenOut.pending));
                java.util.Map<String, Integer> ungated = store.jobsToGate(rules.approvalExpiries().keySet());
                takenOut.said = rules;
                if (!ungated.isEmpty()) {
                    LOG.warn("the stored jobs not started yet of the rules that ask for an approval {} but were planned"
                            + " without one are left as they are, not made to await one: {}; running node(s) {} have"
                            + " other rules (fingerprint {} here), which may not ask for it. They are made to await"
                            + " one once every running node has the same rules (this node compares them every"
                            + " runner.heartbeat-interval, and at each start and reload); until then they run when"
                            + " due", where(node, rules), ungated.entrySet().stream().map(r -> "rule '" + r.getKey()
                                    + "': " + r.getValue() + " job(s)").collect(java.util.stream.Collectors.joining(
                                            ", ")), String.join(", ", differ.get().otherNodeIds()), own.shortForm());
                }
                if (!left.isEmpty()) {
                    LOG.warn("the stored jobs still to run of the rules disabled or removed {} are left as they are,"
                            + " not cancelled: {}; running node(s) {} have other rules (fingerprint {} here), and may"
                            + " still run those rules. They are cancelled once every running node has the same"
                            + " rules (this node compares them every runner.heartbeat-interval, and at each start"
                            + " and reload); until then they run when due or approved", where(node, rules),
                            left.stream().map(r -> "rule '" + r.rule() + "': " + r.cancelled() + " job(s)")
                                    .collect(java.util.stream.Collectors.joining(", ")),
                            String.join(", ", differ.get().otherNodeIds()), own.shortForm());
                    left.forEach(r -> takenOut.saidLeft.add(r.rule()));
                }
            } catch (RuntimeException e) {
                // The store does not answer: the next comparison that finds the difference says it.
                LOG.debug("could not count the stored jobs left of the rules taken out: {}", e.toString());
            }
        }
    }

    /**
     * At a start, says in one {@code WARN} which rules the rules file has neither enabled nor disabled though the store
     * holds jobs of them still to run ({@link Store#jobsToRunByRule}), how many each, and what to do (tryout36 F13: a
     * rule removed while the server was stopped, an upgrade with a new rules file, had its job cut short by the stop
     * run again after the start without a word). Such a rule is not cancelled (rulesknown23: in a cluster it may be
     * another node's new rule): its jobs run as they were stored, those awaiting an approval once approved. On
     * PostgreSQL the jobs marked running are named apart, with their node ({@link Store#jobsMarkedRunningByRule}):
     * one may run on another node now, or have been left by a node that crashed, which runs again later from its
     * stored plan (fixes38 F4: they were not counted). A store that does not answer leaves it unsaid (debug): the
     * start itself is not held up.
     */
    private static void sayJobsOfRulesNotInTheFile(Store store, RuleSet rules, String node) {
        java.util.Map<String, Integer> absent;
        java.util.Map<String, java.util.Map<String, Integer>> running;
        try {
            absent = new java.util.TreeMap<>(store.jobsToRunByRule());
            running = new java.util.TreeMap<>(store.jobsMarkedRunningByRule());
        } catch (RuntimeException e) {
            LOG.debug("could not read the rules of the stored jobs still to run: {}", e.toString());
            return;
        }
        for (java.util.Map<String, ?> byRule : java.util.List.of(absent, running)) {
            byRule.keySet().removeAll(rules.ruleNames());
            byRule.keySet().removeAll(rules.disabledRuleNames()); // cancelled, or left and said, by applyLimits
        }
        if (absent.isEmpty() && running.isEmpty()) {
            return;
        }
        boolean cluster = store.dialect() == org.buildhook.runner.store.Dialect.POSTGRESQL;
        org.buildhook.runner.store.RuleRenames renames = org.buildhook.runner.store.RuleRenames.of(
                rules.renamedFrom(), rules.snapshots());
        java.util.SortedSet<String> names = new java.util.TreeSet<>(absent.keySet());
        names.addAll(running.keySet());
        String named = names.stream().map(r -> "rule '" + r + "': " + jobsOfRule(absent.get(r), running.get(r), node)
                + renamedTo(renames, r).map(to -> " (rule '" + to + "' is renamed from it)").orElse(""))
                .collect(java.util.stream.Collectors.joining(", "));
        LOG.warn("stored jobs still to run (queued, waiting or awaiting an approval{}) are of rules neither enabled nor"
                + " disabled {}: {}; they are not cancelled (a rule merely absent from the file at a start is not{})"
                + " and run as they were stored, those awaiting an approval once approved. If a rule was removed on"
                + " purpose, cancel its jobs (buildhook jobs --rule NAME lists them, buildhook cancel JOB cancels"
                + " one), or put it back with enabled: false: the next reload or start cancels them",
                !cluster ? ", or still marked running after a crash" : running.isEmpty() ? ""
                        : ", or marked running on a node, which runs them if it still runs; else they run again at its"
                                + " next start, or here once it is taken for dead",
                where(node, rules), named, cluster ? ": it may be another node's new rule" : "");
    }

    /**
     * At a start, before the engine's: the stored jobs not ended whose rule as stored this build refuses, which it
     * cancels at their pick instead of running them (tryout42 F7: jobs an older build stored ran their payload's text
     * as shell code after the upgrade, and the start said nothing), and those stored with a payload value it refuses,
     * which it ends FAILED (values43 V2), in one {@code WARN} ({@link RefusedStoredJobs}). A
     * store that does not answer leaves it unsaid (debug): the engine looks at each job all the same.
     */
    private static void sayStoredJobsRefused(Store store) {
        try (java.sql.Connection c = store.dataSource().getConnection()) {
            RefusedStoredJobs.of(c).ifPresent(jobs -> LOG.warn(jobs.describe()));
        } catch (java.sql.SQLException | RuntimeException e) {
            LOG.debug("could not look for stored jobs of rules this build refuses: {}", e.toString());
        }
    }

    /**
     * A rule's jobs in the start's {@code WARN} of rules not in the file: {@code "2 job(s)"}, with those marked running
     * by node on PostgreSQL ({@code "2 job(s) and 1 marked running on node n2"}, {@code "1 job(s) marked running on
     * node n2"}); this node's own are said to be its last run's.
     */
    private static String jobsOfRule(Integer toRun, java.util.Map<String, Integer> running, String self) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        if (toRun != null) {
            parts.add(toRun + " job(s)");
        }
        if (running != null) {
            running.forEach((on, count) -> parts.add(count + (toRun == null ? " job(s)" : "") + " marked running on node "
                    + (on.isEmpty() ? "(unknown)" : on) + (on.equals(self) ? " (this node's last run)" : "")));
        }
        return String.join(" and ", parts);
    }

    /** How many job ids a reload's {@code WARN} names before it says how many more. */
    private static final int JOBS_NAMED = 10;

    /**
     * Says, in one {@code WARN} per rule, what of a reload from {@code before} to {@code after} the stored jobs do
     * not follow (tryout33): (F1) the jobs still running of a rule taken out, which no rule in force counts (a
     * rule's {@code concurrency} and {@code supersede} see only jobs of its own name), naming the new rule with the
     * same {@code run} (likely the rule renamed) that may start a job beside them. (F11, the jobs not started yet of
     * a rule that asks for an approval now: they are made to await one, {@link #gateJobsPlannedWithoutApproval}.) A
     * store that does not answer leaves it unsaid (debug): the reload itself is not held up.
     */
    private static void sayWhatStoredJobsDoNotFollow(Store store, RuleSet before, RuleSet after,
            org.buildhook.runner.engine.EngineConfig engine) {
        org.buildhook.runner.rules.RulesChange change = org.buildhook.runner.rules.RulesChange.between(before, after);
        java.util.Set<String> takenOut = new java.util.TreeSet<>(before.ruleNames());
        takenOut.removeAll(after.ruleNames());
        String where = where(engine.nodeId(), after);
        org.buildhook.runner.store.RuleRenames renames = store.ledger().renames();
        try {
            for (String rule : takenOut) {
                java.util.List<org.buildhook.runner.store.Job> running = store.jobs(new org.buildhook.runner.store.JobQuery(
                        org.buildhook.runner.store.JobState.RUNNING, rule, null, null, 500)).items();
                if (running.isEmpty()) {
                    continue;
                }
                String renamed = renames.takenBy(rule, before.snapshots().get(rule)).map(to -> to.getValue()
                        == org.buildhook.runner.store.RuleRenames.Taken.RENAMED_FROM
                        ? "; rule '" + to.getKey() + "' is renamed from it (renamed-from): " + counted(to.getKey())
                        : before.ruleNames().contains(to.getKey())
                        // In force beside it all along: no rename to write (takeover42 T2), only what it counts.
                        ? "; rule '" + to.getKey() + "', in force beside it with the same run word for word, counts"
                                + " them as its own now: " + counted(to.getKey())
                        : "; rule '" + to.getKey() + "', in force with the same run word for word, is taken as"
                                + " renamed from it: " + counted(to.getKey()) + ". Write renamed-from: " + rule
                                + " on rule '" + to.getKey() + "' to say so (it then counts them also once its run"
                                + " changes)").orElse(change.renamedTo(rule).map(to -> "; rule '" + to + "', new in"
                                        + " this version with the same run, is a rule of its own to buildhook (a"
                                        + " renamed rule is a new rule): its concurrency does not count them, and its"
                                        + " next job may run beside them. To keep one at a time, let them end before"
                                        + " its next build (buildhook jobs --rule " + rule + " --state running), or"
                                        + " cancel them with buildhook cancel JOB").orElse("; the rules in force do not"
                                                + " count them against any concurrency (write renamed-from: " + rule
                                                + " on the rule that replaces it, if one does)"));
                LOG.warn("rule '{}' is disabled or removed {}, and {} job(s) of it still run: {}; they go on to their"
                        + " end and their follow-ups{}", rule, where, running.size(), ids(running), renamed);
            }
            sayRenamesNotFollowed(store, before, after, takenOut, renames, where);
            sayApprovalsStillAwaited(store, before, after, where);
        } catch (RuntimeException e) {
            LOG.debug("could not read the stored jobs of the rules a reload changed: {}", e.toString());
        }
    }

    /**
     * tryout50 F5: a reload that takes {@code approval} off a rule still in force leaves the jobs of it that await one
     * waiting until someone decides (an approval asked for is not dropped silently: rules.md, Hot reload), but said
     * nothing, so the operator who took it off to let the queue flow saw those jobs expire. Says, in one {@code WARN}
     * per such rule with jobs awaiting an approval, which jobs, until when, and how to decide. Reads the store once
     * per such rule, and only when a reload takes an approval off a rule in force.
     */
    private static void sayApprovalsStillAwaited(Store store, RuleSet before, RuleSet after, String where) {
        java.util.Set<String> noLongerAsking = new java.util.TreeSet<>(before.approvalExpiries().keySet());
        noLongerAsking.retainAll(after.ruleNames());
        noLongerAsking.removeAll(after.approvalExpiries().keySet());
        if (noLongerAsking.isEmpty()) {
            return;
        }
        for (String rule : noLongerAsking) { // per rule: another rule's many awaiting jobs never hide its (review50b R9)
            java.util.List<org.buildhook.runner.store.Job> jobs = store.jobs(new org.buildhook.runner.store.JobQuery(
                    org.buildhook.runner.store.JobState.AWAITING_APPROVAL, rule, null, null, AWAITING_READ)).items();
            if (jobs.isEmpty()) {
                continue;
            }
            LOG.warn("rule '{}' no longer asks for an approval {}: {}{} of its job(s) still await the one asked for when"
                    + " they were stored, and do not run until someone decides (the last {}expires at {} unless approved"
                    + " or rejected): {}; run one with buildhook approve JOB, or drop it with buildhook reject JOB", rule,
                    where, jobs.size() == AWAITING_READ ? "at least " : "", jobs.size(),
                    jobs.size() == AWAITING_READ ? "of these " : "", jobs.stream().map(org.buildhook.runner.store.Job
                            ::expiresAt).filter(java.util.Objects::nonNull).max(java.util.Comparator.naturalOrder())
                            .map(String::valueOf).orElse("its expiry"), ids(jobs));
        }
    }

    /** How many of a rule's jobs awaiting an approval {@link #sayApprovalsStillAwaited} reads (a page of the API's). */
    private static final int AWAITING_READ = 500;

    /**
     * tryout38 F4: a rule renamed twice while a job of its first name runs ({@code deploy-v7} to {@code deploy-v8} with
     * {@code renamed-from: deploy-v7}, then to {@code deploy-v9} with {@code renamed-from: deploy-v8}). The new rule
     * counts only the names its own {@code renamed-from} writes, not the names the rule it replaces was renamed from:
     * its next job ran beside {@code deploy-v7}'s, and the reload said nothing ({@code deploy-v8} had no job running).
     * Says, in one {@code WARN} per such name with jobs still running that no rule in force counts, which rule to give
     * which {@code renamed-from}. Reads the store once per such name: at a reload that takes a renamed rule out only.
     */
    private static void sayRenamesNotFollowed(Store store, RuleSet before, RuleSet after, java.util.Set<String> takenOut,
            org.buildhook.runner.store.RuleRenames renames, String where) {
        for (String rule : takenOut) {
            java.util.Optional<String> taker = renames.takenBy(rule, before.snapshots().get(rule)).filter(to -> to
                    .getValue() == org.buildhook.runner.store.RuleRenames.Taken.RENAMED_FROM)
                    .map(java.util.Map.Entry::getKey);
            if (taker.isEmpty()) {
                continue;
            }
            for (String older : before.renamedFrom().getOrDefault(rule, java.util.List.of())) {
                if (after.ruleNames().contains(older)) {
                    continue;
                }
                java.util.List<org.buildhook.runner.store.Job> running = store.jobs(
                        new org.buildhook.runner.store.JobQuery(org.buildhook.runner.store.JobState.RUNNING, older,
                                null, null, 500)).items().stream()
                        .filter(j -> renames.takenBy(older, j.ruleSnapshot()).isEmpty()).toList();
                if (running.isEmpty()) {
                    continue;
                }
                java.util.List<String> names = new java.util.ArrayList<>(after.renamedFrom().getOrDefault(taker.get(),
                        java.util.List.of()));
                names.add(older);
                LOG.warn("rule '{}' is renamed from '{}' {}, which was renamed from '{}', and {} job(s) of '{}' still"
                        + " run: {}; renamed-from does not follow the renamed-from of the rule it names, so rule '{}'"
                        + " does not count them against its concurrency (nor supersede them), and its next job may run"
                        + " beside them. Write every earlier name whose jobs may still run: renamed-from: [{}] on rule"
                        + " '{}', and reload", taker.get(), rule, where, older, running.size(), older, ids(running),
                        taker.get(), String.join(", ", names), taker.get());
            }
        }
    }

    /** What a rule that counts the running jobs of a rule it was renamed from does with them (rename35). */
    private static String counted(String rule) {
        return "its concurrency counts them while they run (each holds one of its slots), so with a limit its next"
                + " job waits for them to end (buildhook jobs --rule " + rule + " shows it waiting for a slot)";
    }

    private static String ids(java.util.List<org.buildhook.runner.store.Job> jobs) {
        return named(jobs.stream().map(j -> new Store.JobOfDelivery(j.id(), j.deliveryId())).toList());
    }

    /** {@code J (delivery D), …}: the first {@link #JOBS_NAMED} of {@code jobs}, then {@code and N more}. */
    private static String named(java.util.List<Store.JobOfDelivery> jobs) {
        String named = jobs.stream().limit(JOBS_NAMED).map(j -> j.jobId() + " (delivery " + j.deliveryId() + ")")
                .collect(java.util.stream.Collectors.joining(", "));
        return jobs.size() > JOBS_NAMED ? named + " and " + (jobs.size() - JOBS_NAMED) + " more" : named;
    }

    /**
     * The jobs {@code stop} says were cancelled now, as {@code (J (delivery D), … and N more)}: the replay the WARN
     * advises needs the delivery (tryout38 F7: it named none). Those this cancel made, as the store returned them
     * (follow40: they were looked up afterwards by the message the cancel gave them, which named an earlier cancel's
     * jobs too had it given them the same one, and missed a job whose cancel was still to be seen by its node). Empty
     * when there is none.
     */
    static String cancelledNow(Store.RuleNotInForce stop) {
        return stop.jobs().isEmpty() ? "" : " (" + named(stop.jobs()) + ")";
    }

    /** The rule in force whose {@code renamed-from} names {@code rule}, if one does (tryout36 F8). */
    private static java.util.Optional<String> renamedTo(org.buildhook.runner.store.RuleRenames renames, String rule) {
        return renames.takenBy(rule, null).map(java.util.Map.Entry::getKey);
    }

    /**
     * Why a job of {@code rule}, taken out of the rules in force {@code where}, is cancelled, and what to do: after a
     * rename the rule never comes back, and {@code buildhook rerun} would make a job of the old name, so the remedy is
     * a replay of the job's {@code delivery} with the new name, ready to paste (tryout36 F8: it said "rerun once the
     * rule is back"; tryout41 F2: so it still did for a rule renamed without {@code renamed-from}, recognised by the
     * same {@code run} as the reload's {@code WARN} does, and the replay left the delivery out).
     *
     * @param renamedTo the rule in force that takes {@code rule} over, and how; empty when none does
     * @param delivery  the cancelled job's delivery id, for the replay's command
     */
    static String notInForce(String rule, String where,
            java.util.Optional<java.util.Map.Entry<String, org.buildhook.runner.store.RuleRenames.Taken>> renamedTo,
            String delivery) {
        return renamedTo.map(to -> "its rule '" + rule + "' is renamed to '" + to.getKey() + "' (" + (to.getValue()
                == org.buildhook.runner.store.RuleRenames.Taken.RENAMED_FROM ? "renamed-from"
                        : "the same run word for word") + ") " + where + "; for a job of the new name"
                + " replay its delivery: buildhook replay " + delivery + " --rule " + to.getKey() + " (buildhook rerun"
                + " would make one of the old name)")
                .orElse("its rule '" + rule + "' is disabled or removed " + where + "; run it again with buildhook"
                        + " rerun once the rule is back");
    }

    private static String where(String node, RuleSet rules) {
        return "in the rules in force on node " + node + " (" + rules.source() + ", loaded at " + rules.loadedAt()
                + ")";
    }

    /**
     * Cancels the stored jobs still to run of the rules in {@code takenOut.pending} (tryout24 F1; rules this node
     * knows were disabled or removed, rulesknown23), saying per rule how many in one {@code WARN}, and empties it;
     * a store that does not answer leaves them, said in one {@code WARN}, and keeps them for the next reload. On
     * PostgreSQL, while another running node has other rules (a rolling change of the rules file: it may still
     * run them), cancels nothing (rulesdiff23); that is said by {@link #sayJobsLeftWhileRulesDiffer} once the
     * difference lasts. A rule said so whose jobs another node cancelled meanwhile (or that ran) is said resolved
     * in one {@code INFO} once the jobs are no longer left. Nodes that record no fingerprint (older buildhooks) are
     * not compared, as in {@link ClusterRules}. This node's fingerprint is that of {@code rules}, never the one its
     * claim recorded (at a start, still the previous run's). Under the same agreement, makes the stored jobs not
     * started yet of the rules in force that ask for an approval, planned without one, await it (tryout33 F11,
     * {@link #gateJobsPlannedWithoutApproval}), before the cancel.
     *
     * @return false when the jobs were left because another running node has other rules
     */
    private static boolean cancelJobsOfRulesTakenOut(Store store, RuleSet rules, RulesTakenOut taken,
            org.buildhook.runner.engine.EngineConfig engine, boolean again) {
        java.util.Set<String> takenOut = taken.pending;
        taken.cancelLeft = false;
        java.util.Map<String, java.time.Duration> approvals = rules.approvalExpiries();
        if (takenOut.isEmpty() && approvals.isEmpty()) {
            return true;
        }
        String node = engine.nodeId();
        java.util.Set<String> names = java.util.Set.copyOf(takenOut);
        String where = where(node, rules);
        try {
            if (store.dialect() == org.buildhook.runner.store.Dialect.POSTGRESQL) {
                org.buildhook.runner.rules.RulesFingerprint own = org.buildhook.runner.rules.RulesFingerprint.of(rules);
                if (org.buildhook.runner.store.RulesDisagreement.among(node, own,
                        store.nodeLeases().runningNodesRules(engine.deadNodeLimit())).isPresent()) {
                    if (taken.elsewhere != null) {
                        taken.elsewhere.differing(rules);
                    }
                    return false;
                }
            }
        } catch (RuntimeException e) {
            taken.cancelLeft = true;
            if (again) {
                LOG.debug("the stored jobs of the rules disabled or removed in {} could not be looked at again: {}",
                        rules.source(), e.toString());
                return true;
            }
            LOG.warn("the stored jobs of the rules disabled or removed, or that ask for an approval, in {} could not be"
                    + " looked at ({}): this node tries again every few seconds until the store answers, and"
                    + " meanwhile starts none of the jobs of those rules (each ends CANCELLED at its pick); jobs that"
                    + " ask for an approval may run as planned; list them with buildhook jobs --rule NAME, cancel one"
                    + " with buildhook cancel JOB", rules.source(), e.getMessage());
            return true;
        }
        gateJobsPlannedWithoutApproval(store, approvals, rules.approvalRequests(), where);
        if (takenOut.isEmpty()) {
            return true;
        }
        try {
            java.util.Set<String> resolved = new java.util.TreeSet<>(taken.saidLeft);
            org.buildhook.runner.store.RuleRenames renames = org.buildhook.runner.store.RuleRenames.of(
                    rules.renamedFrom(), rules.snapshots());
            for (Store.RuleNotInForce stop : store.cancelJobsOfRules(names, (rule, job) -> notInForce(rule, where,
                    taken.renamedTo(renames, rule), job.deliveryId()))) {
                LOG.warn("rule '{}' is disabled or removed {}: {} of its stored job(s) still to run (queued, waiting or"
                        + " awaiting an approval) will not run: cancelled{}; jobs of it already running go on{}",
                        stop.rule(), where, stop.cancelled(), cancelledNow(stop),
                        taken.renamedTo(renames, stop.rule()).map(to -> "; rule '" + to.getKey()
                                + "' is renamed from it (" + (to.getValue()
                                        == org.buildhook.runner.store.RuleRenames.Taken.RENAMED_FROM ? "renamed-from"
                                                : "the same run") + "): for a job of the new name, replay "
                                + (stop.jobs().size() == 1 ? "its delivery: buildhook replay "
                                        + stop.jobs().get(0).deliveryId() : "a job's delivery: buildhook replay DELIVERY")
                                + " --rule " + to.getKey()).orElse(""));
                resolved.remove(stop.rule());
            }
            resolved.retainAll(names);
            if (!resolved.isEmpty()) {
                LOG.info("every running node has the same rules as node {} now, and the stored jobs said above to be"
                        + " left as they are have none still to run: {}; another node cancelled them (its log says"
                        + " so), or they ran meanwhile", node, resolved.stream().map(r -> "rule '" + r + "'")
                                .collect(java.util.stream.Collectors.joining(", ")));
            }
            taken.saidLeft.removeAll(names);
            takenOut.removeAll(names);
            taken.cancelLeft = false;
        } catch (RuntimeException e) {
            taken.cancelLeft = true;
            if (again) {
                LOG.debug("the stored jobs of the rules disabled or removed in {} could not be cancelled again: {}",
                        rules.source(), e.toString());
            } else {
                // tryout57 F4: said "they may still run", and nothing tried again.
                LOG.warn("the stored jobs of the rules disabled or removed in {} could not be cancelled ({}): this node"
                        + " tries again every few seconds until the store takes it, and meanwhile starts none of them"
                        + " (each ends CANCELLED at its pick, with the same words) nor lets one be approved",
                        rules.source(), e.getMessage());
            }
        }
        return true;
    }

    /**
     * Makes the stored jobs not started yet of the rules in {@code approvals} (which ask for an approval in the rules
     * in force {@code where}) that were planned without one await one ({@link Store#gateJobsOfRules}, tryout33 F11),
     * saying per rule in one {@code WARN} which, and until when, and for a rule of {@code requests} (it has an
     * {@code on-approval-request}) that each starts it once, with the rule's request as this file writes it (tryout47b
     * F18, approval50: before, they were left planned without it and started none). Called only while every running
     * node has the same rules (PostgreSQL), as the cancel of the rules taken out; a store that does not answer leaves
     * them, said in one {@code WARN}, until the next start, reload or (held back) comparison.
     */
    private static void gateJobsPlannedWithoutApproval(Store store, java.util.Map<String, java.time.Duration> approvals,
            java.util.Map<String, String> requests, String where) {
        if (approvals.isEmpty()) {
            return;
        }
        try {
            for (Store.GatedRule gate : store.gateJobsOfRules(approvals, requests, rule -> "awaiting the approval its"
                    + " rule '" + rule + "' asks for " + where + ": it was queued before, planned without one")) {
                boolean asks = requests.containsKey(gate.rule());
                if (!gate.gated().isEmpty()) {
                    LOG.warn("rule '{}' asks for an approval {}: {} of its stored job(s) not started yet, planned"
                            + " without one, now await one (as its new deliveries' jobs do), expiring at {} unless"
                            + " approved or rejected: {}; approve one with buildhook approve JOB{}", gate.rule(), where,
                            gate.gated().size(), gate.expiresAt(), ids(gate.gated()),
                            asks ? "; each starts the rule's on-approval-request once, as this file writes it, to"
                                    + " tell the approvers (buildhook jobs --parent JOB shows it)" : "");
                }
                if (!gate.atItsStart().isEmpty()) {
                    LOG.warn("rule '{}' asks for an approval {}: {} of its stored job(s) planned without one were"
                            + " being started by a node at this moment: each awaits one instead, unless its start came"
                            + " first (then it runs, started before the approval was asked for){}: {}", gate.rule(),
                            where, gate.atItsStart().size(), asks ? "; one that awaits it starts the rule's"
                                    + " on-approval-request once" : "", ids(gate.atItsStart()));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("the stored jobs not started yet of the rules that ask for an approval {} could not be made to"
                    + " await one ({}): they may run without one; list them with buildhook jobs --rule NAME --state"
                    + " queued, and cancel one with buildhook cancel JOB (then replay its delivery: buildhook replay"
                    + " DELIVERY); the next reload or start tries again", where, e.getMessage());
        }
    }

    /**
     * Gives the jobs still to run the concurrency limits of {@code rules}
     * ({@link org.buildhook.runner.store.ExecutionLedger#changeLimits}); a store that refuses leaves them, said in one
     * {@code WARN} ({@code again}: not said, a try of {@link #storeWorkAgain}).
     *
     * @return whether they were given
     */
    private static boolean giveLimits(Store store, RuleSet rules, boolean again) {
        try {
            boolean cluster = store.dialect() == org.buildhook.runner.store.Dialect.POSTGRESQL;
            for (org.buildhook.runner.store.ExecutionLedger.LimitChange change
                    : store.ledger().changeLimits(rules.concurrencyLimits())) {
                // Per rule, from and to: in a cluster, a node whose rules file differs from the others' flips a
                // limit at every start, and this line is where that shows (tryout17 F4).
                LOG.info("rule '{}': {} job(s) still to run now go by {} in {} (they were stored with {}){}",
                        change.rule(), change.jobs(), limit(change.to()), rules.source(), limit(change.from()),
                        cluster ? "; in a cluster every node must run the same rules file: a node started or"
                                + " reloaded with another puts its own limits back for the whole cluster" : "");
            }
            return true;
        } catch (RuntimeException e) {
            if (again) {
                LOG.debug("the concurrency limits of {} could not be given to the jobs already stored again: {}",
                        rules.source(), e.toString());
            } else {
                // Safe meanwhile (review57b F2): a rule's limit is its newest job's, a job stored without one is read
                // with it, and the jobs running without a slot count against it. tryout57 F5: tried again now;
                // before, only a new delivery of the rule or the next start or reload put the new limit in force.
                LOG.warn("the concurrency limits of {} could not be given to the jobs already stored ({}): this node"
                        + " tries again every few seconds until the store takes them; until then a rule whose limit"
                        + " changed goes by the one its newest job still to run was stored with", rules.source(),
                        e.getMessage());
            }
            return false;
        }
    }

    /** As {@link #giveLimits}, for the resource capacities of {@code rules}. */
    private static boolean giveCapacities(Store store, RuleSet rules, boolean again) {
        try {
            for (org.buildhook.runner.store.ResourceLedger.CapacityChange change
                    : store.resources().applyCapacities(rules.resources())) {
                LOG.info("resource '{}': {} job(s) still to run now go by capacity {} in {} (they were stored with {})",
                        change.resource(), change.jobs(), change.to(), rules.source(), change.from());
            }
            return true;
        } catch (RuntimeException e) {
            if (again) {
                LOG.debug("the resource capacities of {} could not be given to the jobs already stored again: {}",
                        rules.source(), e.toString());
            } else {
                // Given in one transaction (review57b F3): a failure changed none of them.
                LOG.warn("the resource capacities of {} could not be given to the jobs already stored ({}): none was;"
                        + " this node tries again every few seconds until the store takes them; until then they go by"
                        + " the capacities they were stored with", rules.source(), e.getMessage());
            }
            return false;
        }
    }

    private static String limit(int concurrency) {
        return concurrency == 0 ? "no concurrency limit" : "concurrency " + concurrency;
    }

    /**
     * One WARN per placeholder written the wrong way ({@link RuleSet#writingWarnings}), per rule whose jobs
     * would fail to start on this node, and per follow-up's {@code ${job.url}} left empty by a configuration without
     * {@code admin.public-url} ({@link RuleSet#jobPageWarnings}), with the rules file's line and column; an env name
     * that looks secret only by a word inside a longer word once while this server runs
     * ({@link RuleSet#writingWarningsToLog}).
     *
     * @param saidOnce the names said once so far
     */
    private static void warnAboutThisMachine(RuleSet rules, BuildhookConfig config, java.util.Set<String> saidOnce) {
        rules.nothingRunsWarning().ifPresent(w -> LOG.warn("rules file {}: {}", rules.source(), w));
        for (org.buildhook.runner.rules.Problem p : rules.writingWarningsToLog(saidOnce)) {
            LOG.warn("{}", p); // file:line:column: what, and what to write instead
        }
        for (org.buildhook.runner.rules.Problem p
                : rules.machineWarnings(config.launcher().defaultWorkdir(), System.getenv("PATH"))) {
            String where = p.line() == 0 ? p.file() : p.file() + ":" + p.line() + ":" + p.column();
            LOG.warn("{}: {}; its jobs will fail to start on this node until that is fixed", where, p.message());
        }
        if (config.engine().statusPage() == null) {
            rules.jobPageWarnings().forEach(p -> LOG.warn("{}", p));
        }
    }

    /**
     * Creates the jobs' default working directory, {@code <data-dir>/work}, when {@code runner.workdir}
     * leaves it at that (a folder named there by the operator is never created, as a rule's
     * {@code workdir} is not): one that cannot be made is said at start, as its jobs would fail to start.
     * Before the engine starts, which may start jobs at once; the launcher makes it again whenever a job
     * finds it missing (review14 F11).
     */
    private static void createDefaultWorkdir(BuildhookConfig config) {
        Path workdir = config.launcher().defaultWorkdir();
        if (!config.launcher().makesDefaultWorkdir()) {
            return;
        }
        try {
            org.buildhook.core.DataFiles.createDirectories(workdir);
        } catch (java.io.IOException e) {
            LOG.warn("the jobs' working directory {} cannot be created ({}): this node starts no job of a rule"
                    + " without a workdir until it can (they wait in the queue, their retries untouched); create that"
                    + " folder writable for this user, or set runner.workdir",
                    workdir, org.buildhook.core.IoProblems.describe(e));
        }
    }

    /**
     * A job that writes past runner.log-max-bytes has its tail held in memory, up to the cap, until it
     * ends: with every thread running such a job, that is threads × cap of heap. Said at start when it
     * is more than half the heap; such a job then keeps a shorter tail (tryout12 F1).
     */
    static java.util.Optional<String> logTailsWarning(long logCap, int threads, long maxHeap) {
        long tails = logCap * threads;
        if (maxHeap == Long.MAX_VALUE || tails <= maxHeap / 2) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("runner.log-max-bytes (" + mebibytes(logCap) + ") × runner.threads (" + threads
                + ") is " + mebibytes(tails) + ", more than half of this JVM's heap (" + mebibytes(maxHeap)
                + "): a job that writes more than runner.log-max-bytes holds its log's tail in memory until it"
                + " ends, so jobs writing that much at once keep a shorter tail than the cap; lower"
                + " runner.log-max-bytes or give the JVM more heap (JAVA_OPTS=-Xmx…)");
    }

    private static String mebibytes(long bytes) {
        return (bytes >> 20) + " MiB";
    }

    private static Supplier<RuleSet> constant(RuleSet ruleSet) {
        return () -> ruleSet;
    }

    /** The open store's installation id, empty when it cannot be read now. */
    private java.util.Optional<String> installation() {
        try {
            return java.util.Optional.of(store.installation());
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * @param reapsOrphans whether the launcher reaps the orphans handed to this JVM (the child subreaper)
     * @param saidOnce     the names of the warnings said once while this server runs, shared with its reloads
     */
    private void logSummary(RuleSet ruleSet, boolean reapsOrphans, java.util.Set<String> saidOnce) {
        LOG.info("buildhook started: endpoints {}; {} rule(s) {} from {}; store {}; data in {}; job logs in {}; build {}",
                config.endpoints().keySet(), ruleSet.size(), ruleSet.ruleNames(),
                config.rulesFile() == null ? "(no rules file configured)" : config.rulesFile(),
                config.store().describe(), config.dataDir(), config.launcher().logDirectory(), BuildInfo.describe());
        LOG.info("signatures and duplicate keys are hashed by {}; -D{}=jdk uses the JDK's SHA-256", Sha256.implementation(),
                Sha256.PROPERTY);
        if (config.rulesFile() != null) {
            warnAboutThisMachine(ruleSet, config, saidOnce);
        }
        // runner.log-dir and the payload folder: the engine's start probed them, made them, and said (one WARN)
        // when it cannot write one, pausing this node from the start (final18 F1).
        logTailsWarning(config.launcher().logCapBytes(), config.engine().threads(), Runtime.getRuntime().maxMemory())
                .ifPresent(LOG::warn);
        if (!config.admin().enabled()) {
            LOG.info("admin API and status page are off (no admin.token configured)");
        }
        // Among them, from the loader, "no rules file configured": said once.
        config.notes().forEach(LOG::info);
        config.warnings().forEach(LOG::warn);
        // The data folder's own SQLite store, left with jobs to run by a switch of store.url (tryout41 F11).
        org.buildhook.runner.store.LeftBehindJobs.of(config.store())
                .ifPresent(left -> LOG.warn(left.describe(config.store().describe())));
        // And the other way round: a store used before on this data folder, as its mark records it (switch41 F2).
        org.buildhook.runner.store.OtherStoreJobs.of(config.store(), this::installation)
                .forEach(other -> LOG.warn(other.describe(config.store().describe())));
        ProcessEncoding.current().warning().ifPresent(LOG::warn);
        if (ProcessHandle.current().pid() == 1) {
            LOG.warn(pid1Warning(reapsOrphans));
        }
    }

    /**
     * What a server that is PID 1 with no init says at start: {@link #PID_1_SUBREAPER_WARNING} when its launcher
     * reaps orphans ({@link CommonsExecLauncher#reapsOrphans()}), else {@link #PID_1_WARNING} (leftovers stay
     * zombies).
     */
    static String pid1Warning(boolean reapsOrphans) {
        return reapsOrphans ? PID_1_SUBREAPER_WARNING : PID_1_WARNING;
    }

    /** The running application of a web application; fails loudly if it did not start. */
    public static BuildhookApplication from(ServletContext context) {
        Object app = context.getAttribute(ATTRIBUTE);
        if (!(app instanceof BuildhookApplication)) {
            throw new IllegalStateException("buildhook is not running in this web application; see the start-up log");
        }
        return (BuildhookApplication) app;
    }

    public BuildhookConfig config() {
        return config;
    }

    public Store store() {
        return store;
    }

    public DeliveryService deliveries() {
        return deliveries;
    }

    /** The rules in force now, or null when no rules file is configured. */
    public RulesWatcher rules() {
        return rules;
    }

    /**
     * The running nodes of the cluster whose rules differ from this node's, as this node last looked
     * (at its start, at each reload and every {@code runner.heartbeat-interval}); empty when they agree,
     * and always on SQLite (one node).
     */
    public java.util.Optional<org.buildhook.runner.store.RulesDisagreement> clusterRulesDisagreement() {
        return clusterRules == null ? java.util.Optional.empty() : clusterRules.disagreement();
    }

    /** This instance's metrics, served by {@code GET /metrics}. */
    public BuildhookMetrics metrics() {
        return metrics;
    }

    RemoteAddress remoteAddress() {
        return remoteAddress;
    }

    /**
     * The first half of a graceful stop, for a server that can keep receiving while it runs: from
     * now on {@code /healthz} answers 503 "stopping" (a load balancer sends elsewhere), and the job
     * engine stops as in {@link #close()} — no new job starts, running ones get
     * {@code runner.shutdown-grace}, then their process trees are killed and they are put back in the
     * queue. Deliveries are still verified, stored and answered {@code 202} meanwhile; their jobs wait
     * in the store for the next start (or another node). Returns once the engine has stopped; {@link
     * #close()} must still follow. Idempotent.
     */
    public void drain() {
        // Before the stop's line: a job that ends once it is logged has its follows end with how it stands.
        logFollows.serverStopping();
        if (!stopping) {
            stopping = true;
            LOG.info(stoppingLine(store.dialect() == org.buildhook.runner.store.Dialect.POSTGRESQL,
                    config.engine().shutdownGrace()));
        }
        engine.stop();
        // A follow of a job that prints nothing would hold the server's stop until it has something to write.
        logFollows.endAll();
    }

    /**
     * The stop's first line. On PostgreSQL the other nodes run the jobs of the deliveries this node still accepts
     * at once, not at its next start (cluster27 F2).
     *
     * @param cluster whether other nodes may run the jobs (the store is PostgreSQL)
     * @param grace   {@code runner.shutdown-grace}
     */
    static String stoppingLine(boolean cluster, java.time.Duration grace) {
        return "stopping: deliveries are still accepted and stored, their jobs "
                + (cluster ? "are run by the other nodes (or by this one after its next start)"
                        : "wait for the next start")
                + "; running jobs get up to " + org.buildhook.runner.rules.Durations.describe(grace)
                + " (runner.shutdown-grace); /healthz answers 503 meanwhile";
    }

    /** The follows of jobs' logs in progress. */
    LogFollows logFollows() {
        return logFollows;
    }

    /**
     * How the attempt of job {@code jobId} ended on this node when this node's graceful stop could not record it
     * ({@link JobEngine#endNotRecorded}): what a log follow the stop ends says instead of the store's {@code RUNNING}.
     * Empty without an engine, for any other job, and before such a stop.
     *
     * @param jobId a job's id
     */
    java.util.Optional<org.buildhook.runner.engine.EndNotRecorded> endNotRecorded(String jobId) {
        return engine == null ? java.util.Optional.empty() : engine.endNotRecorded(jobId);
    }

    /**
     * The jobs whose commands this node killed itself since its store last answered (self-fencing, PostgreSQL), by
     * job id, with when ({@link JobEngine#fencedSinceTheStoreAnswered}); empty without an engine.
     */
    public java.util.Map<String, java.time.Instant> fencedJobs() {
        return engine == null ? java.util.Map.of() : engine.fencedSinceTheStoreAnswered();
    }

    /**
     * Why this node starts no jobs although it runs: it cannot write a folder an attempt needs before its
     * command (its data folder's disk full, read-only, permissions: {@link JobEngine#jobsPaused()}).
     * Empty while it can. {@code /healthz} says it as {@code "status": "degraded"} (still 200: the node
     * stores deliveries while its store can write).
     */
    public java.util.Optional<String> jobsPaused() {
        return engine.jobsPaused();
    }

    /**
     * Why this node takes no more jobs for good: another node took its {@code runner.node-id} over ({@link
     * JobEngine#nodeIdTakenOver}); empty otherwise, and on SQLite.
     */
    public java.util.Optional<String> nodeIdTakenOver() {
        return engine.nodeIdTakenOver();
    }

    /**
     * Why this node launches no job for now: its claim of its {@code runner.node-id} is gone (forgotten) and the id's
     * lock cannot be asked ({@link JobEngine#nodeIdUnclaimed}); empty otherwise, and on SQLite.
     */
    public java.util.Optional<String> nodeIdUnclaimed() {
        return engine.nodeIdUnclaimed();
    }

    /** Whether a graceful stop has begun ({@link #drain()} or {@link #close()}): {@code /healthz} says so. */
    public boolean stopping() {
        return stopping;
    }

    /**
     * Stops in the reverse order of start: the engine first (no new jobs; running ones get their
     * grace period, then their process trees are killed and left to be retried), then the launcher,
     * the store and the rules watcher.
     */
    @Override
    public void close() {
        if (!stopping) {
            // Not drained first (a WAR undeployed, a container stopping): the wait for running jobs
            // would otherwise pass without a word between the container's line and "buildhook stopped".
            stopping = true;
            LOG.info("stopping: no new job starts; running jobs get up to {} (runner.shutdown-grace), then their"
                    + " process trees are killed and they run again after the next start",
                    org.buildhook.runner.rules.Durations.describe(config.engine().shutdownGrace()));
            // As drain() does: the follows of jobs' logs end once the engine has stopped, each with the rest of its
            // log and a last line saying how its job stands (follow40: a WAR's undeploy ended them without one).
            logFollows.serverStopping();
            engine.stop();
            logFollows.endAll();
        }
        closeAll(closeInReverse);
        LOG.info("buildhook stopped");
    }

    private static void closeAll(Deque<AutoCloseable> started) {
        while (!started.isEmpty()) {
            AutoCloseable next = started.pop();
            try {
                next.close();
            } catch (Exception e) {
                LOG.warn("while stopping {}: {}", next.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
