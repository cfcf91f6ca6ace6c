package org.buildhook.runner.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.RunnerException;

/** Maps rows to values and back; lists and maps are stored as JSON text. */
final class Rows {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectReader STRING_LIST = JSON.readerFor(new TypeReference<List<String>>() { });
    private static final ObjectReader STRING_MAP = JSON.readerFor(new TypeReference<Map<String, String>>() { });
    static final String JOB_COLUMNS = "id, delivery_id, rule_name, rule_snapshot, argv, env, workdir, stdin,"
            + " timeout_ms, retries, backoff_ms, concurrency, run_name, state, attempts, exit_code, created_at,"
            + " started_at, ended_at, node, log_path, message, cancel_requested, rerun_of, build_id, supersede_key,"
            + " supersede_running, superseded_by, approval_expiry_ms, expires_at, resources, follow_ups, parent_id,"
            + " chain_depth";
    static final String DELIVERY_COLUMNS = "id, endpoint, received_at, remote_address, headers, body_hash, outcome,"
            + " reason, duplicate_of, build_id, status, project, factory, trigger_name, repeats, last_repeat_at";
    static final String ACTION_COLUMNS = "id, at, actor, action, delivery_id, job_id, detail";

    private Rows() {
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new RunnerException("cannot write JSON", e);
        }
    }

    static List<String> stringList(String json) {
        try {
            return STRING_LIST.readValue(json);
        } catch (JsonProcessingException e) {
            throw new RunnerException("corrupt JSON list in the store", e);
        }
    }

    static Map<String, String> stringMap(String json) {
        try {
            return STRING_MAP.readValue(json);
        } catch (JsonProcessingException e) {
            throw new RunnerException("corrupt JSON map in the store", e);
        }
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        return instant(rs, rs.findColumn(column));
    }

    static Integer integer(ResultSet rs, String column) throws SQLException {
        return integer(rs, rs.findColumn(column));
    }

    static void setInstant(PreparedStatement p, int index, Instant value) throws SQLException {
        if (value == null) {
            p.setNull(index, Types.BIGINT);
        } else {
            p.setLong(index, value.toEpochMilli());
        }
    }

    static void setLong(PreparedStatement p, int index, Long value) throws SQLException {
        if (value == null) {
            p.setNull(index, Types.BIGINT);
        } else {
            p.setLong(index, value);
        }
    }

    static void setInteger(PreparedStatement p, int index, Integer value) throws SQLException {
        if (value == null) {
            p.setNull(index, Types.INTEGER);
        } else {
            p.setInt(index, value);
        }
    }

    private static final List<String> JOB_COLUMN_NAMES = List.of(JOB_COLUMNS.split(", "));

    /** The number of {@link #JOB_COLUMNS}: a column after them is at this index plus one. */
    static final int JOB_COLUMN_COUNT = JOB_COLUMN_NAMES.size();

    // Where each job column is in a row that begins with JOB_COLUMNS (1-based), found by its name.
    private static final int ID = jobColumn("id");
    private static final int DELIVERY_ID = jobColumn("delivery_id");
    private static final int RULE_NAME = jobColumn("rule_name");
    private static final int RULE_SNAPSHOT = jobColumn("rule_snapshot");
    private static final int ARGV = jobColumn("argv");
    private static final int ENV = jobColumn("env");
    private static final int WORKDIR = jobColumn("workdir");
    private static final int STDIN = jobColumn("stdin");
    private static final int TIMEOUT_MS = jobColumn("timeout_ms");
    private static final int RETRIES = jobColumn("retries");
    private static final int BACKOFF_MS = jobColumn("backoff_ms");
    private static final int CONCURRENCY = jobColumn("concurrency");
    private static final int RUN_NAME = jobColumn("run_name");
    private static final int STATE = jobColumn("state");
    private static final int ATTEMPTS = jobColumn("attempts");
    private static final int EXIT_CODE = jobColumn("exit_code");
    private static final int CREATED_AT = jobColumn("created_at");
    private static final int STARTED_AT = jobColumn("started_at");
    private static final int ENDED_AT = jobColumn("ended_at");
    private static final int NODE = jobColumn("node");
    private static final int LOG_PATH = jobColumn("log_path");
    private static final int MESSAGE = jobColumn("message");
    private static final int CANCEL_REQUESTED = jobColumn("cancel_requested");
    private static final int RERUN_OF = jobColumn("rerun_of");
    private static final int BUILD_ID = jobColumn("build_id");
    private static final int SUPERSEDE_KEY = jobColumn("supersede_key");
    private static final int SUPERSEDE_RUNNING = jobColumn("supersede_running");
    private static final int SUPERSEDED_BY = jobColumn("superseded_by");
    private static final int APPROVAL_EXPIRY_MS = jobColumn("approval_expiry_ms");
    private static final int EXPIRES_AT = jobColumn("expires_at");
    private static final int RESOURCES = jobColumn("resources");
    private static final int FOLLOW_UPS = jobColumn("follow_ups");
    private static final int PARENT_ID = jobColumn("parent_id");
    private static final int CHAIN_DEPTH = jobColumn("chain_depth");

    /**
     * The 1-based index of a column of {@link #JOB_COLUMNS}.
     *
     * @throws IllegalStateException if it is not one of them (fails the class's loading, so every
     *                               store test finds a column renamed on one side only)
     */
    static int jobColumn(String name) {
        int index = JOB_COLUMN_NAMES.indexOf(name);
        if (index < 0) {
            throw new IllegalStateException("no column " + name + " in Rows.JOB_COLUMNS: " + JOB_COLUMNS);
        }
        return index + 1;
    }

    /**
     * The job of a row whose first columns are {@link #JOB_COLUMNS}, in that order: read by index,
     * as sqlite-jdbc's lookup of 36 columns by name was a large share of every job's start
     * (docs/BENCHMARKS.md, "Third pass: the job's own bookkeeping"); the indices are found once,
     * by name, in {@link #JOB_COLUMNS}.
     */
    static Job job(ResultSet rs) throws SQLException {
        String workdir = rs.getString(WORKDIR);
        return new Job(rs.getString(ID), rs.getString(DELIVERY_ID), rs.getString(RULE_NAME),
                rs.getString(RULE_SNAPSHOT), stringList(rs.getString(ARGV)), stringMap(rs.getString(ENV)),
                workdir == null ? null : Path.of(workdir), rs.getInt(STDIN) != 0,
                Duration.ofMillis(rs.getLong(TIMEOUT_MS)), rs.getInt(RETRIES),
                Duration.ofMillis(rs.getLong(BACKOFF_MS)), rs.getInt(CONCURRENCY), rs.getString(RUN_NAME),
                JobState.valueOf(rs.getString(STATE)), rs.getInt(ATTEMPTS), integer(rs, EXIT_CODE),
                instant(rs, CREATED_AT), instant(rs, STARTED_AT), instant(rs, ENDED_AT), rs.getString(NODE),
                rs.getString(LOG_PATH), rs.getString(MESSAGE), rs.getInt(CANCEL_REQUESTED) != 0,
                rs.getString(RERUN_OF), workflow(rs), rs.getString(SUPERSEDED_BY),
                // Set on a queued job too while it is asked to await an approval at its start (DeliveryWriter.gate):
                // an expiry only for a job that awaits one.
                JobState.valueOf(rs.getString(STATE)) == JobState.AWAITING_APPROVAL ? instant(rs, EXPIRES_AT) : null);
    }

    private static JobWorkflow workflow(ResultSet rs) throws SQLException {
        long build = rs.getLong(BUILD_ID);
        Long buildId = rs.wasNull() ? null : build;
        long expiry = rs.getLong(APPROVAL_EXPIRY_MS);
        Duration approval = rs.wasNull() ? null : Duration.ofMillis(expiry);
        Map<String, Integer> units = new java.util.TreeMap<>();
        Map<String, Integer> capacities = new java.util.TreeMap<>();
        String resources = rs.getString(RESOURCES);
        if (resources != null) {
            resourceMap(resources).forEach((name, pair) -> {
                units.put(name, pair.get(0));
                capacities.put(name, pair.get(1));
            });
        }
        return new JobWorkflow(buildId, rs.getString(SUPERSEDE_KEY), rs.getInt(SUPERSEDE_RUNNING) != 0, approval,
                units, capacities, rs.getString(FOLLOW_UPS), rs.getString(PARENT_ID), rs.getInt(CHAIN_DEPTH));
    }

    static Instant instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    static Integer integer(ResultSet rs, int column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }

    /** A job's resources as stored: {@code {"name": [units, capacity]}}; null when it needs none. */
    static String resources(JobWorkflow w) {
        if (w.resources().isEmpty()) {
            return null;
        }
        Map<String, List<Integer>> out = new java.util.TreeMap<>();
        w.resources().forEach((name, units) -> out.put(name, List.of(units, w.capacities().get(name))));
        return json(out);
    }

    static Map<String, List<Integer>> resourceMap(String json) {
        try {
            return JSON.readValue(json, new TypeReference<Map<String, List<Integer>>>() { });
        } catch (JsonProcessingException e) {
            throw new RunnerException("corrupt JSON resources in the store", e);
        }
    }

    static Delivery delivery(ResultSet rs, byte[] body) throws SQLException {
        return new Delivery(rs.getString("id"), rs.getString("endpoint"), instant(rs, "received_at"),
                rs.getString("remote_address"), stringMap(rs.getString("headers")), rs.getString("body_hash"),
                DeliveryOutcome.valueOf(rs.getString("outcome")), rs.getString("reason"),
                rs.getString("duplicate_of"), body, summary(rs), rs.getInt("repeats"),
                instant(rs, "last_repeat_at"));
    }

    private static DeliverySummary summary(ResultSet rs) throws SQLException {
        long buildId = rs.getLong("build_id");
        return new DeliverySummary(rs.wasNull() ? null : buildId, rs.getString("status"), rs.getString("project"),
                rs.getString("factory"), rs.getString("trigger_name"));
    }

    static AdminAction action(ResultSet rs) throws SQLException {
        return new AdminAction(rs.getString("id"), instant(rs, "at"), rs.getString("actor"), rs.getString("action"),
                rs.getString("delivery_id"), rs.getString("job_id"), rs.getString("detail"));
    }

    /** {@code job_attempts}' columns as {@link #attemptAt} reads them, in that order. */
    static final String ATTEMPT_COLUMNS = "job_id, attempt, outcome, exit_code, started_at, ended_at, node, log_path,"
            + " message, unit_numbers";

    /**
     * The attempt whose {@link #ATTEMPT_COLUMNS} begin at column {@code first} (1-based) of the row, by index: in a
     * join with {@code jobs}, several of its names are the job's too ({@code started_at}, {@code message} …).
     */
    static JobAttempt attemptAt(ResultSet rs, int first) throws SQLException {
        return new JobAttempt(rs.getString(first), rs.getInt(first + 1), AttemptOutcome.valueOf(rs.getString(first + 2)),
                integer(rs, first + 3), instant(rs, first + 4), instant(rs, first + 5), rs.getString(first + 6),
                rs.getString(first + 7), rs.getString(first + 8), unitNumbers(rs.getString(first + 9)));
    }

    /** {@code job_attempts.unit_numbers} (V20) read; empty for none. */
    private static Map<String, List<Integer>> unitNumbers(String json) {
        return json == null ? Map.of() : resourceMap(json);
    }
}
