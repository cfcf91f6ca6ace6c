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
 */
record NodesView(List<Node> nodes, Duration deadLimit, Dialect dialect) {

    NodesView {
        nodes = List.copyOf(nodes);
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
        return new NodesView(nodes, limit, app.store().dialect());
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
        m.put("state", state(n));
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
        return m;
    }

    /** {@code running} (this node too: it answers), {@code silent} or {@code gone}. */
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
        return switch (n.state()) {
            case SELF -> dialect != Dialect.POSTGRESQL ? "this node, the only one (a SQLite store has one node)"
                    : n.heartbeatAge().isEmpty() ? "this node (its claim of its node id is not written yet)"
                    : "this node";
            case RUNNING -> n.stopped() ? "running, but " + stopped(n) + ": past the dead-node limit ("
                    + Durations.describe(deadLimit) + ") the other nodes take its jobs over" : "running";
            case SILENT -> (n.stopped() ? stopped(n) + "; not heard" : "not heard") + " from for "
                    + Durations.describe(n.heartbeatAge().orElse(Duration.ZERO))
                    + " (the dead-node limit is " + Durations.describe(deadLimit) + "): " + jobs(n);
            case GONE -> "its process (pid " + n.pid() + " on this host) is gone; not heard from for "
                    + Durations.describe(n.heartbeatAge().orElse(Duration.ZERO)) + ": " + jobs(n);
        };
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
