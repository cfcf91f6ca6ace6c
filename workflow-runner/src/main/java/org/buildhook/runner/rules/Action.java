package org.buildhook.runner.rules;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.PlannedJob;

/**
 * A rule's {@code run} part, with its templates parsed and its defaults filled in.
 *
 * @param programAt where the program (first element of {@code command}) is written, for warnings
 * @param workdirAt where {@code workdir} is written; null when the rule names none
 * @param valuesAsSent whether the rule writes {@code payload-values: as-sent}: its payload values go into its command
 *                  and env unchecked ({@link PayloadValues})
 */
record Action(
        List<Template> command,
        Map<String, Template> env,
        Path workdir,
        Duration timeout,
        int retries,
        Duration backoff,
        int concurrency,
        boolean stdin,
        Map<String, Integer> resources,
        Map<String, Integer> capacities,
        String followUps,
        YamlNode.Location programAt,
        YamlNode.Location workdirAt,
        boolean valuesAsSent) {

    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
    static final int DEFAULT_RETRIES = 0;
    static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(10);
    static final int DEFAULT_CONCURRENCY = 0;
    static final boolean DEFAULT_STDIN = true;
    /**
     * The longest {@code timeout}, {@code backoff} or {@code approval.expires} a rule may have. Past a
     * few hundred years these durations no longer fit the store's milliseconds or the runner's
     * nanoseconds: such a rule made every delivery it fired a 500, or its jobs start attempts for ever.
     */
    static final Duration LONGEST = Duration.ofDays(3650);

    private static final Placeholder[] PLACEHOLDERS = Placeholder.values(); // values() copies each call

    Action {
        command = List.copyOf(command);
        env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
        resources = Map.copyOf(resources);
        capacities = Map.copyOf(capacities);
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(backoff, "backoff");
    }

    /** The same action starting {@code spec}'s follow-ups (null for none). */
    Action withFollowUps(String spec) {
        return new Action(command, env, workdir, timeout, retries, backoff, concurrency, stdin, resources, capacities,
                spec, programAt, workdirAt, valuesAsSent);
    }

    /**
     * The job this action plans for {@code subject}, with the rule's workflow parts in {@code workflow}: refused
     * ({@link PlannedJob#refusal()}) when a payload value it writes into its command or env is ({@link
     * PayloadValues#check}); such a job keeps the placeholder as written where the value would have gone, so that its
     * stored command never holds the refused value (a re-run of it cannot run it).
     */
    PlannedJob plan(String ruleName, String snapshot, JobSubject subject, JobWorkflow workflow) {
        JobWorkflow full = new JobWorkflow(workflow.buildId(), workflow.supersedeKey(), workflow.supersedeRunning(),
                workflow.approvalExpiry(), resources, capacities, followUps, workflow.parentId(), workflow.depth());
        String runName = subject.run() == null ? null : subject.run().name();
        var refused = PayloadValues.check(this, subject);
        if (refused.isPresent()) {
            List<String> argv = new ArrayList<>(command.size());
            command.forEach(element -> argv.add(element.renderChecked(subject)));
            Map<String, String> out = renderEnv(subject, ruleName);
            env.forEach((name, value) -> out.put(name, value.renderChecked(subject)));
            return new PlannedJob(ruleName, snapshot, argv, out, workdir, stdin, timeout, retries, backoff,
                    concurrency, runName, full, refused.get().message(ruleName));
        }
        return new PlannedJob(ruleName, snapshot, renderArgv(subject), renderEnv(subject, ruleName), workdir, stdin,
                timeout, retries, backoff, concurrency, runName, full);
    }

    List<String> renderArgv(JobSubject subject) {
        List<String> argv = new ArrayList<>(command.size());
        for (Template element : command) {
            argv.add(element.render(subject));
        }
        return argv;
    }

    /** The rule's own variables, then the {@code BUILDHOOK_*} values, which the rule cannot override. */
    Map<String, String> renderEnv(JobSubject subject, String ruleName) {
        Map<String, String> out = new LinkedHashMap<>(32);
        env.forEach((name, value) -> out.put(name, value.render(subject)));
        for (Placeholder p : PLACEHOLDERS) {
            if ((!p.isPerRun() || subject.run() != null) && (!p.isFollowUp() || subject.parent() != null)) {
                out.put(p.variable(), p.valueFor(subject));
            }
        }
        out.put(Placeholder.ENDPOINT_VARIABLE, subject.endpoint());
        out.put(Placeholder.RULE_VARIABLE, ruleName);
        return out;
    }
}
