package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The admin side's queries. Lists are newest first and page by id cursor. */
final class StoreReader {

    /**
     * Deliveries of one outcome stored since a time: a range of the (outcome, id) index, as ids
     * begin with their creation time. One count per outcome, not one GROUP BY, which a database
     * may answer by reading the whole index in order.
     */
    static final String DELIVERIES_SINCE = "SELECT COUNT(*) FROM deliveries WHERE outcome = ? AND id >= ?";
    /** Jobs in one state created since a time: a range of the (state, id) index. */
    static final String JOBS_SINCE = "SELECT COUNT(*) FROM jobs WHERE state = ? AND id >= ?";
    /** A rule's newest jobs: the (rule_name, id) index read backwards, stopping after the limit. */
    static final String RULE_JOBS = "SELECT id, state, started_at, ended_at, timeout_ms FROM jobs WHERE rule_name = ?"
            + " ORDER BY id DESC LIMIT ?";

    private final Database db;

    StoreReader(Database db) {
        this.db = db;
    }

    Page<Delivery> deliveries(DeliveryQuery q) {
        List<Object> args = new ArrayList<>();
        String sql = deliveriesSql(q, args);
        List<Delivery> items = db.read("list deliveries", c -> query(c, sql, args, rs -> Rows.delivery(rs, null)));
        return page(items, q.limit(), Delivery::id);
    }

    /**
     * The statement listing {@code q}'s deliveries, newest first, one more than the page (so the
     * page knows whether there is a next); its arguments are added to {@code args}.
     */
    static String deliveriesSql(DeliveryQuery q, List<Object> args) {
        StringBuilder sql = new StringBuilder("SELECT " + Rows.DELIVERY_COLUMNS + " FROM deliveries WHERE 1 = 1");
        if (q.outcome() != null) {
            sql.append(" AND outcome = ?");
            args.add(q.outcome().name());
        }
        if (q.endpoint() != null) {
            sql.append(" AND endpoint = ?");
            args.add(q.endpoint());
        }
        if (q.project() != null) {
            sql.append(" AND project = ?");
            args.add(q.project());
        }
        if (q.trigger() != null) {
            sql.append(" AND trigger_name = ?");
            args.add(q.trigger());
        }
        if (q.buildId() != null) {
            sql.append(" AND build_id = ?");
            args.add(q.buildId());
        }
        if (q.from() != null) {
            sql.append(" AND received_at >= ?");
            args.add(q.from().toEpochMilli());
        }
        if (q.to() != null) {
            sql.append(" AND received_at < ?");
            args.add(q.to().toEpochMilli());
        }
        if (q.before() != null) {
            sql.append(" AND id < ?");
            args.add(q.before());
        }
        return sql.append(" ORDER BY id DESC LIMIT ").append(q.limit() + 1).toString();
    }

