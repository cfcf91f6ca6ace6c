package org.buildhook.runner.engine;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.Dialect;
import org.buildhook.runner.store.NodeLeases;
import org.buildhook.runner.store.RulesDisagreement;
import org.buildhook.runner.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells, on PostgreSQL, whether this node runs the same rules as the cluster's other running nodes
 * (tryout17 F4): each node gives the stored jobs its own rules file's {@code concurrency}, so nodes with
 * different files change each other's limits at every start and reload. Records this node's {@link
 * RulesFingerprint} with its claim of its node id ({@link NodeLeases#recordRules}) at its start and at
 * each reload, and compares it with the running nodes' then and every {@code every}.
 *
 * <p>Logs one {@code WARN} naming the differing nodes, both fingerprints and what to do at each start that
 * finds a difference; after that, a difference is said when it is new (after a reload of this node, or the
 * differing nodes or their rules changed: another node started or reloaded) and is still the same one
 * {@code every} later. Until then the status page's banner and the {@code buildhook_rules_differing_nodes}
 * gauge show what was last said (cluster27 F10: when one rules file is rolled out to every node at once, the
 * nodes that reload first see the others' old rules for the moment the others take to reload, and warned
 * the operator to do what they had just done). Once they agree again, one {@code INFO}. Nodes that record
 * no fingerprint (older buildhooks) are never a difference. A store that does not answer changes nothing:
 * the next look tries again. Each look that finds no difference tells the listener given to {@link #start}
 * (rulesdiff23: the stored jobs of rules not in force, left while the nodes' rules differed, are cancelled
 * then); each that finds a difference said or shown tells the other listener (tryout30 F7: those jobs are
 * said to be left only then, not for a difference of a moment). One daemon thread, {@code buildhook-cluster-rules}; {@link #close()} stops it.
 */
public final class ClusterRules implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterRules.class);

    private final Store store;
    private final String nodeId;
    private final Supplier<RuleSet> rules;
    private final Duration deadLimit;
    /** How often the periodic looks come; also how long a new difference must stay the same to be said. */
    private final Duration every;
    private final ScheduledExecutorService looks;
    private final java.util.function.Consumer<RuleSet> agreeing;
    private final java.util.function.Consumer<RuleSet> differing;
    private volatile Optional<RulesDisagreement> disagreement = Optional.empty();
    /** The rule set whose fingerprint this node's claim carries; guarded by this. */
    private RuleSet recorded;
    /** The differing nodes and fingerprints last said in the log, empty when they agreed; guarded by this. */
    private List<String> said = List.of();
    /** Whether the start's look has been made; guarded by this. */
    private boolean started;
    /** A new difference seen and not said yet, or null; guarded by this. */
    private List<String> pending;
    /** When {@link #pending} was first seen ({@link System#nanoTime()}); guarded by this. */
    private long pendingSince;
    /** Whether {@link #pending} was seen by a reload's look: said even if it was said before; guarded by this. */
    private boolean pendingFromReload;

    private ClusterRules(Store store, String nodeId, Supplier<RuleSet> rules, Duration every, Duration deadLimit,
            java.util.function.Consumer<RuleSet> agreeing, java.util.function.Consumer<RuleSet> differing) {
        this.every = every;
        this.agreeing = agreeing;
        this.differing = differing;
        this.store = store;
        this.nodeId = nodeId;
        this.rules = rules;
        this.deadLimit = deadLimit;
        this.looks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "buildhook-cluster-rules");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Records this node's rules and compares them with the running nodes' now (logging a difference),
     * then looks again every {@code every}. Call once the engine has started: its claim of the node id is
     * what the fingerprint is recorded with.
     *
     * @param store  a PostgreSQL store (on SQLite, one node: nothing is ever compared)
     * @param nodeId this node's {@code runner.node-id}
     * @param rules  the rules in force now, asked at each look
     * @param every  how often to look again (the heartbeat interval); positive
     * @param deadLimit how long after its last renewal a node's claim no longer counts as a running node
     * @return the running comparison, or null on SQLite
     */
    public static ClusterRules start(Store store, String nodeId, Supplier<RuleSet> rules, Duration every,
            Duration deadLimit) {
        return start(store, nodeId, rules, every, deadLimit, set -> { });
    }

    /**
     * {@link #start(Store, String, Supplier, Duration, Duration)}, and {@code agreeing} is told, on the
     * looks' thread (at the start's look: the caller's), of each look that finds every running node
     * with this node's rules (or recording none), with the rule set compared. It must not throw, and should
     * do nothing when it has nothing to do: it is told at every such look.
     *
     * @param agreeing told the rules in force at each look that finds no difference
     * @return the running comparison, or null on SQLite
     */
    public static ClusterRules start(Store store, String nodeId, Supplier<RuleSet> rules, Duration every,
            Duration deadLimit, java.util.function.Consumer<RuleSet> agreeing) {
        return start(store, nodeId, rules, every, deadLimit, agreeing, set -> { });
    }

    /**
     * {@link #start(Store, String, Supplier, Duration, Duration, java.util.function.Consumer)}, and {@code differing}
     * is told, on the same thread, of each look that finds a difference that is said or shown: at the start's look at
     * once, otherwise only once it has stayed the same for {@code every} (a difference that lasts, not the moment
     * one rules file takes to reach every node: tryout30 F7). It must not throw, and should say nothing twice: it is
     * told at every such look.
     *
     * @param agreeing  told the rules in force at each look that finds no difference
     * @param differing told the rules in force at each look that finds a lasting difference
     * @return the running comparison, or null on SQLite
     */
    public static ClusterRules start(Store store, String nodeId, Supplier<RuleSet> rules, Duration every,
            Duration deadLimit, java.util.function.Consumer<RuleSet> agreeing,
            java.util.function.Consumer<RuleSet> differing) {
        Objects.requireNonNull(rules, "rules");
        Objects.requireNonNull(agreeing, "agreeing");
        Objects.requireNonNull(differing, "differing");
        if (store.dialect() != Dialect.POSTGRESQL) {
            return null;
        }
        if (every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("every must be positive");
        }
        ClusterRules cluster = new ClusterRules(store, nodeId, rules, every, deadLimit, agreeing, differing);
        cluster.look(Look.START);
        long millis = every.toMillis();
        cluster.looks.scheduleWithFixedDelay(() -> cluster.lookQuietly(Look.PERIODIC), millis, millis,
                TimeUnit.MILLISECONDS);
        return cluster;
    }

    /**
     * After a reload: records the new rules and compares them at once, on this comparison's own thread
     * (review18 R2): the rules watcher's listeners must not block, and a look waits for the store. A
     * difference found then is said if it is still the same one {@code every} later (cluster27 F10).
     */
    public void reloaded() {
        try {
            looks.execute(() -> lookQuietly(Look.RELOAD));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // Closed: the application stops.
        }
    }

    /** What made a look. */
    enum Look {
        /** The start's: a difference is said at once. */
        START,
        /** A reload's: a difference, even one said before, is said if it is still the same one {@code every} later. */
        RELOAD,
        /** Every {@code every}, and one {@code every} after a new difference is seen. */
        PERIODIC
    }

    /**
     * {@link #look} for the looks' thread: anything it throws is said, not left to end the periodic looks
     * without a word (review18 R3).
     */
    private void lookQuietly(Look kind) {
        try {
            store.look(() -> look(kind));
        } catch (RuntimeException e) {
            LOG.warn("comparing this node's rules with the other nodes' failed; it is tried again: {}", e.toString());
        }
    }

    /** The running nodes whose rules differ from this node's, as of the last look; empty when none do. */
    public Optional<RulesDisagreement> disagreement() {
        return disagreement;
    }

    /**
     * One look: records the rules in force when they are not yet, reads the running nodes' and says what
     * changed.
     *
     * @param kind what made it
     */
    synchronized void look(Look kind) {
        RuleSet set = rules.get();
        RulesFingerprint own = RulesFingerprint.of(set);
        List<NodeLeases.NodeRules> nodes;
        try {
            if (set != recorded && store.nodeLeases().recordRules(nodeId, NodeIdentity.current(), own,
                    set.loadedAt())) {
                recorded = set;
            }
            nodes = store.nodeLeases().runningNodesRules(deadLimit);
            if (set == recorded && nodes.stream().anyMatch(n -> n.nodeId().equals(nodeId) && n.fingerprint().isEmpty())
                    && store.nodeLeases().recordRules(nodeId, NodeIdentity.current(), own, set.loadedAt())) {
                // Its claim was written again without them (the node was forgotten while cut off, then claimed its
                // id again at a renewal): recorded anew, or the others would take it for an older buildhook.
                nodes = store.nodeLeases().runningNodesRules(deadLimit);
            }
        } catch (RuntimeException e) {
            LOG.debug("could not compare this node's rules with the other nodes' now: {}", e.toString());
            return;
        }
        Optional<RulesDisagreement> now = RulesDisagreement.among(nodeId, own, nodes);
        List<String> key = now.map(d -> java.util.stream.Stream.concat(java.util.stream.Stream.of(own.hex()),
                d.others().stream().map(n -> n.nodeId() + "=" + n.fingerprint().orElseThrow().hex())).toList())
                .orElse(List.of());
        if (now.isPresent() && kind != Look.START && !confirmed(kind, key)) {
            return;
        }
        pending = null;
        disagreement = now;
        if (now.isPresent() && (kind == Look.START || !key.equals(said))) {
            RulesDisagreement d = now.get();
            LOG.warn("this node ({}) has other rules than {} running node(s): its rules file {} has fingerprint {},"
                    + " but {}. {}: {}", nodeId, d.others().size(), set.source(), own.shortForm(), d.describeOthers(),
                    RulesDisagreement.WHY_IT_MATTERS, RulesDisagreement.WHAT_TO_DO);
        } else if (now.isEmpty() && !said.isEmpty()) {
            LOG.info("the rules of this node ({}) and of every other running node agree again: fingerprint {}", nodeId,
                    own.shortForm());
        } else if (now.isEmpty() && !started) {
            List<String> same = nodes.stream().filter(n -> !n.nodeId().equals(nodeId) && n.fingerprint().isPresent())
                    .map(NodeLeases.NodeRules::nodeId).toList();
            // A node that claimed its id within the dead-node limit may be starting beside this one and record its
            // fingerprint moments later: not called older (cluster27 F1); compared at the next looks once it does.
            List<String> older = nodes.stream().filter(n -> !n.nodeId().equals(nodeId) && n.fingerprint().isEmpty()
                    && n.claimedFor().compareTo(deadLimit) > 0).map(NodeLeases.NodeRules::nodeId).toList();
            List<String> starting = nodes.stream().filter(n -> !n.nodeId().equals(nodeId) && n.fingerprint().isEmpty()
                    && n.claimedFor().compareTo(deadLimit) <= 0).map(NodeLeases.NodeRules::nodeId).toList();
            LOG.info("this node ({}) has rules fingerprint {}{}{}{}", nodeId, own.shortForm(),
                    same.isEmpty() ? "" : "; the same as the other running node(s) " + String.join(", ", same),
                    older.isEmpty() ? "" : "; running node(s) " + String.join(", ", older) + " record no fingerprint"
                            + " (a buildhook older than this one): not compared",
                    starting.isEmpty() ? "" : "; node(s) " + String.join(", ", starting) + " started within the"
                            + " dead-node limit and have not recorded their rules yet: compared once they do");
        }
        said = key;
        started = true;
        if (now.isEmpty()) {
            agreeing.accept(set);
        } else {
            differing.accept(set);
        }
    }

    /**
     * Whether difference {@code key}, seen by a look of {@code kind} other than the start's, is to be said (or, when
     * it is the one said last, shown) now: it is not new, or it has stayed the same for {@code every}. A new one is
     * noted, and one more look is made when it has stayed for {@code every}.
     */
    private boolean confirmed(Look kind, List<String> key) {
        boolean news = kind == Look.RELOAD || !key.equals(said);
        if (!news && pending == null) {
            return true; // the difference said last: shown, not said again
        }
        if (kind == Look.RELOAD || !key.equals(pending)) {
            if (news) {
                pending = key;
                pendingSince = System.nanoTime();
                pendingFromReload = kind == Look.RELOAD;
                try {
                    looks.schedule(() -> lookQuietly(Look.PERIODIC), every.toMillis(), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    // Closed: the application stops.
                }
                return false;
            }
            pending = null; // back to the difference said last before the new one stayed
            return true;
        }
        if (System.nanoTime() - pendingSince < every.toNanos()) {
            return false;
        }
        if (pendingFromReload) {
            said = List.of(); // a reload's difference is said again, even if it is the one said before it
        }
        return true;
    }

    /**
     * Stops the looks without waiting for one in progress: a look waiting for a connection is interrupted
     * and ends at once; a look whose call the database leaves unanswered is not waited for here, where no
     * budget of the stop counts it (it waited up to 5 s, review18 R4), but ends with the store's other
     * unanswered calls once the stop's grace period is over (its connection came through the store's
     * stop watch), within the stop's bound (docs/storage.md, "Graceful shutdown"). Whatever a look still
     * reads or records after this changes nothing the stop needs.
     */
    @Override
    public void close() {
        looks.shutdownNow();
    }
}
