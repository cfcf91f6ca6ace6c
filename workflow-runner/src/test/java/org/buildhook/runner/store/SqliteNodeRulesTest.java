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

    @Override
    void refuseAuditRows(boolean refuse) throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection(config.url()); Statement s = c.createStatement()) {
            s.execute(refuse ? "CREATE TRIGGER refuse_audit BEFORE INSERT ON admin_actions"
                    + " BEGIN SELECT RAISE(ABORT, 'audit rows refused by the test'); END"
                    : "DROP TRIGGER refuse_audit");
        }
    }
}
