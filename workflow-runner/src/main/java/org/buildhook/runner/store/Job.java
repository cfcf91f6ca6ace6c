package org.buildhook.runner.store;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.rules.Durations;

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
        return approvalExpiry(when, false);
    }

    /**
     * As {@link #approvalExpiry(String)}, and once that time has passed while no node has marked the job {@code
     * EXPIRED} yet (a node looks every polling interval, and not while every node is down): {@code expired <when>;
     * approve and reject are refused, a node marks it EXPIRED when it next looks} (tryout51 F2: the words promised a
     * decision that can no longer be made).
     *
     * @param when   the expiry as the surface writes times
     * @param passed whether that time has passed by the surface's clock
     */
    public static String approvalExpiry(String when, boolean passed) {
        return passed ? "expired " + when + "; approve and reject are refused, a node marks it EXPIRED when it next"
                + " looks" : "expires " + when + " unless approved or rejected";
    }

    /** How the wait for a retry begins in a job's message ({@link #retryWait}). */
    public static final String RETRY_WAIT = "waiting for retry ";

    /** What follows the retry's due time in {@link #retryWait}. */
    private static final String RETRY_BACKOFF = " (backoff ";

    /**
     * How a job that waits for its retry's backoff says so, after what its last attempt came to (as the
     * wait for a concurrency slot does): {@code waiting for retry 1 of 2 (attempt 2), due at
     * 2026-12-02T10:14:19Z (backoff 5m)}. The job's message, and so every surface's ({@code buildhook jobs},
     * {@code job show}, {@code logs -f}, the status page, the admin API), until the retry starts (tryout21 F6:
     * only the server's log said "retry in 5m", and the job read as stuck in the queue).
     *
     * @param retry   which retry, from 1 (how many of its attempts failed)
     * @param retries how many retries its rule allows, {@code retry} or more
     * @param attempt the number its attempt will have, from 2 (interrupted attempts counted)
     * @param dueAt   when it is due, written in UTC as ISO-8601 ({@link Instant#toString}): the engine makes it a
     *                whole second for a backoff of a second or more, so that it reads {@code 10:14:19Z}
     * @param backoff how long it waits after the attempt that failed
     */
    public static String retryWait(int retry, int retries, int attempt, Instant dueAt, Duration backoff) {
        return RETRY_WAIT + retry + " of " + retries + " (attempt " + attempt + "), due at " + dueAt + RETRY_BACKOFF
                + Durations.describe(backoff) + ")";
    }

    /**
     * The message of a job ended {@code CANCELLED} because its rule is disabled or removed in the rules in force
     * ({@code why}, the reload's words): after {@code not started: } for a job that had no attempt, else after what is
     * true of it ({@link #cancelledBeforeItsNextAttempt}, tryout33 F2). One text for the reload's cancel and for a
     * node's pick that refuses such a job (tryout57 F4).
     */
    public static String cancelledAsRuleNotInForce(String why, int attempts, String message) {
        return attempts == 0 ? "not started: " + why : cancelledBeforeItsNextAttempt(attempts, message) + "; " + why;
    }

    /**
     * The message of a job cancelled while it waited in the queue, before its next attempt started: {@code
     * cancelled before it ran} when it has had none; after an attempt, what is true of it then, not that it never
     * ran (retry21): {@code cancelled while waiting for retry 1 of 2; attempt 1 exited with 3} during a retry's
     * backoff ({@link #retryWait}), else {@code cancelled before attempt 2 ran; attempt 1: <what it came to>}
     * (one cut short by a stop, say).
     *
     * @param attempts how many attempts the job has had, 0 or more
     * @param message  its message when it was cancelled (after an attempt, what that came to and what the job
     *                 waited for), or null
     */
    public static String cancelledBeforeItsNextAttempt(int attempts, String message) {
        if (attempts == 0) {
            return "cancelled before it ran";
        }
        String last = message == null ? "" : message;
        int waits = last.startsWith(WAITING) ? 0 : last.indexOf("; " + WAITING);
        String came = waits < 0 ? last : last.substring(0, waits);
        String waited = waits < 0 ? "" : last.substring(waits == 0 ? 0 : waits + 2);
        if (waited.startsWith(RETRY_WAIT) && waited.indexOf(" (attempt ") > 0) {
            return "cancelled while " + waited.substring(0, waited.indexOf(" (attempt ")) + "; attempt " + attempts
                    + (came.isEmpty() ? " failed" : " " + came);
        }
        return "cancelled before attempt " + (attempts + 1) + " ran" + (came.isEmpty() ? ""
                : "; attempt " + attempts + ": " + came);
    }

    /**
     * Whether the job is {@code QUEUED} and its message names nothing it waits for but its turn: not a retry's
     * backoff, a concurrency slot, shared resources' units or an older build's job ({@code waiting for …}), which
     * keep their own words. Such a job is shown with its place in the queue ({@link QueuePosition}, tryout49 F5).
     */
    public boolean waitsItsTurn() {
        return state == JobState.QUEUED && (message == null
                || !(message.startsWith(WAITING) || message.contains("; " + WAITING)));
    }

    /**
     * This job as a surface shows it with its place in the queue after its message ({@code queued: 412 jobs due
     * before it; …}, or {@code stopped by the shutdown of node-1; run again; queued: …}): for display only, never
     * stored.
     *
     * @param position its place, or null (then this job as it is)
     */
    public Job withQueuePosition(QueuePosition position) {
        if (position == null) {
            return this;
        }
        String shown = message == null || message.isEmpty() ? position.text() : message + "; " + position.text();
        return new Job(id, deliveryId, ruleName, ruleSnapshot, argv, env, workdir, stdin, timeout, retries, backoff,
                concurrency, runName, state, attempts, exitCode, createdAt, startedAt, endedAt, node, logPath, shown,
                cancelRequested, rerunOf, workflow, supersededBy, expiresAt);
    }

    /**
     * This job with the concurrency limit {@code limit} it runs under: that of its rule in force when it was stored
     * without one (StoreReader.JOB_TO_RUN), for the attempt about to start only, never stored.
     */
    public Job withConcurrency(int limit) {
        return new Job(id, deliveryId, ruleName, ruleSnapshot, argv, env, workdir, stdin, timeout, retries, backoff,
                limit, runName, state, attempts, exitCode, createdAt, startedAt, endedAt, node, logPath, message,
                cancelRequested, rerunOf, workflow, supersededBy, expiresAt);
    }

    /** How what a queued job waits for begins in its message, after what its last attempt came to. */
    private static final String WAITING = "waiting for ";

    /**
     * While the job waits for its retry's backoff, when the retry is due, as its message says it
     * ({@link #retryWait}); empty otherwise (the wait leaves the message when the retry starts).
     */
    public Optional<Instant> retryDueAt() {
        return state != JobState.QUEUED ? Optional.empty() : retryDueIn(message);
    }

    /** When the retry that {@code message} (a queued job's) says it waits for is due; empty when it says none. */
    static Optional<Instant> retryDueIn(String message) {
        if (message == null) {
            return Optional.empty();
        }
        int after = message.lastIndexOf("; " + RETRY_WAIT);
        int at = message.startsWith(RETRY_WAIT) ? 0 : after < 0 ? -1 : after + 2;
        int due = at < 0 ? -1 : message.indexOf(", due at ", at);
        int end = due < 0 ? -1 : message.indexOf(RETRY_BACKOFF, due);
        if (at < 0 || end < 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(message.substring(due + ", due at ".length(), end)));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
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
        return attemptsText(attempts, interrupted, 0);
    }

    /**
     * As {@link #attemptsText(int, int)}, those of the interrupted attempts that never started their command said
     * apart: {@code 2 (1 not started)}, {@code 3 (1 interrupted, 1 not started)} (tryout42 F10: an attempt its node
     * could not start read as a run cut short).
     *
     * @param attempts    the job's attempts, 0 or more ({@link #attempts()})
     * @param interrupted how many of them ended {@code INTERRUPTED}, 0 to {@code attempts}
     * @param notStarted  how many of those never started their command ({@link JobAttempt#neverStarted}), 0 to
     *                    {@code interrupted}
     */
    public static String attemptsText(int attempts, int interrupted, int notStarted) {
        String short_ = shortAttempts(interrupted, notStarted);
        return short_.isEmpty() ? Integer.toString(attempts) : attempts + " (" + short_ + ")";
    }

    /**
     * The attempts its node ended, as {@link #attemptsText(int, int, int)} says them in its brackets: {@code 1
     * interrupted}, {@code 1 not started}, {@code 2 interrupted, 1 not started}; empty when none.
     *
     * @param interrupted how many attempts ended {@code INTERRUPTED}, 0 or more
     * @param notStarted  how many of those never started their command, 0 to {@code interrupted}
     */
    public static String shortAttempts(int interrupted, int notStarted) {
        int cut = Math.max(0, interrupted - notStarted);
        return (cut > 0 ? cut + " interrupted" : "") + (cut > 0 && notStarted > 0 ? ", " : "")
                + (notStarted > 0 ? notStarted + " not started" : "");
    }

    /**
     * How many of {@code attempts} never started their command ({@link JobAttempt#neverStarted}), for {@link
     * #attemptsText(int, int, int)}.
     *
     * @param attempts a job's attempts, as {@link JobDetail#attempts()} lists them
     */
    public static int notStarted(Collection<JobAttempt> attempts) {
        return (int) attempts.stream().filter(JobAttempt::neverStarted).count();
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

    /**
     * The same job as buildhook shows it: secret values replaced by {@code ***} in its argv, its env and its rule
     * snapshot, as {@link Redaction} says.
     */
    public Job redacted() {
        // Worked out once for both (perf38): every job a list or the status page shows pays it.
        Set<String> secrets = Redaction.secretValues(env);
        return new Job(id, deliveryId, ruleName, Redaction.redactSnapshot(ruleSnapshot),
                Redaction.redactArgv(argv, secrets), Redaction.redact(env, secrets), workdir, stdin, timeout,
                retries, backoff, concurrency, runName, state, attempts, exitCode, createdAt, startedAt, endedAt, node,
                logPath, message, cancelRequested, rerunOf, workflow, supersededBy, expiresAt);
    }
}
