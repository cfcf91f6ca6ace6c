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
            + " reason, duplicate_of, build_id, status, project, factory, trigger_name";
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

    /**
     * The job of a row whose first columns are {@link #JOB_COLUMNS}, in that order: read by index,
     * as sqlite-jdbc's lookup of 36 columns by name was a large share of every job's start
     * (docs/BENCHMARKS.md, "Third pass: the job's own bookkeeping").
     */
    static Job job(ResultSet rs) throws SQLException {
        String workdir = rs.getString(7);
        return new Job(rs.getString(1), rs.getString(2), rs.getString(3),
                rs.getString(4), stringList(rs.getString(5)), stringMap(rs.getString(6)),
                workdir == null ? null : Path.of(workdir), rs.getInt(8) != 0,
                Duration.ofMillis(rs.getLong(9)), rs.getInt(10),
                Duration.ofMillis(rs.getLong(11)), rs.getInt(12), rs.getString(13),
                JobState.valueOf(rs.getString(14)), rs.getInt(15), integer(rs, 16),
                instant(rs, 17), instant(rs, 18), instant(rs, 19), rs.getString(20),
                rs.getString(21), rs.getString(22), rs.getInt(23) != 0,
                rs.getString(24), workflow(rs), rs.getString(28), instant(rs, 30));
    }

    /** The number of {@link #JOB_COLUMNS}: a column after them is at this index plus one. */
    static final int JOB_COLUMN_COUNT = 34;

    private static JobWorkflow workflow(ResultSet rs) throws SQLException {
        long build = rs.getLong(25);
        Long buildId = rs.wasNull() ? null : build;
        long expiry = rs.getLong(29);
        Duration approval = rs.wasNull() ? null : Duration.ofMillis(expiry);
        Map<String, Integer> units = new java.util.TreeMap<>();
        Map<String, Integer> capacities = new java.util.TreeMap<>();
        String resources = rs.getString(31);
        if (resources != null) {
            resourceMap(resources).forEach((name, pair) -> {
                units.put(name, pair.get(0));
                capacities.put(name, pair.get(1));
            });
        }
        return new JobWorkflow(buildId, rs.getString(26), rs.getInt(27) != 0, approval,
                units, capacities, rs.getString(32), rs.getString(33), rs.getInt(34));
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
                rs.getString("duplicate_of"), body, summary(rs));
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

    static JobAttempt attempt(ResultSet rs) throws SQLException {
        return new JobAttempt(rs.getString("job_id"), rs.getInt("attempt"),
                AttemptOutcome.valueOf(rs.getString("outcome")), integer(rs, "exit_code"), instant(rs, "started_at"),
                instant(rs, "ended_at"), rs.getString("node"), rs.getString("log_path"), rs.getString("message"));
    }
}
