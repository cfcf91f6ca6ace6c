package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.store.ClusterNodes;
import org.buildhook.runner.store.Dialect;
import org.junit.jupiter.api.Test;

/**
 * cluster27 F3: what the nodes list says of each node (the API's {@code message}, the panel's State column) and the
 * panel's HTML: a silent node in red with what became of its jobs, every stored value escaped.
 */
class NodesViewTest {

    private static final Instant HEARD = Instant.parse("2026-12-02T22:42:16.980Z");
    private static final Instant TAKEN = Instant.parse("2026-12-02T22:42:48.960Z");

    private static ClusterNodes.Node node(String id, String host, ClusterNodes.State state, long ageMillis, int running,
            int takenOver) {
        return new ClusterNodes.Node(id, host, 4242, state, Optional.of(HEARD), Optional.of(Duration.ofMillis(ageMillis)),
                running, Optional.empty(), Optional.empty(), takenOver, takenOver == 0 ? Optional.empty()
                        : Optional.of(TAKEN));
    }

    private static NodesView view(ClusterNodes.Node... nodes) {
        return new NodesView(List.of(nodes).stream().map(n -> new NodesView.Node(n, Optional.empty(), Optional.empty()))
                .toList(), Duration.ofSeconds(30), Dialect.POSTGRESQL);
    }

    @Test
    void aSilentNodeSaysSinceWhenAndWhatBecameOfItsJobs() {
        NodesView v = view();
        assertThat(v.message(node("node2", "h", ClusterNodes.State.SILENT, 47_000, 0, 2))).isEqualTo("not heard from"
                + " for 47s (the dead-node limit is 30s): its 2 job(s) were taken over by the other nodes, the last at"
                + " 2026-12-02T22:42:48.960Z");
        assertThat(v.message(node("node2", "h", ClusterNodes.State.SILENT, 31_000, 3, 0))).isEqualTo("not heard from"
                + " for 31s (the dead-node limit is 30s): 3 job(s) it was running are being taken over");
        assertThat(v.message(node("node2", "h", ClusterNodes.State.SILENT, 40_000, 1, 1))).endsWith("its 1 job(s) were"
                + " taken over by the other nodes, the last at 2026-12-02T22:42:48.960Z; 1 job(s) it was running are"
                + " being taken over");
        assertThat(v.message(node("node2", "h", ClusterNodes.State.SILENT, 3_600_000, 0, 0)))
                .isEqualTo("not heard from for 1h (the dead-node limit is 30s): none of its jobs was left to take over");
        assertThat(v.message(node("node2", "h", ClusterNodes.State.GONE, 2_000, 0, 1))).startsWith("its process (pid"
                + " 4242 on this host) is gone; not heard from for 2s: its 1 job(s) were taken over");
        assertThat(v.message(node("node3", "h", ClusterNodes.State.RUNNING, 800, 2, 0))).isEqualTo("running");
        assertThat(v.message(node("node1", "h", ClusterNodes.State.SELF, 800, 2, 0))).isEqualTo("this node");
    }

    /**
     * tryout46 F10: a node of this host whose JVM is stopped (SIGSTOP, a debugger) is said to be stopped, with its pid
     * and what lets it go on, before and after the dead-node limit; before, the list said only "not heard from".
     */
    @Test
    void aNodeOfThisHostWhoseProcessIsStoppedIsSaidToBeStopped() {
        NodesView v = view();
        ClusterNodes.Node silent = new ClusterNodes.Node("node2", "h", 4242, ClusterNodes.State.SILENT,
                Optional.of(HEARD), Optional.of(Duration.ofMillis(31_000)), 0, Optional.empty(), Optional.empty(), 0,
                Optional.empty(), true);
        assertThat(v.message(silent)).isEqualTo("its process (pid 4242 on this host) is stopped (SIGSTOP or a"
                + " debugger; kill -CONT 4242 lets it run again); not heard from for 31s (the dead-node limit is 30s):"
                + " none of its jobs was left to take over");
        ClusterNodes.Node running = new ClusterNodes.Node("node2", "h", 4242, ClusterNodes.State.RUNNING,
                Optional.of(HEARD), Optional.of(Duration.ofMillis(5_000)), 1, Optional.empty(), Optional.empty(), 0,
                Optional.empty(), true);
        assertThat(v.message(running)).isEqualTo("running, but its process (pid 4242 on this host) is stopped (SIGSTOP"
                + " or a debugger; kill -CONT 4242 lets it run again): past the dead-node limit (30s) the other nodes"
                + " take its jobs over");
        assertThat(view(silent, node("node3", "h", ClusterNodes.State.RUNNING, 800, 0, 0)).items())
                .extracting(item -> item.get("stopped")).containsExactly(true, false);
    }

