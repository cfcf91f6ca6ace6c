package org.buildhook.servlet;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.buildhook.runner.store.AdminAction;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.QueuePosition;

/**
 * The admin API's JSON shapes of stored values, as ordered maps (times as ISO-8601 text). Env
 * values arrive already redacted from the store's read API.
 */
final class AdminViews {

    private AdminViews() {
    }

    static Map<String, Object> delivery(Delivery d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", d.id());
        m.put("endpoint", d.endpoint());
        m.put("receivedAt", text(d.receivedAt()));
        m.put("remoteAddress", d.remoteAddress());
        m.put("outcome", d.outcome().name());
        m.put("reason", d.reason());
        m.put("repeats", d.repeats());
        m.put("lastRepeatAt", text(d.lastRepeatAt()));
        m.put("duplicateOf", d.duplicateOf());
        m.put("buildId", d.summary().buildId());
        m.put("status", d.summary().status());
        m.put("project", d.summary().project());
        m.put("factory", d.summary().factory());
        m.put("trigger", d.summary().triggerName());
        m.put("bodySha256", d.bodyHash());
        return m;
    }

    /** The delivery with its headers and body: as text when the body is valid UTF-8, always as base64. */
    static Map<String, Object> deliveryDetail(Delivery d) {
        Map<String, Object> m = delivery(d);
        m.put("headers", d.headers());
        byte[] body = d.body();
        m.put("bodyText", body == null ? null : utf8(body));
        m.put("bodyBase64", body == null ? null : Base64.getEncoder().encodeToString(body));
        return m;
    }

    static Map<String, Object> job(Job j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id());
        m.put("delivery", j.deliveryId());
        m.put("rule", j.ruleName());
        // The run of the build a runs: {match: each} rule's job is for (null for others), in the lists too: its jobs
        // differed only by id there (tryout47b F4).
        m.put("runName", j.runName());
        m.put("state", j.state().name());
        m.put("attempts", j.attempts());
        m.put("exitCode", j.exitCode());
        m.put("createdAt", text(j.createdAt()));
        m.put("startedAt", text(j.startedAt()));
        m.put("endedAt", text(j.endedAt()));
        m.put("node", j.node());
        m.put("message", j.message());
        m.put("cancelRequested", j.cancelRequested());
        m.put("rerunOf", j.rerunOf());
        m.put("supersededBy", j.supersededBy());
        m.put("parent", j.workflow().parentId());
        m.put("expiresAt", text(j.expiresAt()));
        // While it waits for its retry's backoff, when that is due, as its message says (tryout21 F6).
        m.put("retryDueAt", text(j.retryDueAt().orElse(null)));
        return m;
    }

    /**
     * A waiting job's place in the queue, computed when asked ({@link QueuePosition}): {@code {"dueBefore": 412,
     * "running": 12, "runningNodes": 3, "text": "queued: 412 jobs due before it; 12 running on 3 nodes"}}; null for a
     * job that is not waiting only its turn (running, ended, or waiting for a retry, a slot, units or an older build's
     * job, which its message says).
     */
    static Map<String, Object> queuePosition(QueuePosition q) {
        if (q == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dueBefore", q.dueBefore());
        m.put("running", q.running());
        m.put("runningNodes", q.runningNodes());
        m.put("text", q.text());
        return m;
    }

    /** The job with its plan (argv, env redacted, workdir, limits) as the rule rendered it. */
    static Map<String, Object> jobDetail(Job j) {
        Map<String, Object> m = job(j);
        m.put("argv", j.argv());
        m.put("env", j.env());
        m.put("workdir", j.workdir() == null ? null : j.workdir().toString());
        m.put("stdin", j.stdin());
        m.put("timeout", seconds(j.timeout()));
        m.put("retries", j.retries());
        m.put("backoff", seconds(j.backoff()));
        m.put("concurrency", j.concurrency());
        m.put("ruleSnapshot", j.ruleSnapshot());
        m.put("buildId", j.workflow().buildId());
        m.put("supersedeKey", j.workflow().supersedeKey());
        m.put("resources", j.workflow().resources());
        return m;
    }

    static Map<String, Object> attempt(JobAttempt a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attempt", a.attempt());
        m.put("outcome", a.outcome().name());
        m.put("exitCode", a.exitCode());
        m.put("startedAt", text(a.startedAt()));
        m.put("endedAt", text(a.endedAt()));
        m.put("node", a.node());
        m.put("message", a.message());
        // Its node ended it before it ran the command: not a run cut short, and no log of the command's (tryout42 F10).
        m.put("neverStarted", a.neverStarted());
        m.put("hasLog", a.logPath() != null);
        // Whether its log was cut at runner.log-max-bytes, read from the log's own line (null: not known on
        // this node, e.g. still running or its log is on another node): tryout24 F2.
        LogCut cut = LogCut.of(a);
        m.put("logTruncated", cut == null ? null : cut.truncated());
        m.put("logDroppedBytes", cut == null || !cut.truncated() ? null : cut.droppedBytes());
        // Which units of shared resources it held, by resource ({"lab-boards": [2]}); {} when none or not recorded.
        m.put("units", new java.util.TreeMap<>(a.units()));
        return m;
    }

    static Map<String, Object> action(AdminAction a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", a.id());
        m.put("at", text(a.at()));
        m.put("actor", a.actor());
        m.put("action", a.action());
        m.put("delivery", a.deliveryId());
        m.put("job", a.jobId());
        m.put("detail", a.detail());
        return m;
    }

    static <T> List<Map<String, Object>> all(List<T> values, Function<T, Map<String, Object>> view) {
        return values.stream().map(view).toList();
    }

    private static String text(Instant at) {
        return at == null ? null : at.toString();
    }

    private static String seconds(Duration d) {
        return d == null ? null : d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private static String utf8(byte[] body) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
