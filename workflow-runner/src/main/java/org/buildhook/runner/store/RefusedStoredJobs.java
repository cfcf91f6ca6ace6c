package org.buildhook.runner.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.buildhook.runner.rules.StoredJobCheck;

/**
 * The stored jobs not ended (queued, waiting, awaiting an approval, or marked running) whose rule as stored this build
 * refuses ({@link StoredJobCheck}; tryout42 F7): planned by an older buildhook, or by an older node of a cluster being
 * upgraded, with the payload's text in shell code. This build's engine cancels each at its start instead of running it,
 * and refuses to approve or re-run one; {@code buildhook check} and every start say them, the first {@link #NAMED} by
 * id, so that the operator knows before it happens and what to do.
 *
 * <p>And the jobs stored with a payload value this build refuses where it plans a job ({@link
 * StoredJobCheck#valuesRefusal}; values43 V2): an older build did not check the values. Their delivery's body is read
 * for that, so at most {@link #BODIES_READ} such jobs are looked at (the oldest of the rules that write a payload
 * value; a start must not read thousands of bodies), and the rest are said as not looked at; the engine checks each
 * when it would start it all the same.
 *
 * @param count  how many such jobs the store holds
 * @param named  the first {@link #NAMED} of them, oldest first
 * @param byRule why each rule (as stored) of them is refused, by rule name, in the order first met
 * @param values the jobs whose stored values this build refuses, among those looked at
 */
public record RefusedStoredJobs(int count, List<Named> named, Map<String, String> byRule, Values values) {

    /** How many jobs {@link #describe} names by id before it says how many more. */
    public static final int NAMED = 10;
    /** How many jobs of rules that write a payload value {@link #of} reads the delivery's body of, at most. */
    public static final int BODIES_READ = 200;

    /**
     * The jobs stored with payload values this build refuses.
     *
     * @param count       how many of those looked at
     * @param named       the first {@link #NAMED} of them, oldest first
     * @param byRule      why, for the first job of each rule met
     * @param notLookedAt how many more jobs not ended of rules that write a payload value were not looked at (past
     *                    {@link #BODIES_READ})
     */
    public record Values(int count, List<Named> named, Map<String, String> byRule, int notLookedAt) {

