package org.buildhook.runner.store;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.buildhook.runner.exec.NodeIdentity;

/**
 * The statement that writes one row of {@code node_leases}, for a node's claim ({@link NodeLeases}) and for the SQLite
 * store's server ({@link SqliteServer}): the same columns of the JVM that writes it, and a rule for a row of the same
 * {@code node_id} already there.
 */
final class LeaseRow {

    /** The columns every row is written with, in the order {@link #bind} sets them. */
    private static final List<String> COLUMNS = List.of("node_id", "instance", "host", "boot_id", "node_pid",
            "node_started", "acquired_at", "renewed_at");

    private LeaseRow() {
    }

    /**
     * {@code INSERT INTO node_leases} of the {@link #bind} columns, then {@code more} columns: with {@code replace}, a
     * row of the same {@code node_id} there takes every value written (an upsert); without it, that row stays as it is
     * and nothing is written.
     */
    static String insert(boolean replace, String... more) {
        List<String> columns = new ArrayList<>(COLUMNS);
        columns.addAll(List.of(more));
        return "INSERT INTO node_leases (" + String.join(", ", columns) + ") VALUES ("
                + columns.stream().map(c -> "?").collect(Collectors.joining(", ")) + ") ON CONFLICT (node_id) DO "
                + (replace ? "UPDATE SET " + columns.stream().skip(1).map(c -> c + " = excluded." + c)
                        .collect(Collectors.joining(", ")) : "NOTHING");
    }

    /**
     * Sets the first parameters of an {@link #insert} statement: {@code nodeId}, {@code instance}, {@code self}'s host,
     * boot id, pid and start time, {@code acquired} and {@code renewedAt} (epoch milliseconds).
     *
     * @return the index of the first of the {@code more} columns' parameters
     */
    static int bind(PreparedStatement p, String nodeId, String instance, NodeIdentity self, Instant acquired,
            long renewedAt) throws SQLException {
        p.setString(1, nodeId);
        p.setString(2, instance);
        p.setString(3, self.host());
        p.setString(4, self.bootId());
        p.setLong(5, self.process().pid());
        p.setLong(6, self.process().startTicks());
        p.setLong(7, acquired.toEpochMilli());
        p.setLong(8, renewedAt);
        return COLUMNS.size() + 1;
    }
}
