package org.buildhook.runner.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One attempt of a job: every attempt is kept. Times and exit code may be {@code null}: an ended attempt
 * whose {@code endedAt} is null ended at a time nobody recorded (its node died on another host), which
 * every surface shows as "unknown" ({@link #ended()} tells it from one still running). {@code units}: the numbers of
 * the shared resources' units it held, by resource name (each from 1 to the resource's capacity, ascending), as its
 * start recorded them (V20); empty when it held none, or started before V20.
 */
public record JobAttempt(String jobId, int attempt, AttemptOutcome outcome, Integer exitCode, Instant startedAt,
        Instant endedAt, String node, String logPath, String message, Map<String, List<Integer>> units) {

    public JobAttempt {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(outcome, "outcome");
        units = units == null ? Map.of() : Map.copyOf(units);
    }

    /** An attempt with no units recorded. */
    public JobAttempt(String jobId, int attempt, AttemptOutcome outcome, Integer exitCode, Instant startedAt,
            Instant endedAt, String node, String logPath, String message) {
        this(jobId, attempt, outcome, exitCode, startedAt, endedAt, node, logPath, message, Map.of());
    }

    /**
     * Its units as people read them: each resource by name with its numbers, {@code "lab-boards 2"}, {@code
     * "lab-boards 1,3; db 1"} (names in order); empty when none are recorded.
     */
    public String unitsText() {
        StringBuilder out = new StringBuilder();
        new java.util.TreeMap<>(units).forEach((name, numbers) -> out.append(out.length() == 0 ? "" : "; ").append(name)
                .append(' ').append(numbers.stream().map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(","))));
        return out.toString();
    }

    /**
     * How the message of an attempt its node ended before it ran the command begins ({@code not started: node n1
     * cannot write …; back in the queue, its retries untouched}): recorded {@code INTERRUPTED}, as its node's doing, and
     * written only so ({@link #neverStarted}).
     */
    public static final String NOT_STARTED = "not started: ";

    /**
     * Whether the attempt never started its command: its node ended it before (it could not write its files, it was
     * stopping or fenced), recorded {@code INTERRUPTED} with a message beginning {@link #NOT_STARTED}. It has no log of
     * the command's, and was not cut short (tryout42 F10).
     */
    public boolean neverStarted() {
        return outcome == AttemptOutcome.INTERRUPTED && message != null && message.startsWith(NOT_STARTED);
    }

    /** Whether the attempt has ended (its outcome is no longer {@code RUNNING}), whether or not its end time is known. */
    public boolean ended() {
        return outcome != AttemptOutcome.RUNNING;
    }
}
