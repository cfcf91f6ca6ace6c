package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
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
 *
 * <p>Group commit: concurrent accepts are gathered ({@link GroupCommit}, on the callers' own threads)
 * and sent as one statement, each delivery's parts after the other's, so a burst takes one round
 * trip, one transaction and one WAL flush per batch instead of per delivery, and one pooled
 * connection instead of one per request thread (docs/BENCHMARKS.md, "Seventh pass"). Every caller
 * returns only after its batch's statement, its own transaction, committed. When that statement
 * fails for a reason other than an outage (one delivery's fault: a constraint, a trigger, a deadlock
 * with another node's claims), nothing of it was written, and each delivery of the batch is tried
 * again alone, so one bad delivery fails only itself. An outage (a connection lost, the pool
 * exhausted) fails the whole batch with {@link StoreUnavailableException}: each caller answers
 * {@code 503} and nothing it was told is stored is lost. Two deliveries with the same key never share
 * a batch (the second's claim waits for the first's commit, as between two transactions).
 */
final class PostgresAccept {

    /** Most deliveries in one statement. */
    static final int MAX_BATCH = 64;
    /**
     * Most batches sent at once. One would make the largest batches, but a batch that waits (for a
     * deduplication key another node is claiming, for a slow WAL flush) would then hold up every
     * accept of the node; two measured alike (docs/BENCHMARKS.md, "Seventh pass").
     */
    static final int LANES = 2;
    /** Most bind parameters in one statement (the protocol allows 65,535). */
    static final int MAX_PARAMETERS = 30_000;
    /**
     * Most bytes of bodies, headers and rendered jobs in one statement (a heavier delivery goes alone):
     * far below PostgreSQL's limit of about 1 GB a message, past which the server drops the connection.
     */
    static final long MAX_BYTES = 8L * 1024 * 1024;

    private final Database db;
    private final JobQueue queue;
    private final Ids ids;
    private final Clock clock;
    private final Duration dedupWindow;
    private final GroupCommit<Accept> batches;
    /** Statements that committed new deliveries: a batch's, or one of a batch sent again one by one. */
    private final AtomicLong commits = new AtomicLong();
    /** New deliveries those statements stored. */
    private final AtomicLong stored = new AtomicLong();
    /** Batches whose statement failed for a reason other than an outage, then sent again one by one. */
    private final AtomicLong retriedAlone = new AtomicLong();

    PostgresAccept(Database db, JobQueue queue, Ids ids, Clock clock, Duration dedupWindow) {
        this.db = db;
        this.queue = queue;
        this.ids = ids;
        this.clock = clock;
        this.dedupWindow = dedupWindow;
        // A caller queued behind stuck batches gives up as it would waiting for a pooled connection.
        this.batches = new GroupCommit<>(this::run, LANES, MAX_BATCH, MAX_PARAMETERS, MAX_BYTES,
                db.connectionWait(), "accept a delivery");
    }

    /** One delivery's rows, ready to be bound. */
    private record Accept(NewDelivery delivery, DeliverySummary summary, String headers, String hash,
            List<RenderedJob> jobs, String id, List<String> jobIds, List<JobState> states, Instant now)
            implements GroupCommit.Item {

        @Override
        public String key() {
            return delivery.endpoint() + '\n' + hash;
        }

        @Override
        public int weight() {
            int parameters = 5 + 15;
            for (JobState state : states) {
                parameters += 29 + (state == JobState.QUEUED ? 5 : 0);
            }
            return parameters;
        }

        @Override
        public long bytes() {
            // Strings as up to 3 bytes a char (UTF-8 of the BMP); the summary's few short fields are left out.
            long bytes = delivery.body().length + 3L * headers.length();
            for (RenderedJob job : jobs) {
                bytes += 3L * (job.argv().length() + job.env().length());
            }
            return bytes;
        }
    }

    /**
     * Stores the delivery as accepted with its jobs when its key is claimed; empty when it is not
     * (a duplicate, nothing written) or when a job needs the transaction (a supersede key, or a refused job, stored
     * ended: {@link PlannedJob#refusal}). Returns
     * after the statement that stored it committed.
     */
    Optional<AcceptResult> tryAccept(NewDelivery delivery, DeliverySummary summary, String headers, String hash,
            List<RenderedJob> jobs) {
        for (RenderedJob job : jobs) {
            JobWorkflow w = job.job().workflow();
            if ((w.supersedeKey() != null && w.buildId() != null) || job.job().refused()) {
                return Optional.empty();
            }
        }
        String id = ids.next();
        List<String> jobIds = new ArrayList<>(jobs.size());
        List<JobState> states = new ArrayList<>(jobs.size());
        for (RenderedJob job : jobs) {
            jobIds.add(ids.next());
            states.add(job.job().workflow().needsApproval() ? JobState.AWAITING_APPROVAL : JobState.QUEUED);
        }
        Accept accept = new Accept(delivery, summary, headers, hash, jobs, id, jobIds, states, clock.instant());
        boolean claimed = batches.run(accept);
        return claimed ? Optional.of(new AcceptResult(id, jobIds, false)) : Optional.empty();
    }

    /**
     * Statements that committed new deliveries so far: one per batch, or one per delivery of a batch
     * sent again one by one; a statement that stored only duplicates, or failed, is not counted.
     */
    long commits() {
        return commits.get();
    }

    /** New deliveries stored by those statements (not duplicates, nor failed ones). */
    long stored() {
        return stored.get();
    }

    /** Batches whose statement failed (not an outage) and were sent again one by one (for tests). */
    long retriedAlone() {
        return retriedAlone.get();
    }

    /** Accepts waiting for a batch to take them now (for tests). */
    int queued() {
        return batches.queued();
    }

    private void run(List<GroupCommit.Entry<Accept>> batch) {
        if (batch.size() == 1) {
            alone(batch.get(0));
            return;
        }
        // Every batch claims its keys in one global order (by key), so two batches claiming the same
        // keys wait for each other instead of deadlocking; each entry keeps its own result.
        batch = new ArrayList<>(batch);
        batch.sort(Comparator.comparing((GroupCommit.Entry<Accept> e) -> e.item().key()));
        List<Accept> accepts = new ArrayList<>(batch.size());
        for (GroupCommit.Entry<Accept> entry : batch) {
            accepts.add(entry.item());
        }
        boolean[] claimed;
        try {
            claimed = db.inOneStatement("accept a delivery", c -> execute(c, accepts));
        } catch (StoreUnavailableException e) {
            for (GroupCommit.Entry<Accept> entry : batch) {
                // Each caller its own exception (thrown on its own thread), the same message.
                entry.fail(new StoreUnavailableException(e.getMessage(), e));
            }
            return;
        } catch (RuntimeException e) {
            // One statement, one transaction: nothing of it was written. Whose fault it was is known
            // only by trying each alone.
            retriedAlone.incrementAndGet();
            for (GroupCommit.Entry<Accept> entry : batch) {
                alone(entry);
            }
            return;
        }
        counted(claimed);
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).succeed(claimed[i]);
        }
    }

    private void alone(GroupCommit.Entry<Accept> entry) {
        boolean[] claimed;
        try {
            claimed = db.inOneStatement("accept a delivery", c -> execute(c, List.of(entry.item())));
        } catch (RuntimeException e) {
            entry.fail(e);
            return;
        }
        counted(claimed);
        entry.succeed(claimed[0]);
    }

    /** Counts a committed statement whose claims were {@code claimed}. */
    private void counted(boolean[] claimed) {
        int n = 0;
        for (boolean c : claimed) {
            n += c ? 1 : 0;
        }
        if (n > 0) {
            commits.incrementAndGet();
            stored.addAndGet(n);
        }
    }

    /** Sends the accepts as one statement (committed when it returns); whether each one's claim was won. */
    private boolean[] execute(Connection c, List<Accept> accepts) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql(accepts))) {
            int base = 0;
            for (Accept a : accepts) {
                base = bind(p, base, a);
            }
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                boolean[] claimed = new boolean[accepts.size()];
                for (int i = 0; i < claimed.length; i++) {
                    claimed[i] = rs.getLong(i + 1) == 1;
                }
                return claimed;
            }
        }
    }

    /** Binds one accept's parameters after parameter {@code base}; returns the last one's index. */
    private int bind(PreparedStatement p, int base, Accept a) throws SQLException {
        Instant at = a.delivery().receivedAt();
        p.setString(base + 1, a.delivery().endpoint());
        p.setString(base + 2, a.hash());
        p.setString(base + 3, a.id());
        p.setLong(base + 4, at.toEpochMilli());
        p.setLong(base + 5, at.minus(dedupWindow).toEpochMilli());
        base += 5;
        DeliveryWriter.bindDelivery(p, base, a.id(), a.delivery(), a.headers(), a.delivery().body(), a.hash(),
                DeliveryOutcome.ACCEPTED, null, null, a.summary());
        base += 15;
        for (int i = 0; i < a.jobs().size(); i++) {
            DeliveryWriter.bindJob(p, base, a.jobIds().get(i), a.id(), a.jobs().get(i), a.states().get(i), a.now(),
                    null, null);
            base += 29;
            if (a.states().get(i) == JobState.QUEUED) {
                queue.bindExecution(p, base, a.jobIds().get(i), a.now());
                base += 5;
            }
        }
        return base;
    }

    /**
     * Each accept's parts, named by its place {@code d}: {@code claimD} first, then its delivery,
     * jobs and executions {@code FROM} it; the result's column {@code D + 1} is 1 when its claim was won.
     */
    private static String sql(List<Accept> accepts) {
        StringBuilder sql = new StringBuilder(1024 * accepts.size()).append("WITH ");
        for (int d = 0; d < accepts.size(); d++) {
            if (d > 0) {
                sql.append(", ");
            }
            String claim = "claim" + d;
            sql.append(claim).append(" AS (INSERT INTO dedup_keys (endpoint, body_hash, delivery_id, first_seen)")
                    .append(" VALUES (?, ?, ?, ?) ON CONFLICT (endpoint, body_hash) DO UPDATE")
                    .append(" SET delivery_id = EXCLUDED.delivery_id, first_seen = EXCLUDED.first_seen")
                    .append(" WHERE dedup_keys.first_seen < ? RETURNING 1)")
                    .append(", delivery").append(d).append(" AS (INSERT INTO deliveries (")
                    .append(DeliveryWriter.DELIVERY_INSERT_COLUMNS).append(") SELECT ")
                    .append(DeliveryWriter.DELIVERY_INSERT_VALUES).append(" FROM ").append(claim).append(')');
            List<JobState> states = accepts.get(d).states();
            for (int i = 0; i < states.size(); i++) {
                sql.append(", job").append(d).append('_').append(i).append(" AS (INSERT INTO jobs (")
                        .append(DeliveryWriter.JOB_INSERT_COLUMNS).append(") SELECT ")
                        .append(DeliveryWriter.JOB_INSERT_VALUES).append(" FROM ").append(claim).append(')');
                if (states.get(i) == JobState.QUEUED) {
                    sql.append(", execution").append(d).append('_').append(i).append(" AS (INSERT INTO scheduled_tasks (")
                            .append(JobQueue.EXECUTION_INSERT_COLUMNS).append(") SELECT ")
                            .append(JobQueue.EXECUTION_INSERT_VALUES).append(" FROM ").append(claim).append(')');
                }
            }
        }
        sql.append(" SELECT ");
        for (int d = 0; d < accepts.size(); d++) {
            sql.append(d > 0 ? ", " : "").append("(SELECT count(*) FROM claim").append(d).append(')');
        }
        return sql.toString();
    }
}
