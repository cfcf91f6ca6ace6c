package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Who waits for whom on the test PostgreSQL server, for tests that hold a lock on a connection of
 * their own and wait (Awaitility) until the store's statement is blocked behind it, never by sleeping.
 */
final class PgSessions {

    private PgSessions() {
    }

    /** The backend pid of {@code c}'s session. */
    static int pid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** The pids of the sessions waiting for a lock that session {@code pid} holds, asked on a new connection to {@code url}. */
    static List<Integer> blockedBy(String url, int pid) throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            return blockedBy(c, pid);
        }
    }

    /** As {@link #blockedBy(String, int)}, asked on {@code c}. */
    static List<Integer> blockedBy(Connection c, int pid) throws SQLException {
        List<Integer> pids = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(
                "SELECT pid FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))")) {
            p.setInt(1, pid);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
        }
        return pids;
    }
}
