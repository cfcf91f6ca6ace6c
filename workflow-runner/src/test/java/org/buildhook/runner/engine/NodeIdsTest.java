package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** drill35: the ids that cannot be a node id, those that are deprecated, and the usual ones that are fine. */
class NodeIdsTest {

    @Test
    void theSqliteServersRecordIsRefusedAndIdsThatBreakAFileLineOrAUrlAreDeprecated() {
        assertThat(NodeIds.refusal("(sqlite server)")).hasValueSatisfying(r -> assertThat(r)
                .startsWith("'(sqlite server)' is the name under which a SQLite store records the server that serves"
                        + " it (in node_leases)")
                .endsWith("; write letters, digits, '-', '_' or '.', e.g. the host's name (node-1,"
                        + " build-host-2.example.com)"));
        for (String id : new String[] {"node 1", "node\u00a01", "node\u20031"}) {
            assertThat(NodeIds.refusal(id)).as(id).isEmpty();
            assertThat(NodeIds.deprecation(id)).as(id).hasValueSatisfying(r -> assertThat(r).contains("holds a space")
                    .endsWith("(accepted for now; deprecated since 2026-12-04: a later version refuses it)"));
        }
        // One with a space before it too (review37: it was said to hold a space, the id quoted with its ESC).
        for (String id : new String[] {"node\t1", "node\n1", "node\u200b1", "node\u202e1", "node\u00851",
                "a b\u001b[31mred", "rack/1\u0007"}) {
            assertThat(NodeIds.refusal(id)).as(id).isEmpty();
            assertThat(NodeIds.deprecation(id)).as(id).hasValueSatisfying(r -> assertThat(r)
                    .startsWith("holds the control or invisible character U+"));
        }
        for (String id : new String[] {"rack/1", "rack\\1", "50%", ".", ".."}) {
            assertThat(NodeIds.refusal(id)).as(id).isEmpty();
            assertThat(NodeIds.deprecation(id)).as(id).hasValueSatisfying(r -> assertThat(r)
                    .contains("'buildhook nodes forget' (DELETE /api/nodes/{id}) could never name this node"));
        }
        assertThat(NodeIds.refusal("x".repeat(51))).hasValue("must be at most 50 characters, got 51");
    }

    @Test
    void hostNamesContainerIdsAndTheDefaultAreNodeIds() {
        for (String id : new String[] {"node-1", "node_2", "build-host-2.example.com", "f3a9c2d1e0b4-6", "nœud-3",
                "x".repeat(50), "(sqlite)", "a:b", "web@1", EngineConfig.defaultNodeId()}) {
            assertThat(NodeIds.refusal(id)).as(id).isEmpty();
            assertThat(NodeIds.deprecation(id)).as(id).isEmpty();
        }
    }
}
