package org.buildhook.runner.store;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;

/**
 * A stored job: its plan as the rule rendered it and where it is now. From the read API the
 * {@code env} values of secret-looking keys are {@code ***} (see {@link Redaction}); only the
 * engine sees the real values.
 *
 * @param attempts   how many attempts have started
 * @param exitCode   the exit code of the last attempt that ended, or {@code null} (also while a later attempt runs)
 * @param startedAt  when the last attempt started, or {@code null}
 * @param endedAt    when the job reached a final state, or {@code null}
 * @param node       the node that ran the last attempt, or {@code null}
 * @param logPath    the last attempt's log file, or {@code null}
 * @param message    what happened last ("exited with 3"), or {@code null}
 * @param rerunOf    the job this one re-runs, or {@code null}
 * @param workflow   its supersede key, approval, resources, follow-ups and parent
 * @param supersededBy the job of a newer build that superseded it, or {@code null}
 * @param expiresAt  while it awaits an approval, when it expires; else {@code null}
 */
public record Job(
        String id,
        String deliveryId,
        String ruleName,
        String ruleSnapshot,
        List<String> argv,
        Map<String, String> env,
        Path workdir,
        boolean stdin,
        Duration timeout,
        int retries,
        Duration backoff,
        int concurrency,
        String runName,
        JobState state,
        int attempts,
        Integer exitCode,
        Instant createdAt,
        Instant startedAt,
        Instant endedAt,
        String node,
        String logPath,
        String message,
        boolean cancelRequested,
        String rerunOf,
        JobWorkflow workflow,
        String supersededBy,
        Instant expiresAt) {

    /** A job with no workflow parts (as stored before version 3). */
    public Job(String id, String deliveryId, String ruleName, String ruleSnapshot, List<String> argv,
            Map<String, String> env, Path workdir, boolean stdin, Duration timeout, int retries, Duration backoff,
            int concurrency, String runName, JobState state, int attempts, Integer exitCode, Instant createdAt,
            Instant startedAt, Instant endedAt, String node, String logPath, String message, boolean cancelRequested,
            String rerunOf) {
        this(id, deliveryId, ruleName, ruleSnapshot, argv, env, workdir, stdin, timeout, retries, backoff, concurrency,
                runName, state, attempts, exitCode, createdAt, startedAt, endedAt, node, logPath, message,
                cancelRequested, rerunOf, JobWorkflow.NONE, null, null);
    }

    public Job {
        Objects.requireNonNull(workflow, "workflow");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(deliveryId, "deliveryId");
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        Objects.requireNonNull(state, "state");
    }

    /**
     * How every surface (the status page, {@code buildhook jobs} and {@code job show}) says when a job
     * that awaits an approval expires: {@code expires <when> unless approved or rejected}.
     *
     * @param when the expiry as the surface writes times ({@link #expiresAt()} formatted)
     */
    public static String approvalExpiry(String when) {
        return "expires " + when + " unless approved or rejected";
    }

    /**
     * How every surface (the status page's list and job page, {@code buildhook jobs} and {@code job show})
     * writes a job's attempts: every attempt, with how many of them its node cut short ({@code INTERRUPTED}:
     * a stop whose grace ended, a node that died, a node that could not write its files), which used none of
     * its retries: {@code 3 (2 interrupted)}, or a bare {@code 3} when none was. A job run again after a
     * restart so reads as its second run, not its first (final18 F9, tryout20 F7).
     *
     * @param attempts    the job's attempts, 0 or more ({@link #attempts()})
     * @param interrupted how many of them ended {@code INTERRUPTED}, 0 to {@code attempts}
     */
    public static String attemptsText(int attempts, int interrupted) {
        return interrupted > 0 ? attempts + " (" + interrupted + " interrupted)" : Integer.toString(attempts);
    }

    /**
     * How many of {@code attempts} ended {@code INTERRUPTED}, for {@link #attemptsText}.
     *
     * @param attempts a job's attempts, as {@link JobDetail#attempts()} lists them
     */
    public static int interrupted(Collection<JobAttempt> attempts) {
        return (int) attempts.stream().filter(a -> a.outcome() == AttemptOutcome.INTERRUPTED).count();
    }

    /** The plan this job was created from. */
    public PlannedJob plan() {
        return new PlannedJob(ruleName, ruleSnapshot, argv, env, workdir, stdin, timeout, retries, backoff,
                concurrency, runName, workflow);
    }

    /** The same job with secret-looking env values replaced by {@code ***}, in its env and its rule snapshot. */
    public Job redacted() {
        return new Job(id, deliveryId, ruleName, Redaction.redactSnapshot(ruleSnapshot), argv, Redaction.redact(env), workdir, stdin, timeout,
                retries, backoff, concurrency, runName, state, attempts, exitCode, createdAt, startedAt, endedAt, node,
                logPath, message, cancelRequested, rerunOf, workflow, supersededBy, expiresAt);
    }
}