        public Values {
            named = List.copyOf(named);
            byRule = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byRule));
        }
    }

    private static final String NOT_ENDED = "'QUEUED', 'WAITING', 'AWAITING_APPROVAL', 'RUNNING'";

    /** The exact body of delivery {@code deliveryId}, or null when it is gone; a failed read: {@link BodyUnread}. */
    static byte[] body(Connection c, String deliveryId) {
        try (PreparedStatement p = c.prepareStatement("SELECT body FROM deliveries WHERE id = ?")) {
            p.setString(1, deliveryId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        } catch (SQLException e) {
            throw new BodyUnread(e);
        }
    }

    /**
     * The job {@code parentId} as a follow-up of it sees it ({@code ${job.*}}), as the engine reads it at the
     * follow-up's pick; null when it is gone. A failed read: {@link BodyUnread}.
     */
    static org.buildhook.runner.rules.FollowUpParent parent(Connection c, String parentId) {
        try (PreparedStatement p = c.prepareStatement("SELECT rule_name, state, exit_code, attempts, log_path FROM jobs"
                + " WHERE id = ?")) {
            p.setString(1, parentId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                int exit = rs.getInt(3);
                Integer exitCode = rs.wasNull() ? null : exit;
                return new org.buildhook.runner.rules.FollowUpParent(parentId, rs.getString(1), rs.getString(2),
                        exitCode, rs.getInt(4), rs.getString(5));
            }
        } catch (SQLException e) {
            throw new BodyUnread(e);
        }
    }

    /** A body's (or a parent's) read failed, through {@link StoredJobCheck}'s supplier: {@link #of} throws its cause. */
    static final class BodyUnread extends RuntimeException {

        private static final long serialVersionUID = 1L;

        BodyUnread(SQLException cause) {
            super(cause);
        }

        @Override
        public synchronized SQLException getCause() {
            return (SQLException) super.getCause();
        }
    }

    /**
     * One job named.
     *
     * @param jobId      its id
     * @param rule       its rule (a follow-up's {@code deploy/on-success})
     * @param state      its state now
     * @param deliveryId its delivery, for the replay
     */
    public record Named(String jobId, String rule, JobState state, String deliveryId) {
    }

    public RefusedStoredJobs {
        java.util.Objects.requireNonNull(values, "values");
        named = List.copyOf(named);
        byRule = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byRule));
    }

    /**
     * Reads them from the open store's connection: one grouped read of the jobs not ended by their rule as stored, and
     * for each version this build refuses, its first jobs.
     *
     * @return empty when there is none
     * @throws SQLException when the store cannot be read (a schema older than this build's, a fault)
     */
    public static Optional<RefusedStoredJobs> of(Connection c) throws SQLException {
        record Version(String rule, String snapshot, int depth, boolean perRun, int count) {
        }
        List<Version> versions = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT rule_name, rule_snapshot, chain_depth,"
                + " CASE WHEN run_name IS NULL THEN 0 ELSE 1 END AS per_run, COUNT(*) FROM jobs WHERE state IN ("
                + NOT_ENDED + ") GROUP BY rule_name, rule_snapshot, chain_depth, per_run");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                versions.add(new Version(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4) == 1,
                        rs.getInt(5)));
            }
        }
        int count = 0;
        List<Named> named = new ArrayList<>();
        Map<String, String> byRule = new LinkedHashMap<>();
        List<Version> withValues = new ArrayList<>();
        for (Version v : versions) {
            Optional<String> why = StoredJobCheck.why(v.rule(), v.snapshot(), v.depth(), v.perRun());
            if (why.isEmpty()) {
                if (StoredJobCheck.checksValues(v.rule(), v.snapshot(), v.depth(), v.perRun())) {
                    withValues.add(v);
                }
                continue;
            }
            count += v.count();
            byRule.putIfAbsent(v.rule(), why.get());
            try (PreparedStatement p = c.prepareStatement("SELECT id, state, delivery_id FROM jobs WHERE rule_name = ?"
                    + " AND rule_snapshot = ? AND state IN (" + NOT_ENDED + ") ORDER BY id LIMIT ?")) {
                p.setString(1, v.rule());
                p.setString(2, v.snapshot());
                p.setInt(3, NAMED);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        named.add(new Named(rs.getString(1), v.rule(), JobState.valueOf(rs.getString(2)),
                                rs.getString(3)));
                    }
                }
            }
        }
        int read = 0;
        int notLookedAt = 0;
        int valueCount = 0;
        List<Named> valueNamed = new ArrayList<>();
        Map<String, String> byValue = new LinkedHashMap<>();
        for (Version v : withValues) {
            int budget = BODIES_READ - read;
            if (budget <= 0) {
                notLookedAt += v.count();
                continue;
            }
            notLookedAt += Math.max(0, v.count() - budget);
            // Without the body: read once per delivery below, when its event is not kept from a job before (review44
            // R1: with every job, 200 jobs of one 5 MiB delivery were 1 GB in one PostgreSQL result at the start).
            try (PreparedStatement p = c.prepareStatement("SELECT j.id, j.state, j.delivery_id, j.run_name, j.parent_id"
                    + " FROM jobs j WHERE j.rule_name = ? AND"
                    + " j.rule_snapshot = ? AND j.chain_depth = ? AND j.state IN (" + NOT_ENDED + ") AND (j.run_name IS"
                    + (v.perRun() ? " NOT" : "") + " NULL) ORDER BY j.id LIMIT ?")) {
                p.setString(1, v.rule());
                p.setString(2, v.snapshot());
                p.setInt(3, v.depth());
                p.setInt(4, budget);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        read++;
                        String jobId = rs.getString(1);
                        String deliveryId = rs.getString(3);
                        String parentId = rs.getString(5);
                        Optional<String> why;
                        try {
                            // A follow-up's parent as its pick reads it: its ${job.*} written before a value decide
                            // whether the value begins its argument (values44: the listing left them empty).
                            why = StoredJobCheck.valuesRefusal(v.rule(), v.snapshot(), v.depth(), rs.getString(4),
                                    deliveryId, () -> body(c, deliveryId),
                                    () -> parentId == null ? null : parent(c, parentId));
                        } catch (BodyUnread e) {
                            throw e.getCause();
                        }
                        if (why.isPresent()) {
                            valueCount++;
                            byValue.putIfAbsent(v.rule(), why.get());
                            valueNamed.add(new Named(jobId, v.rule(), JobState.valueOf(rs.getString(2)), deliveryId));
                        }
                    }
                }
            }
        }
        if (count == 0 && valueCount == 0) {
            return Optional.empty();
        }
        named.sort(java.util.Comparator.comparing(Named::jobId));
        valueNamed.sort(java.util.Comparator.comparing(Named::jobId));
        return Optional.of(new RefusedStoredJobs(count, named.subList(0, Math.min(NAMED, named.size())), byRule,
                new Values(valueCount, valueNamed.subList(0, Math.min(NAMED, valueNamed.size())), byValue,
                        notLookedAt)));
    }

    /**
     * As {@link #of(Connection)}, for {@code buildhook check}: the store {@code config} names read as {@link
     * SchemaOutlook} reads it (read-only; a missing SQLite file is not created). Never throws.
     *
     * @return empty when there is none, or nothing to read; else the jobs, or why they could not be read
     */
    public static Optional<Read> read(StoreConfig config) {
        try {
            if (config.dialect() == Dialect.POSTGRESQL) {
                try (Connection c = StoreReachability.connect(config)) {
                    c.setReadOnly(true);
                    if (SchemaOutlook.version(c, "SELECT to_regclass('schema_version') IS NOT NULL") == 0) {
                        return Optional.empty();
                    }
                    return of(c).map(jobs -> new Read(jobs, null));
                }
            }
            Optional<Path> file = Dialect.sqliteFile(config.url());
            if (file.isEmpty() || !Files.exists(file.get())) {
                return Optional.empty();
            }
            try (Connection c = DriverManager.getConnection(SchemaOutlook.sqliteReadOnlyUrl(file.get()),
                    SchemaOutlook.sqliteProperties(config))) {
                if (SchemaOutlook.version(c, "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'"
                        + " AND name = 'schema_version')") == 0) {
                    return Optional.empty();
                }
                return of(c).map(jobs -> new Read(jobs, null));
            }
        } catch (SQLException | IllegalArgumentException e) { // a state this build does not know: a newer schema's
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
            return Optional.of(new Read(null, reason));
        }
    }

    /**
     * What {@link #read} found.
     *
     * @param jobs       the jobs, or null when they could not be read
     * @param unreadable why not, or null
     */
    public record Read(RefusedStoredJobs jobs, String unreadable) {

        /** One warning for {@code check}: {@link RefusedStoredJobs#describe}, or that the jobs could not be read. */
        public String describe() {
            return jobs != null ? jobs.describe() : "whether the stored jobs not ended are of rules as stored that"
                    + " this build refuses (tryout42 F7) could not be read (" + unreadable + "); 'serve' looks at"
                    + " each job before it runs it all the same";
        }
    }

    /**
     * One warning, for {@code check} and a start's log: how many, the first {@link #NAMED} (id, rule, state, delivery),
     * why each rule is refused, what happens to them and what to do.
     */
    public String describe() {
        String said = count == 0 ? "" : describeRules();
        if (values.count() == 0) {
            return said;
        }
        String jobs = values.named().stream().map(RefusedStoredJobs::describe).collect(Collectors.joining(", "));
        String why = values.byRule().entrySet().stream().map(e -> "rule '" + e.getKey() + "': " + e.getValue())
                .collect(Collectors.joining("; "));
        return (said.isEmpty() ? "" : said + ". And ") + values.count() + " stored job(s) not ended hold a payload"
                + " value this build refuses where it plans a job (stored by an older buildhook, or by a node of one,"
                + " which did not check it; docs/rules.md#placeholders): " + jobs + (values.count() > values.named()
                        .size() ? " and " + (values.count() - values.named().size()) + " more" : "") + ". Why: " + why
                + ". This build does not run them: each ends FAILED, as planning would have stored it, when a node of"
                + " this build would start it (its on-failure starts; one awaiting an approval, which this build cannot"
                + " give, ends CANCELLED at the node's start), and an approval or a re-run of one is refused"
                + (values.notLookedAt() > 0 ? "; " + values.notLookedAt() + " more job(s) of rules that write a payload"
                        + " value were not looked at here (only the first " + BODIES_READ + " are), and are checked"
                        + " the same way when they would start" : "") + ". Nodes of the older build still running run"
                + " them as stored: drain or cancel them there first (docs/deploying.md#upgrading)";
    }

    private static String describe(Named n) {
        return "job " + n.jobId() + " of rule '" + n.rule() + "' (" + n.state() + ", delivery " + n.deliveryId() + ")";
    }

    private String describeRules() {
        String jobs = named.stream().map(RefusedStoredJobs::describe).collect(Collectors.joining(", "));
        String why = byRule.entrySet().stream().map(e -> "rule '" + e.getKey() + "': " + e.getValue())
                .collect(Collectors.joining("; "));
        return count + " stored job(s) not ended are of rules as stored that this build refuses (planned by an older"
                + " buildhook, or by a node of one): " + jobs + (count > named.size() ? " and " + (count - named.size())
                        + " more (buildhook jobs --rule NAME lists them)" : "") + ". Why: " + why + ". This build does"
                + " not run them: each is cancelled when a node of this build picks it (a job marked running, when it"
                + " would run again; one awaiting an approval, which this build cannot give, at the node's start), and"
                + " an approval or a re-run of one is refused. To run what they were for, fix"
                + " the rules (buildhook check), then replay each delivery with the fixed rule in force (buildhook"
                + " replay DELIVERY --rule NAME); nodes of the older build still running run them as stored: drain or"
                + " cancel them there first (docs/deploying.md#upgrading)";
    }
}
