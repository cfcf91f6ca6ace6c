package org.buildhook.runner;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One job that a rule fired for one event, fully rendered: what the store keeps and what the
 * launcher will run. Made by the rules (matching + placeholder expansion); never built from
 * unverified input.
 *
 * @param ruleName     the rule's name
 * @param ruleSnapshot the rule as it was when it fired (its YAML/JSON text), kept for history
 * @param argv         the command, one element per argument, placeholders already expanded
 * @param env          environment added to the inherited base: the rule's {@code env} then the
 *                     {@code BUILDHOOK_*} values (without {@code BUILDHOOK_PAYLOAD}, which the
 *                     runner adds when it writes the body file)
 * @param workdir      the working directory, or {@code null} for the runner's default
 * @param stdin        whether the exact body is written to the command's standard input
 * @param timeout      how long one attempt may run before its process tree is killed
 * @param retries      how many more attempts after a failed one (0 = run once)
 * @param backoff      the delay before the first retry; doubled for each further one
 * @param concurrency  at most this many jobs of this rule at once; 0 means no per-rule limit
 * @param runName      for rules with {@code match: each}, the run this job is for; else {@code null}
 * @param workflow     supersede key, approval, resources and follow-ups; {@link JobWorkflow#NONE} for none
 * @param refusal      null for a job to run; else why it is not started (a payload value its rule writes into its
 *                     command or env is refused, {@code PayloadValues}): the store keeps it ended, {@code FAILED} with
 *                     this message, and its {@code on-failure} follow-up starts
 */
public record PlannedJob(
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
        JobWorkflow workflow,
        String refusal) {

    /** A job to run ({@link #refusal} null). */
    public PlannedJob(String ruleName, String ruleSnapshot, List<String> argv, Map<String, String> env, Path workdir,
            boolean stdin, Duration timeout, int retries, Duration backoff, int concurrency, String runName,
            JobWorkflow workflow) {
        this(ruleName, ruleSnapshot, argv, env, workdir, stdin, timeout, retries, backoff, concurrency, runName,
                workflow, null);
    }

    /** A plain job: no supersede key, approval, resource or follow-up. */
    public PlannedJob(String ruleName, String ruleSnapshot, List<String> argv, Map<String, String> env, Path workdir,
            boolean stdin, Duration timeout, int retries, Duration backoff, int concurrency, String runName) {
        this(ruleName, ruleSnapshot, argv, env, workdir, stdin, timeout, retries, backoff, concurrency, runName,
                JobWorkflow.NONE);
    }

    public PlannedJob {
        Objects.requireNonNull(workflow, "workflow");
        Objects.requireNonNull(ruleName, "ruleName");
        Objects.requireNonNull(ruleSnapshot, "ruleSnapshot");
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must not be empty");
        }
        env = Map.copyOf(env);
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(backoff, "backoff");
        if (retries < 0 || concurrency < 0) {
            throw new IllegalArgumentException("retries and concurrency must be >= 0");
        }
    }

    /** The same job with another {@code workflow}. */
    public PlannedJob withWorkflow(JobWorkflow other) {
        return new PlannedJob(ruleName, ruleSnapshot, argv, env, workdir, stdin, timeout, retries, backoff,
                concurrency, runName, other, refusal);
    }

    /** Whether the job is refused ({@link #refusal}): stored ended, never started. */
    public boolean refused() {
        return refusal != null;
    }
}
