package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a job that waits its turn stands in the queue, worked out when it is shown (never stored): how many jobs
 * are due before it, and how many run now on how many nodes (tryout49 F5: behind a burst of 500 jobs a deploy
 * waited 132 s, its message {@code -}, nothing saying why or where it was in line).
 *
 * <p>A node with a free thread starts the job due first (docs/running-jobs.md, "In what order waiting jobs
 * start"): the jobs due before this one are the executions no node picked whose due time ({@code execution_time}
 * of db-scheduler's {@code scheduled_tasks}) is earlier than its own. Some of those may not start when picked (their
 * rule's {@code concurrency} used up, their units held): they are counted, as they are in line before it.
 *
 * <p>Jobs due at the same moment (a delivery's jobs, a burst's in one millisecond) are placed one after the other, as
 * the pick takes them: it asks for the due executions {@code ORDER BY execution_time} ({@code Queries.ansiSqlOrderPart}
 * of db-scheduler; {@link SqliteJdbcCustomization}), read along {@code execution_time_idx}, whose ties come in the
 * index's order: on SQLite that is the row's {@code rowid} (the order they were stored in), which the window orders
 * by too, at no cost (the index holds it); on PostgreSQL it is where the row's version lies in the table, which no
 * statement can name, so ties are ordered by the job's id there (the order they were made in; an incremental sort of
 * each group of ties, on the same index scan). Ranked by due time alone, each of six jobs of one millisecond said
 * {@code next in line} and the next ones the same count (tryout50 F4); now each place is one job's, and they add up.
 *
 * @param dueBefore    how many waiting jobs are due before it, 0 or more
 * @param running      how many jobs the nodes hold picked (running or starting) now, 0 or more
 * @param runningNodes on how many nodes those run, 0 to {@code running}
 */
public record QueuePosition(int dueBefore, int running, int runningNodes) {

    /** How many job ids one statement names (an old SQLite allows 999 parameters). */
    static final int SLICE = 400;

    /**
     * What every surface ({@code buildhook jobs}, {@code job show}, the status page) shows for a job that waits its
     * turn: {@code queued: 412 jobs due before it; 12 running on 3 nodes}.
     */
    public String text() {
        return text(dueBefore, running, runningNodes);
    }

    /**
     * As {@link #text()}, from the admin API's {@code queuePosition} fields.
     *
     * @param dueBefore    how many jobs are due before it, 0 or more
     * @param running      how many run now, 0 or more
     * @param runningNodes on how many nodes, 0 or more
     */
    public static String text(int dueBefore, int running, int runningNodes) {
        return "queued: " + (dueBefore == 0 ? "next in line" : dueBefore + (dueBefore == 1 ? " job" : " jobs")
                + " due before it") + "; " + running + " running" + (running == 0 ? ""
                : " on " + runningNodes + (runningNodes == 1 ? " node" : " nodes"));
    }

    /**
     * The position of each of {@code jobIds} whose execution waits, due now and picked by no node; a job not due
     * yet (a retry's backoff, a slot's next try), picked, or ended is not in the map. One statement per
     * {@value #SLICE} ids (a window over the waiting executions up to the latest of them, on the {@code
     * execution_time} index) and one count of the running ones, in one read.
     *
     * @param db     the store's database
     * @param clock  gives "now"
     * @param jobIds the jobs to place, each once
     * @throws StoreUnavailableException when the store cannot be reached
     */
    static Map<String, QueuePosition> of(Database db, Clock clock, Collection<String> jobIds) {
        Map<String, QueuePosition> positions = new LinkedHashMap<>();
        if (jobIds.isEmpty()) {
            return positions;
        }
        JdbcCustomization jdbc = JobQueue.customization(db.dialect());
        List<String> ids = List.copyOf(jobIds);
        return db.read("place waiting jobs in the queue", c -> {
            int[] running = running(c);
            for (int from = 0; from < ids.size(); from += SLICE) {
                List<String> slice = ids.subList(from, Math.min(ids.size(), from + SLICE));
                try (PreparedStatement p = c.prepareStatement(statement(db.dialect(), slice.size()))) {
                    int i = 0;
                    p.setString(++i, JobQueue.TASK_NAME);
                    p.setBoolean(++i, false);
                    jdbc.setInstant(p, ++i, clock.instant());
                    p.setString(++i, JobQueue.TASK_NAME);
                    p.setBoolean(++i, false);
                    for (String id : slice) {
                        p.setString(++i, id);
                    }
                    for (String id : slice) {
                        p.setString(++i, id);
                    }
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            positions.put(rs.getString(1), new QueuePosition(rs.getInt(2), running[0], running[1]));
                        }
                    }
                }
            }
            return positions;
        });
    }

    /**
     * The statement that places {@code ids} jobs: its parameters are the task's name, false (not picked), now, the
     * task's name, false, then the ids twice. ROW_NUMBER - 1 over the waiting executions in the pick's order (due time,
     * then on SQLite the {@code rowid}, on PostgreSQL the id: see the class): those before it, ties included, each
     * place one job's. Bounded by the latest due time of the jobs asked for, so the window reads no execution due
     * after them.
     */
    static String statement(Dialect dialect, int ids) {
        String in = String.join(", ", Collections.nCopies(ids, "?"));
        String tie = dialect == Dialect.SQLITE ? "rowid" : "task_instance";
        return "SELECT w.task_instance, w.ahead FROM (SELECT task_instance, ROW_NUMBER() OVER (ORDER BY execution_time, "
                + tie + ") - 1 AS ahead FROM scheduled_tasks WHERE task_name = ? AND picked = ? AND execution_time <= ?"
                + " AND execution_time <= (SELECT MAX(execution_time) FROM scheduled_tasks WHERE task_name = ? AND"
                + " picked = ? AND task_instance IN (" + in + "))) w WHERE w.task_instance IN (" + in + ")";
    }

    /** How many executions the nodes hold picked, and how many nodes hold them. */
    private static int[] running(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*), COUNT(DISTINCT picked_by) FROM scheduled_tasks"
                + " WHERE task_name = ? AND picked = ?")) {
            p.setString(1, JobQueue.TASK_NAME);
            p.setBoolean(2, true);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return new int[] {rs.getInt(1), rs.getInt(2)};
            }
        }
    }
}
