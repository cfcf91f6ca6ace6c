package org.buildhook.runner.store;

import com.github.kagkarlsson.shaded.jdbc.PreparedStatementSetter;
import com.github.kagkarlsson.scheduler.jdbc.DefaultJdbcCustomization;
import com.github.kagkarlsson.scheduler.jdbc.JdbcTaskRepositoryContext;
import com.github.kagkarlsson.scheduler.jdbc.Queries;
import com.github.kagkarlsson.scheduler.task.Execution;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * db-scheduler 16.7 has no SQLite customization and its default limits rows with
 * {@code OFFSET … FETCH FIRST}, which SQLite does not parse; SQLite says {@code LIMIT n}.
 *
 * <p>It also picks due executions the way db-scheduler's PostgreSQL customization does, in one
 * statement ({@code UPDATE … RETURNING}, SQLite 3.35+), so that the engine can poll with
 * lock-and-fetch on SQLite too: one write per poll instead of a select per poll and one
 * {@code UPDATE} per execution (docs/BENCHMARKS.md, "Fourth pass: the job side"). SQLite runs the
 * statement in one write transaction, with the only write lock of the database: the rows it picks
 * are picked by nobody else, as {@code FOR UPDATE SKIP LOCKED} ensures on PostgreSQL.
 *
 * <p>The engine's own customization ({@link #through}) hands that statement to the store's
 * writer ({@link SqliteWriter}), as one transaction of its next batch, instead of running it on
 * db-scheduler's connection: there it waited for SQLite's write lock, which the writer holds
 * through every commit and every fsync of the accepts, retrying every 50 µs (a third of a
 * millisecond of CPU per job under load: docs/BENCHMARKS.md, "Fourth pass: the job side").
 */
final class SqliteJdbcCustomization extends DefaultJdbcCustomization {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteJdbcCustomization.class);

    /** Says a store outage met by the picks once, and the end of it. */
    private final PickOutage outage = new PickOutage(LOG);

    /** Runs the pick in a store transaction; null to run it on db-scheduler's own connection. */
    private final Database writer;

    SqliteJdbcCustomization() {
        this(null);
    }

    private SqliteJdbcCustomization(Database writer) {
        super(true);
        this.writer = writer;
    }

    /** The customization whose picks go through {@code db}'s writer. */
    static SqliteJdbcCustomization through(Database db) {
        return new SqliteJdbcCustomization(db);
    }

    @Override
    public String getName() {
        return "SQLite";
    }

    @Override
    public boolean supportsExplicitQueryLimitPart() {
        return true;
    }

    @Override
    public String getQueryLimitPart(int limit) {
        return " LIMIT " + limit;
    }

    @Override
    public boolean supportsSingleStatementLockAndFetch() {
        return true;
    }

    @Override
    public List<Execution> lockAndFetchSingleStatement(JdbcTaskRepositoryContext ctx, Instant now, int limit,
            boolean orderByPriority) {
        List<String> unresolved = new ArrayList<>();
        ctx.taskResolver.getUnresolved().forEach(task -> unresolved.add(task.getTaskName()));
        String notUnresolved = unresolved.isEmpty() ? ""
                : " AND task_name NOT IN (" + String.join(", ", java.util.Collections.nCopies(unresolved.size(), "?"))
                        + ")";
        String sql = "UPDATE " + ctx.tableName + " SET picked = ?, picked_by = ?, last_heartbeat = ?,"
                + " version = version + 1 WHERE rowid IN (SELECT rowid FROM " + ctx.tableName
                + " WHERE picked = ? AND execution_time <= ?" + notUnresolved
                + Queries.ansiSqlOrderPart(orderByPriority) + getQueryLimitPart(limit) + ") RETURNING *";
        String pickedBy = ctx.schedulerName.getName();
        long asked = System.nanoTime();
        PreparedStatementSetter parameters = p -> {
            int index = 1;
            p.setBoolean(index++, true);
            p.setString(index++, pickedBy.length() > 50 ? pickedBy.substring(0, 50) : pickedBy);
            // The heartbeat of when the pick is made, not of when it was asked for: it may have
            // waited for the writer for seconds, and a pick that looks older than two heartbeat
            // intervals before any thread of this node runs it is put back in the queue as stale.
            setInstant(p, index++, now.plusNanos(System.nanoTime() - asked));
            p.setBoolean(index++, false);
            setInstant(p, index++, now);
            for (String name : unresolved) {
                p.setString(index++, name);
            }
        };
        List<Execution> picked;
        if (writer == null) {
            picked = ctx.jdbcRunner.query(sql, parameters, ctx.resultSetMapper.get());
        } else {
            try {
                picked = writer.inTransaction("pick due jobs", Durability.DEFERRED, c -> {
                    try (PreparedStatement p = c.prepareStatement(sql)) {
                        parameters.setParameters(p);
                        try (ResultSet rs = p.executeQuery()) {
                            return ctx.resultSetMapper.get().map(rs);
                        }
                    }
                });
            } catch (StoreUnavailableException e) {
                // Every poll is a write here (another program holding the write lock, a read-only or
                // full disk): a store outage, which /healthz and the accepts' 503s report.
                outage.failed(e.getMessage());
                return List.of();
            }
            outage.worked();
        }
        // RETURNING gives the rows in no particular order: the oldest first, as picked.
        List<Execution> ordered = new ArrayList<>(picked);
        Comparator<Execution> byTime = Comparator.comparing(e -> e.executionTime);
        ordered.sort(orderByPriority ? Comparator.<Execution>comparingInt(e -> -e.taskInstance.getPriority())
                .thenComparing(byTime) : byTime);
        return ordered;
    }
}
