package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;
import static org.buildhook.servlet.StatusFormat.duration;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.ClusterNodes;
import org.buildhook.runner.store.Dialect;

/**
 * The status page's Nodes panel (cluster27 F3): each node of the cluster ({@link NodesView}, as {@code GET
 * /api/nodes} lists them) with its host, pid, build, last heartbeat's age, running jobs, rules, and what the list
 * says of it; a node not heard from past the dead-node limit in red, saying what became of its jobs. Part of the
 * page's live top, so a node going silent shows without a reload. Such a node (or a gone one) has a Forget button
 * (page30), as {@code buildhook nodes forget ID}.
 */
final class StatusNodes {

    private StatusNodes() {
    }

    /** The panel; nothing when no list was read. */
    static void render(StringBuilder h, NodesView view) {
        if (view == null || view.nodes().isEmpty()) {
            return;
        }
        h.append("<h2>Nodes <small>").append(view.dialect() == Dialect.POSTGRESQL
                ? "every node of the cluster the store knows, heard from by the database's clock; the dead-node"
                        + " limit is " + escape(duration(view.deadLimit()))
                : "a SQLite store has one node").append("</small></h2><div class=\"scroll-x\"><table id=\"nodes\">"
                + "<thead><tr><th>Node</th><th>Host</th><th>PID</th><th>Version</th><th>Heard from</th>"
                + "<th>Running jobs</th><th>Rules</th><th>State</th></tr></thead><tbody>");
        for (NodesView.Node v : view.nodes()) {
            ClusterNodes.Node n = v.node();
            boolean silent = n.state() == ClusterNodes.State.SILENT || n.state() == ClusterNodes.State.GONE;
            h.append("<tr class=\"node").append(silent ? " tone-bad" : "").append("\" data-node=\"")
                    .append(escape(n.id())).append("\" data-state=\"").append(view.stateOf(n)).append("\"><td><code>")
                    .append(escape(n.id())).append("</code>");
            if (n.state() == ClusterNodes.State.SELF) {
                h.append(" <small>this node</small>");
            }
            h.append("</td><td>").append(escape(n.host())).append("</td><td class=\"num\">")
                    .append(n.pid() < 0 ? "" : Long.toString(n.pid())).append("</td><td>")
                    .append(v.version().map(Html::escape).orElse("<span class=\"muted\">not known here</span>"))
                    .append("</td><td class=\"num\">")
                    .append(n.heartbeatAge().map(a -> escape(duration(a)) + " ago").orElse("<span class=\"muted\">-</span>"))
                    .append("</td><td class=\"num\">").append(n.runningJobs()).append("</td><td>")
                    .append(v.rules().map(RulesFingerprint::shortForm).map(f -> "<code>" + escape(f) + "</code>")
                            .orElse("<span class=\"muted\">none recorded</span>"))
                    .append("</td><td>").append(silent ? "<span class=\"tone-bad\">" : "")
                    .append(escape(view.message(n))).append(silent ? "</span>" : "");
            if (silent) {
                forgetButton(h, n);
            }
            h.append("</td></tr>");
        }
        h.append("</tbody></table></div>");
    }

    /**
     * The Forget button of a node not heard from past the dead-node limit, or gone (page30): {@code DELETE
     * /api/nodes/{id}} as {@code buildhook nodes forget ID}, after the reader confirms it ({@code data-confirm}); the
     * server refuses ({@code 409}, its words shown above the page) one that still holds jobs no other node has taken
     * over, or that was heard from again meanwhile.
     */
    private static void forgetButton(StringBuilder h, ClusterNodes.Node n) {
        String path = URLEncoder.encode(n.id(), StandardCharsets.UTF_8).replace("+", "%20");
        h.append(" <button type=\"button\" class=\"forget\" data-post=\"api/nodes/").append(escape(path))
                .append("\" data-method=\"DELETE\" data-confirm=\"").append(escape("Forget node " + n.id()
                        + (n.host() == null || n.host().isEmpty() ? "" : " (host " + n.host() + ")")
                        + "? It is no longer listed nor counted; its jobs' history keeps its name. A node started"
                        + " later with this id is listed again."))
                .append("\">Forget</button>");
    }
}