    @Test
    void thePanelShowsASilentNodeInRedAndEscapesWhatTheStoreHolds() {
        StringBuilder h = new StringBuilder();
        StatusNodes.render(h, view(node("node1", "vm", ClusterNodes.State.SELF, 500, 1, 0),
                node("<b>node2</b>", "evil\"<host>", ClusterNodes.State.SILENT, 47_000, 0, 2)));
        String html = h.toString();
        assertThat(html).contains("<table id=\"nodes\">", "the dead-node limit is 30s",
                "data-node=\"node1\" data-state=\"running\"", "<small>this node</small>",
                "<tr class=\"node tone-bad\" data-node=\"&lt;b&gt;node2&lt;/b&gt;\" data-state=\"silent\">",
                "<td>evil&quot;&lt;host&gt;</td>", "<span class=\"tone-bad\">not heard from for 47s",
                "not known here", "none recorded")
                .doesNotContain("<b>node2", "<host>");
        StringBuilder none = new StringBuilder();
        StatusNodes.render(none, null);
        assertThat(none).isEmpty();
    }

    /**
     * tryout49 F2: a node whose id another JVM holds is its own row (its pid), fenced when its id was taken over, or
     * waiting for it otherwise; the holder is listed with the same id and says so; both answer.
     */
    @Test
    void aNodeWhoseIdAnotherJvmHoldsIsItselfAndTheHolderSaysItHoldsTheId() {
        ClusterNodes.Node self = new ClusterNodes.Node("node2", "vm", 28511, ClusterNodes.State.SELF, Optional.empty(),
                Optional.empty(), 0, Optional.empty(), Optional.empty(), 0, Optional.empty());
        ClusterNodes.Node holder = new ClusterNodes.Node("node2", "vm", 4246, ClusterNodes.State.RUNNING,
                Optional.of(HEARD), Optional.of(Duration.ofMillis(900)), 4, Optional.empty(), Optional.empty(), 0,
                Optional.empty());
        ClusterNodes.Node other = node("node1", "vm", ClusterNodes.State.RUNNING, 800, 0, 0);
        List<NodesView.Node> nodes = List.of(self, holder, other).stream()
                .map(n -> new NodesView.Node(n, Optional.empty(), Optional.empty())).toList();
        NodesView fenced = new NodesView(nodes, Duration.ofSeconds(30), Dialect.POSTGRESQL,
                Optional.of("jobs do not start on this node: its node id node2 was taken over"));
        assertThat(fenced.idHolder()).contains(holder);
        assertThat(fenced.stateOf(self)).isEqualTo("fenced");
        assertThat(fenced.stateOf(holder)).isEqualTo("running");
        assertThat(fenced.answeringJvms()).isEqualTo(3);
        assertThat(fenced.message(self)).isEqualTo("this node (pid 28511), fenced: its node id node2 was taken over by"
                + " another node (host vm, pid 4246, listed as node2) while this one did not renew it; it starts no job,"
                + " for good, and its own were left to that node. Stop this JVM, or give it its own runner.node-id and"
                + " restart it");
        assertThat(fenced.message(holder)).isEqualTo("running; it holds the node id of the node that answered (pid"
                + " 28511), which it took over: the id's jobs run here");
        assertThat(fenced.message(other)).isEqualTo("running");
        assertThat(fenced.items().get(0)).containsEntry("state", "fenced").containsEntry("pid", 28511L)
                .containsEntry("holdsThisNodesId", false);
        assertThat(fenced.items().get(0).get("idHeldBy")).isEqualTo(java.util.Map.of("host", "vm", "pid", 4246L));
        assertThat(fenced.items().get(1)).containsEntry("holdsThisNodesId", true).containsEntry("idHeldBy", null);
        assertThat(fenced.items().get(2)).containsEntry("holdsThisNodesId", false);

        NodesView waiting = new NodesView(nodes, Duration.ofSeconds(30), Dialect.POSTGRESQL);
        assertThat(waiting.stateOf(self)).isEqualTo("running");
        assertThat(waiting.message(self)).isEqualTo("this node (pid 28511), but its node id node2 is held by another"
                + " node (host vm, pid 4246): no job starts here under it");
        assertThat(waiting.message(holder)).isEqualTo("running; it holds the node id of the node that answered (pid"
                + " 28511)");

        NodesView usual = view(node("node3", "h", ClusterNodes.State.SELF, 800, 2, 0), other);
        assertThat(usual.idHolder()).isEmpty();
        assertThat(usual.answeringJvms()).isEqualTo(2);
        assertThat(usual.items().get(0)).containsEntry("state", "running").containsEntry("idHeldBy", null)
                .containsEntry("holdsThisNodesId", false);
    }
}
