package org.buildhook.servlet;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.ClusterNodes;
import org.buildhook.runner.store.Dialect;

/**
 * The cluster's nodes as the admin API ({@code GET /api/nodes}), {@code buildhook nodes} and the status page's
 * Nodes panel show them (cluster27 F3): the store's list ({@link ClusterNodes}) with what only this node knows of
 * itself (its build, and on SQLite, where no node records them, its rules), and one sentence per node saying what
 * the list means for it: running, or not heard from since when and what became of its jobs.
 *
 * @param nodes     this node first, then the others by id
 * @param deadLimit the dead-node limit ({@code runner.heartbeat-interval × runner.missed-heartbeats})
 * @param dialect   the store's kind: on SQLite the list is this node alone
 * @param fenced    why this node starts no jobs, for good, when its {@code runner.node-id} was taken over by another
 *                  node ({@link BuildhookApplication#nodeIdTakenOver}); empty otherwise. Then this node is still listed
 *                  first, as itself (its pid, its build), and the JVM that holds its id after it (nodes49)
 */
record NodesView(List<Node> nodes, Duration deadLimit, Dialect dialect, Optional<String> fenced) {

    NodesView {
        nodes = List.copyOf(nodes);
        java.util.Objects.requireNonNull(fenced, "fenced");
    }

    /** The nodes of a node whose id is its own (not taken over). */
    NodesView(List<Node> nodes, Duration deadLimit, Dialect dialect) {
        this(nodes, deadLimit, dialect, Optional.empty());
    }

    /**
     * One node.
     *
     * @param node    as the store lists it
     * @param version its buildhook build ({@link BuildInfo#describe}) for this node; empty for the others (a node
     *                records its build nowhere the others can read it)
     * @param rules   the fingerprint of its rules in force: as it recorded them, or this node's own
     * @param refused for this node, while its rules file on disk is refused: what and since when; empty otherwise
     *                (and for the others: a node records it nowhere the others can read it)
     */
    record Node(ClusterNodes.Node node, Optional<String> version, Optional<RulesFingerprint> rules,
            Optional<RulesRefused> refused) {

        /** A node whose rules file, as far as this node knows, is not refused. */
        Node(ClusterNodes.Node node, Optional<String> version, Optional<RulesFingerprint> rules) {
            this(node, version, rules, Optional.empty());
        }
    }

    /**
     * This node's rules file on disk, refused (tryout47b F2: only the status page, a metric and the log said it).
     *
     * @param file     the rules file, as configured
     * @param since    when its first refused version was seen (this node's clock)
     * @param problems every mistake, {@code file:line:column: words}, in file order (at least one)
     * @param loadedAt when the rules that stay in force were loaded
     */
    record RulesRefused(String file, Instant since, List<String> problems, Instant loadedAt) {

        RulesRefused {
            problems = List.copyOf(problems);
        }

