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
 * @param count  how many such jobs the store holds
 * @param named  the first {@link #NAMED} of them, oldest first
 * @param byRule why each rule (as stored) of them is refused, by rule name, in the order first met
 */
public record RefusedStoredJobs(int count, List<Named> named, Map<String, String> byRule) {

    /** How many jobs {@link #describe} names by id before it says how many more. */
    public static final int NAMED = 10;

    private static final String NOT_ENDED = "'QUEUED', 'WAITING', 'AWAITING_APPROVAL', 'RUNNING'";

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
        for (Version v : versions) {
            Optional<String> why = StoredJobCheck.why(v.rule(), v.snapshot(), v.depth(), v.perRun());
            if (why.isEmpty()) {
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
        if (count == 0) {
            return Optional.empty();
        }
        named.sort(java.util.Comparator.comparing(Named::jobId));
        return Optional.of(new RefusedStoredJobs(count, named.subList(0, Math.min(NAMED, named.size())), byRule));
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
                try (Connection c = DriverManager.getConnection(config.url(), StoreReachability.timeouts(config))) {
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
        String jobs = named.stream().map(n -> "job " + n.jobId() + " of rule '" + n.rule() + "' (" + n.state()
                + ", delivery " + n.deliveryId() + ")").collect(Collectors.joining(", "));
        String why = byRule.entrySet().stream().map(e -> "rule '" + e.getKey() + "': " + e.getValue())
                .collect(Collectors.joining("; "));
        return count + " stored job(s) not ended are of rules as stored that this build refuses (planned by an older"
                + " buildhook, or by a node of one): " + jobs + (count > named.size() ? " and " + (count - named.size())
                        + " more (buildhook jobs --rule NAME lists them)" : "") + ". Why: " + why + ". This build does"
                + " not run them: each is cancelled when a node of this build picks it (a job marked running, when it"
                + " would run again), and an approval or a re-run of one is refused. To run what they were for, fix"
                + " the rules (buildhook check), then replay each delivery with the fixed rule in force (buildhook"
                + " replay DELIVERY --rule NAME); nodes of the older build still running run them as stored: drain or"
                + " cancel them there first (docs/deploying.md#upgrading)";
    }
}
