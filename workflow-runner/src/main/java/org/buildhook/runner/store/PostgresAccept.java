package org.buildhook.runner.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.store.DeliveryWriter.RenderedJob;

/**
 * PostgreSQL: a new delivery, its jobs and their executions stored by one statement, in one round
 * trip and one transaction.
 *
 * <p>The transaction of {@link DeliveryWriter} takes six round trips on PostgreSQL (the duplicate
 * claim, the delivery, each job, each execution, then {@code COMMIT}), each a wake-up of the
 * server's backend and of the request thread. Here the same rows go in as data-modifying
 * {@code WITH} parts of one statement run in autocommit mode: the claim of the (endpoint, body)
 * key first, and every other row only {@code FROM} the claim's result, so they are written exactly
 * when the claim was won. The claim is the same as the transaction's (a new key, or one whose
 * first delivery is older than the window) in one {@code INSERT … ON CONFLICT DO UPDATE … WHERE},
 * which waits for a concurrent claim of the same key as the transaction's {@code INSERT} does.
 *
 * <p>When the claim is not won (a duplicate) nothing was written, and the caller runs the
 * transaction, which records the duplicate as before. Jobs of a rule with a supersede key also go
 * through the transaction: their state depends on what the key's row says.
 */
final class PostgresAccept {

    private final Database db;
    private final JobQueue queue;
    private final Ids ids;
    private final Clock clock;
    private final Duration dedupWindow;

    PostgresAccept(Database db, JobQueue queue, Ids ids, Clock clock, Duration dedupWindow) {
        this.db = db;
        this.queue = queue;
        this.ids = ids;
        this.clock = clock;
        this.dedupWindow = dedupWindow;
    }

    /**
     * Stores the delivery as accepted with its jobs when its key is claimed; empty when it is not
     * (a duplicate, nothing written) or when a job needs the transaction (a supersede key).
     */
    Optional<AcceptResult> tryAccept(NewDelivery delivery, DeliverySummary summary, String headers, String hash,
            List<RenderedJob> jobs) {
        for (RenderedJob job : jobs) {
            JobWorkflow w = job.job().workflow();
            if (w.supersedeKey() != null && w.buildId() != null) {
                return Optional.empty();
            }
        }
        String id = ids.next();
        Instant now = clock.instant();
        List<String> jobIds = new ArrayList<>(jobs.size());
        List<JobState> states = new ArrayList<>(jobs.size());
        for (RenderedJob job : jobs) {
            jobIds.add(ids.next());
            states.add(job.job().workflow().needsApproval() ? JobState.AWAITING_APPROVAL : JobState.QUEUED);
        }
        String sql = sql(states);
        boolean claimed = db.inOneStatement("accept a delivery", c -> {
            try (PreparedStatement p = c.prepareStatement(sql)) {
                Instant at = delivery.receivedAt();
                p.setString(1, delivery.endpoint());
                p.setString(2, hash);
                p.setString(3, id);
                p.setLong(4, at.toEpochMilli());
                p.setLong(5, at.minus(dedupWindow).toEpochMilli());
                int base = 5;
                DeliveryWriter.bindDelivery(p, base, id, delivery, headers, delivery.body(), hash,
                        DeliveryOutcome.ACCEPTED, null, null, summary);
                base += 15;
                for (int i = 0; i < jobs.size(); i++) {
                    DeliveryWriter.bindJob(p, base, jobIds.get(i), id, jobs.get(i), states.get(i), now, null, null);
                    base += 29;
                    if (states.get(i) == JobState.QUEUED) {
                        queue.bindExecution(p, base, jobIds.get(i), now);
                        base += 5;
                    }
                }
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    return rs.getLong(1) == 1;
                }
            }
        });
        return claimed ? Optional.of(new AcceptResult(id, jobIds, false)) : Optional.empty();
    }

    private static String sql(List<JobState> states) {
        StringBuilder sql = new StringBuilder(1024)
                .append("WITH claim AS (INSERT INTO dedup_keys (endpoint, body_hash, delivery_id, first_seen)")
                .append(" VALUES (?, ?, ?, ?) ON CONFLICT (endpoint, body_hash) DO UPDATE")
                .append(" SET delivery_id = EXCLUDED.delivery_id, first_seen = EXCLUDED.first_seen")
                .append(" WHERE dedup_keys.first_seen < ? RETURNING 1)")
                .append(", delivery AS (INSERT INTO deliveries (").append(DeliveryWriter.DELIVERY_INSERT_COLUMNS)
                .append(") SELECT ").append(DeliveryWriter.DELIVERY_INSERT_VALUES).append(" FROM claim)");
        for (int i = 0; i < states.size(); i++) {
            sql.append(", job").append(i).append(" AS (INSERT INTO jobs (").append(DeliveryWriter.JOB_INSERT_COLUMNS)
                    .append(") SELECT ").append(DeliveryWriter.JOB_INSERT_VALUES).append(" FROM claim)");
            if (states.get(i) == JobState.QUEUED) {
                sql.append(", execution").append(i).append(" AS (INSERT INTO scheduled_tasks (")
                        .append(JobQueue.EXECUTION_INSERT_COLUMNS).append(") SELECT ")
                        .append(JobQueue.EXECUTION_INSERT_VALUES).append(" FROM claim)");
            }
        }
        return sql.append(" SELECT count(*) FROM claim").toString();
    }
}
