package org.buildhook.servlet;

import java.time.Duration;
import org.buildhook.runner.engine.ClusterRules;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.Dialect;
import org.buildhook.runner.store.RulesDisagreement;
import org.buildhook.runner.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether another running node of the cluster has other rules than a rule set of this node's, as {@link ClusterRules}
 * compares them ({@link RulesDisagreement#among}): a job of a rule this node's rules take out is refused at its pick or
 * approval only where the cancel of such jobs in the store would hold, that is while no running node has other rules
 * (review58 F1: a difference that arose after this node's last start or reload, another node's file enabling the rule
 * first or another node started with it, left the refusal armed, and this node cancelled the jobs that node stored
 * and runs, which "run when due" while the nodes differ).
 *
 * <p>A difference a comparison saw (the nodes' periodic comparison, a cancel's, or this one's) is trusted for one
 * {@code runner.heartbeat-interval}, the time the periodic comparison takes to look again: no statement at each such
 * pick. An agreement is never trusted from before: a node that reloaded a moment ago may store jobs of a rule that the
 * last comparison saw disabled everywhere, so the running nodes' rules are read (one statement) before a job is
 * refused. A store that does not answer then counts as agreeing (the job is refused, as the cancel's {@code WARN}
 * says while the store refuses it: tryout57 F4). Always false on SQLite (one node).
 */
final class OtherRulesRunning {

    private static final Logger LOG = LoggerFactory.getLogger(OtherRulesRunning.class);

    private final Store store;
    private final String node;
    private final Duration deadLimit;
    private final long trustedNanos;
    /** The last difference seen, or null (none, or an agreement seen since). */
    private volatile Seen seen;

    private record Seen(RuleSet rules, long at) {
    }

    OtherRulesRunning(Store store, org.buildhook.runner.engine.EngineConfig engine) {
        this.store = store;
        this.node = engine.nodeId();
        this.deadLimit = engine.deadNodeLimit();
        this.trustedNanos = engine.heartbeatInterval().toNanos();
    }

    /** A comparison found running nodes with other rules than {@code rules}. */
    void differing(RuleSet rules) {
        seen = new Seen(rules, System.nanoTime());
    }

    /** A comparison found every running node with {@code rules} (or recording none). */
    void agreeing(RuleSet rules) {
        Seen last = seen;
        if (last != null && last.rules() == rules) {
            seen = null;
        }
    }

    /**
     * Whether a running node has other rules than {@code rules} now: a difference seen within the last {@code
     * runner.heartbeat-interval}, or one the store shows now.
     */
    boolean test(RuleSet rules) {
        if (store.dialect() != Dialect.POSTGRESQL) {
            return false;
        }
        Seen last = seen;
        if (last != null && last.rules() == rules && System.nanoTime() - last.at() < trustedNanos) {
            return true;
        }
        try {
            boolean differ = RulesDisagreement.among(node, RulesFingerprint.of(rules),
                    store.nodeLeases().runningNodesRules(deadLimit)).isPresent();
            if (differ) {
                differing(rules);
            } else {
                agreeing(rules);
            }
            return differ;
        } catch (RuntimeException e) {
            LOG.debug("could not compare this node's rules with the other running nodes' now: {}", e.toString());
            return false;
        }
    }
}
