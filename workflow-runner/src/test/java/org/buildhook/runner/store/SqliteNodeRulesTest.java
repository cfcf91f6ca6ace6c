package org.buildhook.runner.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

class SqliteNodeRulesTest extends AbstractNodeRulesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.sqlite(dir);
    }

    /**
     * fixes36 N1: {@code DELETE /api/nodes/(sqlite server)} deleted the store's record of its live server (answered
     * "forgotten"), which is what refuses a copy of the store started beside it. It is no node: unknown to a forget.
     */
    @org.junit.jupiter.api.Test
    void theRecordOfTheServerThatServesTheStoreIsNoNodeToForget() {
        store.sqliteServer().serve("instance-1", org.buildhook.runner.exec.NodeIdentity.current(), java.time.Instant.now().minusSeconds(3600));

        org.assertj.core.api.Assertions.assertThat(store.nodeLeases()
                .forget(SqliteServer.KEY, "node-a", java.time.Duration.ofSeconds(1)).outcome())
                .isEqualTo(NodeLeases.ForgetOutcome.UNKNOWN);
        org.assertj.core.api.Assertions.assertThat(store.sqliteServer().last()).isPresent();
    }

    @Override
    void refuseAuditRows(boolean refuse) throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection(config.url()); Statement s = c.createStatement()) {
            s.execute(refuse ? "CREATE TRIGGER refuse_audit BEFORE INSERT ON admin_actions"
                    + " BEGIN SELECT RAISE(ABORT, 'audit rows refused by the test'); END"
                    : "DROP TRIGGER refuse_audit");
        }
    }
}
