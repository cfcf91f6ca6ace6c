package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Wakes the jobs waiting for shared units that units given back can serve (tryout35 F4), as a freed concurrency
 * slot wakes the next in its rule's line ({@link SlotLine#wakeTurn}). Before, a job refused units tried again only
 * after {@code runner.slot-retry}, picked at the next {@code runner.poll-interval}: a board freed by one job's end
 * stayed idle up to one poll while a job waited for it.
 *
 * <p>Which jobs: in the order a take gives units ({@link ResourceLedger}: since when they wait, then id), the first
 * job waiting for each resource whose every unit wanted is free now; a job ahead of it that cannot have its units
 * holds its resources' later waiters back, as a take does. So at most one job per resource is woken at a time; the
 * take of the job woken wakes the next ({@link ResourceLedger#acquire}), so two boards freed at once go to two jobs.
 * Called under the resources' locks ({@code resource_locks}, PostgreSQL; SQLite has one writer), in the transaction
 * that gave the units back, took them, or put a refused job back in the queue: a job refused just before the units
 * came back is either put back already, and woken, or its put-back sees the units free and makes it due at once
 * ({@link ResourceLedger#putBackWaiting}); no wake is lost between the two.
 */
final class UnitWake {

    private final SlotLine line;

    UnitWake(Dialect dialect, Clock clock) {
        this.line = new SlotLine(dialect, clock);
    }

    /**
     * Makes due now those of the jobs {@link #served} by the free units of {@code names} that wait in the queue for
     * a later time (those picked at the moment try on their own).
     *
     * @return how many were made due
     */
    int wake(Connection c, Set<String> names) throws SQLException {
        return names.isEmpty() ? 0 : line.wake(c, served(c, names));
    }

    /**
     * The jobs waiting for units of any of {@code names} that could take every unit they want now, first come,
     * first served: for each resource, only the first job waiting for it, and only when all it wants is free.
     * Units a job waiting in its place still holds count as in use (it is then not woken, but tries at its next
     * try as before): waking it too early would only put it back again.
     */
    static List<String> served(Connection c, Set<String> names) throws SQLException {
        List<String> out = new ArrayList<>();
        Set<String> blocked = new HashSet<>();
        Map<String, Integer> free = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT id, resources FROM jobs WHERE (state = ? OR (state = ?"
                + " AND waiting_since IS NOT NULL)) AND resources IS NOT NULL ORDER BY waiting_since, id")) {
            p.setString(1, JobState.WAITING.name());
            p.setString(2, JobState.RUNNING.name());
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next() && !blocked.containsAll(names)) {
                    Map<String, List<Integer>> needs = Rows.resourceMap(rs.getString(2));
                    boolean fits = true;
                    for (Map.Entry<String, List<Integer>> n : needs.entrySet()) {
                        fits &= !blocked.contains(n.getKey())
                                && free(c, free, n.getKey(), n.getValue().get(1)) >= n.getValue().get(0);
                    }
                    if (fits && needs.keySet().stream().anyMatch(names::contains)) {
                        out.add(rs.getString(1));
                    }
                    blocked.addAll(needs.keySet());
                }
            }
        }
        return out;
    }

    /** The units of {@code resource} free now within {@code capacity}: by count and by number, the lower. */
    private static int free(Connection c, Map<String, Integer> known, String resource, int capacity)
            throws SQLException {
        Integer free = known.get(resource);
        if (free == null) {
            int used = 0;
            Set<Integer> numbers = new HashSet<>();
            try (PreparedStatement p = c.prepareStatement("SELECT units, unit_numbers FROM resource_holds"
                    + " WHERE resource = ?")) {
                p.setString(1, resource);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        used += rs.getInt(1);
                        String held = rs.getString(2);
                        if (held != null && !held.isEmpty()) {
                            for (String n : held.split(",")) {
                                int number = Integer.parseInt(n.trim());
                                if (number >= 1 && number <= capacity) {
                                    numbers.add(number);
                                }
                            }
                        }
                    }
                }
            }
            free = Math.min(capacity - used, capacity - numbers.size());
            known.put(resource, free);
        }
        return free;
    }
}
