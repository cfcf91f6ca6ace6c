package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PostgresNodeRulesTest extends AbstractNodeRulesTest {

    @Override
    StoreConfig config(Path dir) {
        return TestStores.postgres(dir);
    }

    @Override
    void refuseAuditRows(boolean refuse) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(config.url());
                java.sql.Statement s = c.createStatement()) {
            if (refuse) {
                s.execute("CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS"
                        + " $$BEGIN RAISE EXCEPTION 'audit rows refused by the test'; END$$");
                s.execute("CREATE TRIGGER refuse_audit BEFORE INSERT ON admin_actions FOR EACH ROW"
                        + " EXECUTE FUNCTION refuse_audit()");
            } else {
                s.execute("DROP TRIGGER refuse_audit ON admin_actions");
                s.execute("DROP FUNCTION refuse_audit()");
            }
        }
    }

    /**
     * A silent node whose database session still holds its id's advisory lock (a paused process, a host cut off with
     * its connection open) is not forgotten: a node started with its id takes such a claim over, but with the claim
     * deleted it would wait for the session and be refused. Once the session ends it is forgotten.
     */
    @Test
    void aSilentNodeWhoseSessionStillHoldsItsIdLockIsNotForgotten() throws Exception {
        claim("node-a", "instance-a");
        claim("node-s", "instance-s");
        silence("node-s");
        NodeLeases.Lock lock = store.nodeLeases().lock("node-s");
        try {
            assertThat(lock.take()).isTrue();
            assertThat(store.nodeLeases().forget("node-s", "node-a", DEAD_LIMIT).outcome())
                    .isEqualTo(NodeLeases.ForgetOutcome.SESSION_OPEN);
        } finally {
            lock.release();
        }
        assertThat(store.nodeLeases().forget("node-s", "node-a", DEAD_LIMIT).outcome())
                .isEqualTo(NodeLeases.ForgetOutcome.FORGOTTEN);
        // The transaction's lock was given back with it: a node started with the id takes it at once.
        NodeLeases.Lock again = store.nodeLeases().lock("node-s");
        try {
            assertThat(again.take()).isTrue();
        } finally {
            again.release();
        }
    }

    /**
     * review37 F7: a PostgreSQL node named {@code (sqlite server)} before that id was refused (191c914b) could not be
     * forgotten: the forget took the id for a SQLite store's record of its server whatever the store. On PostgreSQL it
     * is a node's claim like any other.
     */
    @Test
    void aNodeNamedAsASqliteServersRecordIsForgottenOnPostgresql() throws Exception {
        claim("node-a", "instance-a");
        claim(SqliteServer.KEY, "instance-old");
        silence(SqliteServer.KEY);
        assertThat(store.nodeLeases().forget(SqliteServer.KEY, "node-a", DEAD_LIMIT).outcome())
                .isEqualTo(NodeLeases.ForgetOutcome.FORGOTTEN);
    }
}