    Optional<DeliveryDetail> delivery(String id) {
        return db.read("read a delivery", c -> {
            Delivery d;
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT " + Rows.DELIVERY_COLUMNS + ", body FROM deliveries WHERE id = ?")) {
                p.setString(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    d = Rows.delivery(rs, rs.getBytes("body"));
                }
            }
            List<Job> jobs = query(c, "SELECT " + Rows.JOB_COLUMNS + " FROM jobs WHERE delivery_id = ? ORDER BY id",
                    List.of(id), rs -> Rows.job(rs).redacted());
            return Optional.of(new DeliveryDetail(d, jobs));
        });
    }

    /**
     * The delivery's own row, without its body and its jobs: what a page showing its build, project and
     * trigger needs, however large its body and however many jobs re-runs and replays gave it.
     */
    Optional<Delivery> deliveryRow(String id, boolean withBody) {
        return db.read("read a delivery", c -> query(c, "SELECT " + Rows.DELIVERY_COLUMNS
                + (withBody ? ", body" : "") + " FROM deliveries WHERE id = ?", List.of(id),
                rs -> Rows.delivery(rs, withBody ? rs.getBytes("body") : null)).stream().findFirst());
    }

    Page<Job> jobs(JobQuery q) {
        List<Object> args = new ArrayList<>();
        String sql = jobsSql(q, args);
        List<Job> items = db.read("list jobs", c -> query(c, sql, args, rs -> Rows.job(rs).redacted()));
        return page(items, q.limit(), Job::id);
    }

    /**
     * The statement of {@link #jobs}, its arguments added to {@code args} (for a test of its plan): each filter one AND,
     * newest first. {@code run_name = ?} implies the partial run index's WHERE (V22).
     */
    static String jobsSql(JobQuery q, List<Object> args) {
        StringBuilder sql = new StringBuilder("SELECT " + Rows.JOB_COLUMNS + " FROM jobs WHERE 1 = 1");
        if (q.state() != null) {
            sql.append(" AND state = ?");
            args.add(q.state().name());
        }
        if (q.ruleName() != null) {
            sql.append(" AND rule_name = ?");
            args.add(q.ruleName());
        }
        if (q.deliveryId() != null) {
            sql.append(" AND delivery_id = ?");
            args.add(q.deliveryId());
        }
        if (q.parentId() != null) {
            // Implies the partial jobs_parent_idx's WHERE (parent_id IS NOT NULL).
            sql.append(" AND parent_id = ?");
            args.add(q.parentId());
        }
        if (q.runName() != null) {
            sql.append(" AND run_name = ?");
            args.add(q.runName());
        }
        if (q.before() != null) {
            sql.append(" AND id < ?");
            args.add(q.before());
        }
        sql.append(" ORDER BY id DESC LIMIT ").append(q.limit() + 1);
        return sql.toString();
    }

    /**
     * The newest {@code perDelivery} jobs of each of {@code deliveryIds} (newest first, redacted),
     * in one query; a page's cursor is set when the delivery has more. Deliveries without jobs map
     * to an empty page.
     */
    Map<String, Page<Job>> jobsOfDeliveries(Collection<String> deliveryIds, int perDelivery) {
        Map<String, Page<Job>> pages = new LinkedHashMap<>();
        if (deliveryIds.isEmpty()) {
            return pages;
        }
        List<Object> args = new ArrayList<>(deliveryIds);
        args.add(perDelivery + 1);
        String sql = "SELECT " + Rows.JOB_COLUMNS + " FROM (SELECT jobs.*, ROW_NUMBER() OVER (PARTITION BY"
                + " delivery_id ORDER BY id DESC) AS n FROM jobs WHERE delivery_id IN ("
                + String.join(", ", java.util.Collections.nCopies(deliveryIds.size(), "?"))
                + ")) ranked WHERE n <= ? ORDER BY delivery_id, id DESC";
        List<Job> rows = db.read("list the jobs of deliveries", c -> query(c, sql, args,
                rs -> Rows.job(rs).redacted()));
        Map<String, List<Job>> grouped = new LinkedHashMap<>();
        for (String id : deliveryIds) {
            grouped.put(id, new ArrayList<>());
        }
        for (Job job : rows) {
            grouped.get(job.deliveryId()).add(job);
        }
        grouped.forEach((id, jobs) -> pages.put(id, page(jobs, perDelivery, Job::id)));
        return pages;
    }

    /**
     * For each of {@code deliveryIds}: its {@code perDelivery} most pressing jobs ({@link JobsAtAGlance#PRIORITY})
     * whole, and the others counted by state. One statement ranks the deliveries' jobs on their id and state
     * alone and answers the chosen ids with the others' counts (so both are of one moment); a second reads
     * the chosen rows. The whole rows, which carry the plan and its environment, are read only for the jobs shown.
     */
    Map<String, JobsAtAGlance> jobsAtAGlance(List<String> deliveryIds, int perDelivery) {
        Map<String, JobsAtAGlance> out = new LinkedHashMap<>();
        if (deliveryIds.isEmpty()) {
            return out;
        }
        StringBuilder rank = new StringBuilder("CASE state");
        for (int i = 0; i < JobsAtAGlance.PRIORITY.size(); i++) {
            for (JobState s : JobsAtAGlance.PRIORITY.get(i)) {
                rank.append(" WHEN '").append(s.name()).append("' THEN ").append(i);
            }
        }
        rank.append(" ELSE ").append(JobsAtAGlance.PRIORITY.size()).append(" END");
        String ranked = "WITH ranked AS (SELECT id, delivery_id, state, ROW_NUMBER() OVER (PARTITION BY delivery_id"
                + " ORDER BY " + rank + ", id DESC) AS n FROM jobs WHERE delivery_id IN ("
                + String.join(", ", java.util.Collections.nCopies(deliveryIds.size(), "?")) + "))"
                + " SELECT delivery_id, state, id, 1 FROM ranked WHERE n <= ?"
                + " UNION ALL SELECT delivery_id, state, NULL, COUNT(*) FROM ranked WHERE n > ? GROUP BY delivery_id, state";
        List<Object> args = new ArrayList<>(deliveryIds);
        args.add(perDelivery);
        args.add(perDelivery);
        Map<String, Map<JobState, Long>> hidden = new LinkedHashMap<>();
        List<String> shownIds = new ArrayList<>();
        db.read("rank the jobs of deliveries", c -> query(c, ranked, args, rs -> {
            String id = rs.getString(3);
            if (id != null) {
                shownIds.add(id);
            } else {
                hidden.computeIfAbsent(rs.getString(1), d -> new EnumMap<>(JobState.class))
                        .put(JobState.valueOf(rs.getString(2)), rs.getLong(4));
            }
            return id;
        }));
        Map<String, List<Job>> shown = new LinkedHashMap<>();
        if (!shownIds.isEmpty()) {
            String sql = "SELECT " + Rows.JOB_COLUMNS + " FROM jobs WHERE id IN ("
                    + String.join(", ", java.util.Collections.nCopies(shownIds.size(), "?")) + ") ORDER BY id DESC";
            for (Job j : db.read("read the shown jobs of deliveries", c -> query(c, sql, shownIds,
                    rs -> Rows.job(rs).redacted()))) {
                shown.computeIfAbsent(j.deliveryId(), d -> new ArrayList<>()).add(j);
            }
        }
        for (String id : deliveryIds) {
            out.put(id, new JobsAtAGlance(shown.getOrDefault(id, List.of()), hidden.getOrDefault(id, Map.of())));
        }
        return out;
    }

    /** How many job ids one query of {@link #interruptedAttempts} names. */
    static final int INTERRUPTED_SLICE = 500;

    /**
     * @param notStarted only those that never started their command ({@link JobAttempt#neverStarted})
     */
    Map<String, Integer> interruptedAttempts(Collection<String> jobIds, boolean notStarted) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        if (jobIds.isEmpty()) {
            return counts;
        }
        // The status page asks for all the jobs it lists (up to 50 deliveries of 100 jobs each): in slices,
        // so no statement has more parameters than an old SQLite allows (999).
        List<String> ids = List.copyOf(jobIds);
        for (int from = 0; from < ids.size(); from += INTERRUPTED_SLICE) {
            List<String> slice = ids.subList(from, Math.min(ids.size(), from + INTERRUPTED_SLICE));
            List<Object> args = new ArrayList<>();
            args.add(AttemptOutcome.INTERRUPTED.name());
            if (notStarted) {
                args.add(JobAttempt.NOT_STARTED + "%"); // no LIKE wildcard in it
            }
            args.addAll(slice);
            String sql = "SELECT job_id, COUNT(*) FROM job_attempts WHERE outcome = ?"
                    + (notStarted ? " AND message LIKE ?" : "") + " AND job_id IN ("
                    + String.join(", ", java.util.Collections.nCopies(slice.size(), "?")) + ") GROUP BY job_id";
            db.read("count the interrupted attempts of jobs", c -> query(c, sql, args,
                    rs -> counts.put(rs.getString(1), rs.getInt(2))));
        }
        return counts;
    }

    long countJobs(JobState state) {
        return db.read("count jobs", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM jobs WHERE state = ?")) {
                p.setString(1, state.name());
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /**
     * Queued jobs in a retry's backoff: their message says they wait for it ({@link Job#retryWait}), as every
     * surface reads it ({@link Job#retryDueAt}). The indexed queued jobs, each message looked at.
     */
    long countJobsWaitingForRetry() {
        return db.read("count jobs waiting for a retry", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM jobs WHERE state = ? AND attempts > 0"
                    + " AND (message LIKE ? OR message LIKE ?)")) {
                p.setString(1, JobState.QUEUED.name());
                p.setString(2, Job.RETRY_WAIT + "%");
                p.setString(3, "%; " + Job.RETRY_WAIT + "%");
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /**
     * Deliveries stored since {@code since} by outcome and jobs created since then by state: one
     * indexed range count per outcome and per state (ids begin with their creation time).
     */
    Activity activitySince(Instant since) {
        String from = Ids.lowestAt(since);
        return db.read("count recent activity", c -> {
            Map<DeliveryOutcome, Long> deliveries = new EnumMap<>(DeliveryOutcome.class);
            Map<JobState, Long> jobs = new EnumMap<>(JobState.class);
            try (PreparedStatement p = c.prepareStatement(DELIVERIES_SINCE)) {
                for (DeliveryOutcome o : DeliveryOutcome.values()) {
                    putCount(p, o.name(), from, n -> deliveries.put(o, n));
                }
            }
            try (PreparedStatement p = c.prepareStatement(JOBS_SINCE)) {
                for (JobState s : JobState.values()) {
                    putCount(p, s.name(), from, n -> jobs.put(s, n));
                }
            }
            return new Activity(since, deliveries, jobs);
        });
    }

    private static void putCount(PreparedStatement p, String value, String fromId, java.util.function.LongConsumer put)
            throws SQLException {
        p.setString(1, value);
        p.setString(2, fromId);
        try (ResultSet rs = p.executeQuery()) {
            long n = rs.next() ? rs.getLong(1) : 0;
            if (n > 0) {
                put.accept(n);
            }
        }
    }

    /**
     * The newest {@code perRule} jobs of each rule, newest first, as timings: one lookup per rule on
     * the (rule_name, id) index, so the cost does not grow with the history.
     */
    Map<String, List<JobTiming>> recentJobsOfRules(Collection<String> rules, int perRule) {
        return db.read("read the recent jobs of rules", c -> {
            Map<String, List<JobTiming>> out = new LinkedHashMap<>();
            try (PreparedStatement p = c.prepareStatement(RULE_JOBS)) {
                for (String rule : rules) {
                    p.setString(1, rule);
                    p.setInt(2, perRule);
                    List<JobTiming> timings = new ArrayList<>();
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            timings.add(new JobTiming(rs.getString("id"), JobState.valueOf(rs.getString("state")),
                                    Rows.instant(rs, "started_at"), Rows.instant(rs, "ended_at"),
                                    Duration.ofMillis(rs.getLong("timeout_ms"))));
                        }
                    }
                    out.put(rule, List.copyOf(timings));
                }
            }
            return out;
        });
    }

    /**
     * The job of {@code rule} that succeeded for the newest build of {@code project} newer than {@code buildId}, or
     * empty: what a re-run or replay of build {@code buildId} would run after (confirm34). The rule's jobs by its
     * index, their deliveries by id.
     */
    Optional<NewerBuildRun> newerSuccess(String rule, String project, long buildId) {
        return db.read("read a newer build's job", c -> query(c, "SELECT j.id, j.build_id, j.ended_at FROM jobs j"
                + " JOIN deliveries d ON d.id = j.delivery_id WHERE j.rule_name = ? AND j.state = 'SUCCEEDED'"
                + " AND j.build_id > ? AND d.project = ? ORDER BY j.build_id DESC, j.id DESC LIMIT 1",
                List.of(rule, buildId, project), rs -> new NewerBuildRun(rs.getString(1), rs.getLong(2),
                        Rows.instant(rs, 3))).stream().findFirst());
    }

    Optional<SupersedingBuild> newerOfSupersedeKey(String rule, String key, long buildId) {
        return db.read("read the newest build of a supersede key", c -> query(c, "SELECT build_id, job_id FROM"
                + " supersede_keys WHERE rule_name = ? AND supersede_key = ? AND build_id > ?", List.of(rule, key,
                        buildId), rs -> new SupersedingBuild(rs.getLong(1), rs.getString(2))).stream().findFirst());
    }

    Map<String, java.util.Set<String>> plannedBeside(String deliveryId, String rule) {
        Map<String, java.util.Set<String>> beside = new java.util.TreeMap<>();
        // One planning stores its jobs in one transaction with one creation time (DeliveryWriter.insertRendered,
        // PostgresAccept): the same delivery and the same created_at. Re-runs copy a plan, follow-ups follow a job.
        db.read("read the rules planned beside a rule for a delivery", c -> query(c, "SELECT DISTINCT b.rule_name,"
                + " b.rule_snapshot FROM jobs a JOIN jobs b ON b.delivery_id = a.delivery_id AND b.created_at ="
                + " a.created_at WHERE a.delivery_id = ? AND a.rule_name = ? AND b.rule_name <> a.rule_name AND"
                + " a.rerun_of IS NULL AND a.parent_id IS NULL AND b.rerun_of IS NULL AND b.parent_id IS NULL",
                List.of(deliveryId, rule), rs -> beside.computeIfAbsent(rs.getString(1), k -> new java.util.TreeSet<>())
                        .add(rs.getString(2))));
        return beside;
    }

    /** The job with its real env (for the engine), or empty. */
    Optional<Job> jobUnredacted(String id) {
        return db.read("read a job", c -> query(c, "SELECT " + Rows.JOB_COLUMNS + " FROM jobs WHERE id = ?",
                List.of(id), Rows::job).stream().findFirst());
    }

    /**
     * The job with its real environment and, when it has no concurrency limit and no shared
     * resources, its delivery's exact body (null when the delivery is gone), in one query: what an
     * attempt needs, without a second read (docs/BENCHMARKS.md). A job that may wait for a slot
     * or a resource is read without its body: it may be read again every retry while it waits,
     * and the body (up to the body cap) is read once when it can run.
     */
    Optional<ExecutionLedger.JobToRun> jobToRun(String id) {
        return db.read("read a job", c -> query(c, JOB_TO_RUN + " FROM jobs WHERE id = ?", List.of(id),
                rs -> jobToRun(rs, 0)).stream().findFirst());
    }

    /**
     * SQL: the limit of the rule of {@code jobs} in force, as {@code ExecutionLedger.currentLimit} has it (its newest
     * job still to run that has one; {@code jobs_slot_line_idx}), or none.
     */
    private static final String LIMIT_IN_FORCE = "SELECT k.concurrency FROM jobs k WHERE k.rule_name = jobs.rule_name"
            + " AND k.concurrency > 0 AND k.state IN ('QUEUED', 'WAITING', 'RUNNING') AND k.rerun_of IS NULL";

    /**
     * A job that takes neither a concurrency slot nor a shared resource, nor waits for the older jobs it
     * superseded under {@code running: cancel} to be stopped (JobTask's three waits). A job stored without a
     * limit takes a slot when its rule has one in force ({@link #JOB_TO_RUN}).
     */
    static final String RUNS_WITHOUT_WAITING_CONDITION = "jobs.concurrency <= 0 AND jobs.resources IS NULL"
            + " AND jobs.supersede_running = 0 AND (jobs.rerun_of IS NOT NULL OR NOT EXISTS (" + LIMIT_IN_FORCE + "))";
    private static final String RUNS_WITHOUT_WAITING = "CASE WHEN " + RUNS_WITHOUT_WAITING_CONDITION
            + " THEN 1 ELSE 0 END";

    /**
     * The select list of {@link #jobToRun}'s query from {@code jobs} ({@code FROM} and {@code WHERE}
     * left to the caller): the job's columns, whether it runs without waiting, its delivery's body, then the
     * limit it runs under. That is its own, or, for a job stored without one (not a re-run, which keeps its
     * plan), the one its rule has in force: a reload or a start that set a limit on the rule gives it to the
     * jobs still to run one by one ({@code ExecutionLedger#changeLimits}), and a job not given it yet, or one
     * left without it by a change that failed midway, started without a slot beside those holding the new
     * limit's slots (review57b F2). An index probe that finds nothing for a rule without a limit.
     */
    static final String JOB_TO_RUN = "SELECT " + Rows.JOB_COLUMNS + ", " + RUNS_WITHOUT_WAITING
            + ", CASE WHEN " + RUNS_WITHOUT_WAITING_CONDITION
            + " THEN (SELECT body FROM deliveries WHERE id = jobs.delivery_id) END"
            + ", CASE WHEN jobs.concurrency <= 0 AND jobs.rerun_of IS NULL THEN COALESCE((" + LIMIT_IN_FORCE
            + " ORDER BY k.id DESC LIMIT 1), 0) ELSE jobs.concurrency END";

    /** The number of columns of {@link #JOB_TO_RUN}: a column after them is at this index plus one. */
    static final int JOB_TO_RUN_COLUMNS = Rows.JOB_COLUMN_COUNT + 3;

    /** A row of {@link #JOB_TO_RUN}, with the attempt already started for it (0 for none). */
    static ExecutionLedger.JobToRun jobToRun(ResultSet rs, int started) throws SQLException {
        boolean bodyRead = rs.getInt(Rows.JOB_COLUMN_COUNT + 1) == 1;
        Job job = Rows.job(rs);
        int limit = rs.getInt(Rows.JOB_COLUMN_COUNT + 3);
        return new ExecutionLedger.JobToRun(limit == job.concurrency() ? job : job.withConcurrency(limit),
                bodyRead ? rs.getBytes(Rows.JOB_COLUMN_COUNT + 2) : null, bodyRead, started);
    }

    /**
     * A job and its attempts in one statement, so in one snapshot: the engine writes an attempt's end and the job's
     * state in one transaction, and a job read in one statement and its attempts in another could show the attempt
     * ended and the job still RUNNING, on the job's page, in the API and in a follow's last line (fixes38 F2). One
     * row per attempt (the job's columns, then the attempt's), or one row whose attempt columns are null.
     */
    static final String JOB_WITH_ATTEMPTS = "SELECT " + qualified("j", Rows.JOB_COLUMNS) + ", "
            + qualified("a", Rows.ATTEMPT_COLUMNS) + " FROM jobs j LEFT JOIN job_attempts a ON a.job_id = j.id"
            + " WHERE j.id = ? ORDER BY a.attempt";

    private static String qualified(String table, String columns) {
        return java.util.Arrays.stream(columns.split(", ")).map(c -> table + "." + c)
                .collect(java.util.stream.Collectors.joining(", "));
    }

    Optional<JobDetail> job(String id) {
        return db.read("read a job", c -> {
            try (PreparedStatement p = c.prepareStatement(JOB_WITH_ATTEMPTS)) {
                p.setString(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    Job job = null;
                    List<JobAttempt> attempts = new ArrayList<>();
                    int first = Rows.JOB_COLUMN_COUNT + 1;
                    while (rs.next()) {
                        if (job == null) {
                            job = Rows.job(rs).redacted();
                        }
                        rs.getString(first);
                        if (!rs.wasNull()) {
                            attempts.add(Rows.attemptAt(rs, first));
                        }
                    }
                    return job == null ? Optional.<JobDetail>empty() : Optional.of(new JobDetail(job, attempts));
                }
            }
        });
    }

    /** The admin actions on a delivery (including those on its jobs), or on one job; oldest first. */
    List<AdminAction> actions(String column, String id) {
        return db.read("read admin actions", c -> query(c, "SELECT " + Rows.ACTION_COLUMNS + " FROM admin_actions"
                + " WHERE " + column + " = ? ORDER BY id", List.of(id), Rows::action));
    }

    /**
     * A page of admin actions, newest first: the (job_id, id) or (delivery_id, id) index read backwards
     * from the cursor, stopping after the page, however many actions the job or delivery has.
     */
    Page<AdminAction> actions(ActionQuery q) {
        StringBuilder sql = new StringBuilder("SELECT " + Rows.ACTION_COLUMNS + " FROM admin_actions WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (q.jobId() != null) {
            sql.append(" AND job_id = ?");
            args.add(q.jobId());
        }
        if (q.deliveryId() != null) {
            sql.append(" AND delivery_id = ?");
            args.add(q.deliveryId());
        }
        if (q.before() != null) {
            sql.append(" AND id < ?");
            args.add(q.before());
        }
        sql.append(" ORDER BY id DESC LIMIT ").append(q.limit() + 1);
        List<AdminAction> items = db.read("read admin actions", c -> query(c, sql.toString(), args, Rows::action));
        return page(items, q.limit(), AdminAction::id);
    }

    /** The delivery's body, or empty when the delivery is gone. */
    Optional<byte[]> body(String deliveryId) {
        return db.read("read a delivery body", c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT body FROM deliveries WHERE id = ?")) {
                p.setString(1, deliveryId);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.ofNullable(rs.getBytes(1)) : Optional.<byte[]>empty();
                }
            }
        });
    }

    @FunctionalInterface
    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    static <T> List<T> query(Connection c, String sql, List<?> args, RowMapper<T> mapper) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                p.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = p.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(mapper.map(rs));
                }
                return out;
            }
        }
    }

    private static <T> Page<T> page(List<T> items, int limit, java.util.function.Function<T, String> id) {
        if (items.size() > limit) {
            List<T> page = items.subList(0, limit);
            return new Page<>(page, id.apply(page.get(limit - 1)));
        }
        return new Page<>(items, null);
    }
}