        /** This node's refusal now, if its rules file on disk is refused. */
        static Optional<RulesRefused> of(org.buildhook.runner.rules.RulesWatcher rules) {
            if (rules == null) {
                return Optional.empty();
            }
            var current = rules.current();
            return rules.lastError().map(e -> new RulesRefused(String.valueOf(current.source()),
                    rules.refusedSince().orElse(null), e.problems().stream().map(Object::toString).toList(),
                    current.loadedAt()));
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file);
            m.put("since", since == null ? null : since.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString());
            m.put("problems", problems);
            m.put("inForceLoadedAt", loadedAt.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString());
            return m;
        }
    }

    /** The nodes as this node reads them now. */
    static NodesView of(BuildhookApplication app) {
        Duration limit = app.config().engine().deadNodeLimit();
        List<ClusterNodes.Node> read = app.store().nodeLeases().nodes(limit, app.config().engine().nodeId());
        Optional<RulesFingerprint> own = app.rules() == null ? Optional.empty()
                : Optional.of(RulesFingerprint.of(app.rules().current()));
        List<Node> nodes = read.stream().map(n -> n.state() == ClusterNodes.State.SELF
                ? new Node(n, Optional.of(BuildInfo.describe()), own.or(n::rules), RulesRefused.of(app.rules()))
                : new Node(n, Optional.empty(), n.rules())).toList();
        return new NodesView(nodes, limit, app.store().dialect(), app.nodeIdTakenOver());
    }

    /**
     * The JVM that holds this node's id while this node does not (its id taken over, or waited for): a node of the
     * list with this node's id that is not this node; empty in the usual case.
     */
    Optional<ClusterNodes.Node> idHolder() {
        String self = nodes.stream().map(Node::node).filter(n -> n.state() == ClusterNodes.State.SELF)
                .map(ClusterNodes.Node::id).findFirst().orElse(null);
        return nodes.stream().map(Node::node).filter(n -> n.state() != ClusterNodes.State.SELF
                && n.id().equals(self)).findFirst();
    }

    /** The API's items, one ordered map per node. */
    List<Map<String, Object>> items() {
        return nodes.stream().map(this::item).toList();
    }

    private Map<String, Object> item(Node v) {
        ClusterNodes.Node n = v.node();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", n.id());
        m.put("self", n.state() == ClusterNodes.State.SELF);
        m.put("state", stateOf(n));
        m.put("host", n.host());
        m.put("pid", n.pid() < 0 ? null : n.pid());
        m.put("version", v.version().orElse(null));
        m.put("lastHeartbeatAt", n.lastHeardAt().map(Instant::toString).orElse(null));
        m.put("heartbeatAgeMillis", n.heartbeatAge().map(Duration::toMillis).orElse(null));
        m.put("runningJobs", n.runningJobs());
        m.put("rules", v.rules().map(RulesFingerprint::hex).orElse(null));
        m.put("rulesLoadedAt", n.rulesLoadedAt().map(Instant::toString).orElse(null));
        m.put("rulesRefused", v.refused().map(RulesRefused::json).orElse(null));
        m.put("takenOverJobs", n.takenOver());
        m.put("lastTakenOverAt", n.lastTakenOverAt().map(Instant::toString).orElse(null));
        m.put("stopped", n.stopped());
        m.put("message", message(n));
        // nodes49: who holds this node's id when another JVM does (on this node's own row), and which row that is.
        Optional<ClusterNodes.Node> holder = idHolder();
        Map<String, Object> by = null;
        if (n.state() == ClusterNodes.State.SELF && holder.isPresent()) {
            by = new LinkedHashMap<>();
            by.put("host", holder.get().host());
            by.put("pid", holder.get().pid() < 0 ? null : holder.get().pid());
        }
        m.put("idHeldBy", by);
        m.put("holdsThisNodesId", holder.isPresent() && holder.get().equals(n));
        return m;
    }

    /**
     * As {@link #state(ClusterNodes.Node)}, but {@code fenced} for this node when its id was taken over by another
     * node (it answers, and starts no job, for good).
     */
    String stateOf(ClusterNodes.Node n) {
        return n.state() == ClusterNodes.State.SELF && fenced.isPresent() ? "fenced" : state(n);
    }

    /**
     * How many JVMs answer, by the list: this node (whether or not its id is its own) and the nodes listed running,
     * the holder of this node's id among them; 1 or more. In the usual case, the running count.
     */
    int answeringJvms() {
        return (int) nodes.stream().map(Node::node).filter(n -> n.state() == ClusterNodes.State.SELF
                || n.state() == ClusterNodes.State.RUNNING).count();
    }

    /**
     * {@code running} (this node too: it answers), {@code silent} or {@code gone}; for this node's own state in the list,
     * {@link #stateOf}, which says {@code fenced} of a node whose id was taken over.
     */
    static String state(ClusterNodes.Node n) {
        return switch (n.state()) {
            case SELF, RUNNING -> "running";
            case SILENT -> "silent";
            case GONE -> "gone";
        };
    }

    /**
     * What the list means for a node, in one sentence: e.g. {@code not heard from for 47s (the dead-node limit is
     * 30s): its 2 job(s) were taken over by the other nodes, the last at 2026-12-02T22:42:48Z}.
     */
    String message(ClusterNodes.Node n) {
        Optional<ClusterNodes.Node> holder = idHolder();
        return switch (n.state()) {
            case SELF -> dialect != Dialect.POSTGRESQL ? "this node, the only one (a SQLite store has one node)"
                    : fenced.isPresent() ? "this node (pid " + n.pid() + "), fenced: its node id " + n.id() + " was"
                            + " taken over by another node (" + holder.map(h -> "host " + h.host() + ", pid " + h.pid()
                            + ", listed as " + h.id()).orElse("which has stopped since") + ") while this one did not"
                            + " renew it; it starts no job, for good, and its own were left to that node. Stop this"
                            + " JVM, or give it its own runner.node-id and restart it"
                    : holder.isPresent() ? "this node (pid " + n.pid() + "), but its node id " + n.id() + " is held by"
                            + " another node (host " + holder.get().host() + ", pid " + holder.get().pid() + "): no job"
                            + " starts here under it"
                    : n.heartbeatAge().isEmpty() ? "this node (its claim of its node id is not written yet)"
                    : "this node";
            case RUNNING -> holder.isPresent() && holder.get().equals(n) ? "running; it holds the node id of the node that"
                    + " answered (pid " + self().map(ClusterNodes.Node::pid).map(String::valueOf).orElse("?") + ")"
                    + (fenced.isPresent() ? ", which it took over: the id's jobs run here" : "")
                    : n.stopped() ? "running, but " + stopped(n) + ": past the dead-node limit ("
                    + Durations.describe(deadLimit) + ") the other nodes take its jobs over" : "running";
            case SILENT -> (n.stopped() ? stopped(n) + "; not heard" : "not heard") + " from for "
                    + Durations.describe(n.heartbeatAge().orElse(Duration.ZERO))
                    + " (the dead-node limit is " + Durations.describe(deadLimit) + "): " + jobs(n);
            case GONE -> "its process (pid " + n.pid() + " on this host) is gone; not heard from for "
                    + Durations.describe(n.heartbeatAge().orElse(Duration.ZERO)) + ": " + jobs(n);
        };
    }

    /** This node, as listed. */
    private Optional<ClusterNodes.Node> self() {
        return nodes.stream().map(Node::node).filter(n -> n.state() == ClusterNodes.State.SELF).findFirst();
    }

    /**
     * A node of this host whose JVM is stopped (tryout46 F10: the list said only "not heard from" of a node it could
     * see was stopped, which is the first thing an operator needs to know).
     */
    private static String stopped(ClusterNodes.Node n) {
        return org.buildhook.runner.exec.ProcessIdentity.stoppedWords(n.pid());
    }

    /** What became of a silent or gone node's jobs. */
    private static String jobs(ClusterNodes.Node n) {
        String taken = n.takenOver() == 0 ? "" : "its " + n.takenOver() + " job(s) were taken over by the other"
                + " nodes, the last at " + n.lastTakenOverAt().map(Instant::toString).orElse("?");
        String pending = n.runningJobs() == 0 ? "" : n.runningJobs() + " job(s) it was running are being taken over";
        if (taken.isEmpty() && pending.isEmpty()) {
            return "none of its jobs was left to take over";
        }
        return taken.isEmpty() ? pending : pending.isEmpty() ? taken : taken + "; " + pending;
    }
}
