package org.buildhook.runner.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.buildhook.runner.rules.RulesFingerprint;

/**
 * Running nodes of a cluster whose rules differ from one set of rules (a node's own, or the file
 * {@code buildhook check} checks): each node gives the stored jobs its own file's limits, so nodes with
 * different rules files change each other's {@code concurrency} (tryout17 F4). Nodes that record no
 * fingerprint (a buildhook older than schema version 15) are never counted as differing.
 *
 * @param own    the fingerprint compared with the others'
 * @param others the running nodes whose fingerprint differs from {@code own}, by node id; never empty
 */
public record RulesDisagreement(RulesFingerprint own, List<NodeLeases.NodeRules> others) {

    /** What an operator is asked to do, in every message that shows a disagreement. */
    /**
     * Why a difference matters, said by the log's {@code WARN}, the status page's banner and {@code buildhook
     * check} alike: which jobs a build gets depends on the node that receives it (tryout19 F3), and each node
     * sets the limits of every job still to run (tryout17 F4).
     */
    public static final String WHY_IT_MATTERS = "A build gets the jobs of the rules of the node that receives it,"
            + " and each node gives the jobs still to run its own rules file's limits (concurrency), so a start or"
            + " reload of any of them changes them for the whole cluster";

    public static final String WHAT_TO_DO = "deploy the same rules file to every node, then reload it there (it is"
            + " reloaded when it changes) or restart the node; 'buildhook check --rules FILE' prints a file's"
            + " fingerprint";

    /** @throws IllegalArgumentException when {@code others} is empty or one of them has {@code own} */
    public RulesDisagreement {
        Objects.requireNonNull(own, "own");
        others = List.copyOf(others);
        if (others.isEmpty()) {
            throw new IllegalArgumentException("a disagreement needs another node");
        }
        for (NodeLeases.NodeRules node : others) {
            if (node.fingerprint().isEmpty() || node.fingerprint().get().equals(own)) {
                throw new IllegalArgumentException(node.nodeId() + " does not differ from " + own);
            }
        }
    }

    /**
     * The running nodes other than {@code self} whose rules differ from {@code own}, if any.
     *
     * @param self  the node comparing, left out; null when none is ({@code buildhook check})
     * @param own   the rules compared with
     * @param nodes the running nodes ({@link NodeLeases#runningNodesRules})
     */
    public static Optional<RulesDisagreement> among(String self, RulesFingerprint own, List<NodeLeases.NodeRules> nodes) {
        List<NodeLeases.NodeRules> differing = new ArrayList<>();
        for (NodeLeases.NodeRules node : nodes) {
            if (!node.nodeId().equals(self) && node.fingerprint().isPresent() && !node.fingerprint().get().equals(own)) {
                differing.add(node);
            }
        }
        return differing.isEmpty() ? Optional.empty() : Optional.of(new RulesDisagreement(own, differing));
    }

    /** The differing nodes with their fingerprints: "node-2 (host h, pid 7) has rules 9b0c1d2e3f40, loaded at …". */
    public String describeOthers() {
        List<String> parts = new ArrayList<>();
        for (NodeLeases.NodeRules node : others) {
            parts.add(node.describe() + " has rules " + node.fingerprint().orElseThrow().shortForm()
                    + node.loadedAt().map(at -> ", loaded at " + at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                            .orElse(""));
        }
        return String.join("; ", parts);
    }

    /** The differing nodes' ids, for a short line (the status page's banner, tests). */
    public List<String> otherNodeIds() {
        return others.stream().map(NodeLeases.NodeRules::nodeId).toList();
    }
}
