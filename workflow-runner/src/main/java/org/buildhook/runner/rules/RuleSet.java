package org.buildhook.runner.rules;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.buildhook.core.BuildEvent;
import org.buildhook.runner.PlannedJob;

/**
 * One loaded version of the rules file: immutable, so a delivery that fetched it once sees the same
 * rules from start to end even while a newer version is being loaded. Made by {@link RuleSetLoader}.
 */
public final class RuleSet {

    private final List<Rule> rules;
    private final Map<String, Integer> resources;
    private final List<String> disabled;
    private final List<Problem> warnings;
    /** The warnings a server logs once per key ({@link #writingWarningsToLog}), to their keys. */
    private final Map<Problem, String> onceKeys;
    private final RuleIndex index;
    private final Path source;
    private final Instant loadedAt;
    /** Where a follow-up writes {@code ${job.url}}: {@link #jobPageWarnings}. */
    private final List<Problem> jobPageUses;

    RuleSet(List<Rule> rules, Path source, Instant loadedAt) {
        this(rules, Map.of(), source, loadedAt);
    }

    RuleSet(List<Rule> rules, Map<String, Integer> resources, Path source, Instant loadedAt) {
        this(rules, resources, List.of(), source, loadedAt);
    }

    RuleSet(List<Rule> rules, Map<String, Integer> resources, List<String> disabled, Path source, Instant loadedAt) {
        this(rules, resources, disabled, List.of(), source, loadedAt);
    }

    RuleSet(List<Rule> rules, Map<String, Integer> resources, List<String> disabled, List<Problem> warnings,
            Path source, Instant loadedAt) {
        this(rules, resources, disabled, warnings, Map.of(), source, loadedAt);
    }

    RuleSet(List<Rule> rules, Map<String, Integer> resources, List<String> disabled, List<Problem> warnings,
            Map<Problem, String> onceKeys, Path source, Instant loadedAt) {
        this(rules, resources, disabled, warnings, onceKeys, List.of(), source, loadedAt);
    }

    RuleSet(List<Rule> rules, Map<String, Integer> resources, List<String> disabled, List<Problem> warnings,
            Map<Problem, String> onceKeys, List<Problem> jobPageUses, Path source, Instant loadedAt) {
        this.jobPageUses = List.copyOf(jobPageUses);
        this.disabled = List.copyOf(disabled);
        this.warnings = List.copyOf(warnings);
        this.onceKeys = Map.copyOf(onceKeys);
        this.resources = Collections.unmodifiableMap(new java.util.TreeMap<>(resources));
        this.rules = List.copyOf(rules);
        this.index = new RuleIndex(this.rules);
        this.source = Objects.requireNonNull(source, "source");
        this.loadedAt = Objects.requireNonNull(loadedAt, "loadedAt");
    }

    /**
     * What would keep this set's jobs from starting on this machine: a program that does not exist or
     * is not executable, a script whose {@code #!} line ends in a carriage return, a working directory
     * that does not exist. Each names the rule and where the value is written.
     *
     * @param defaultWorkdir the runner's working directory for rules that name none
     * @param searchPath     the PATH the jobs will have, to find programs named without a slash
     */
    public List<Problem> machineWarnings(Path defaultWorkdir, String searchPath) {
        return MachineCheck.warnings(rules, source, defaultWorkdir, searchPath);
    }

    /**
     * What the file writes that is valid but likely not what its author meant, found when it was read, in
     * file order: a {@code command} argument or {@code env} value holding a placeholder or a shell variable
     * written the wrong way ({@code $build.id}, {@code {build.id}}, {@code $(build.id)}, {@code
     * $BUILDHOOK_BUILD_ID}), which stays literal text since no shell runs the command. Each says where it
     * is and what to write instead. Said the way the loader says warnings: {@code check} and {@code test}
     * as {@code file:line:column: warning: …}, the server in its log at start and at each reload
     * ({@link #writingWarningsToLog}). Also an {@code env} name that looks secret only by a secret word inside a
     * longer word ({@code BYPASS_CACHE}). Empty for a set not read from a file.
     */
    public List<Problem> writingWarnings() {
        return warnings;
    }

    /**
     * The {@link #writingWarnings} a server logs at a start or a reload: all of them, but one said once per name (an
     * {@code env} name that looks secret only by a secret word inside a longer word, tryout38 F6) only at its first
     * place in the file, and not when {@code said} holds its name already: a reload names only the names it adds.
     *
     * @param said the names said so far while the server runs; those returned here are added to it
     */
    public List<Problem> writingWarningsToLog(java.util.Set<String> said) {
        List<Problem> out = new ArrayList<>(warnings.size());
        for (Problem p : warnings) {
            String key = onceKeys.get(p);
            if (key == null || said.add(key)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * One warning per {@code ${job.url}} a follow-up writes, at its file:line:column, for a node whose configuration
     * sets no {@code admin.public-url}: there the value is empty (the rules file stays valid: the address is the
     * configuration's, and may be set on the nodes that run the jobs). Said by {@code check}, {@code test} and the
     * server's start and reloads; empty for a set that writes none.
     */
    public List<Problem> jobPageWarnings() {
        return jobPageUses;
    }

    /** A rule set with no rules, e.g. before any file is configured. */
    public static RuleSet empty(Path source, Instant loadedAt) {
        return new RuleSet(List.of(), source, loadedAt);
    }

    /**
     * The jobs that {@code event}, received on {@code endpoint}, fires: one per firing rule, or one per
     * matching run for rules with {@code match: each}; in file order, then run order. Empty when no
     * rule fires.
     */
    public List<PlannedJob> match(String endpoint, BuildEvent event) {
        JobSubject subject = JobSubject.of(endpoint, event);
        List<PlannedJob> jobs = new ArrayList<>(2);
        for (int position : index.candidates(subject)) {
            rules.get(position).plan(subject, jobs);
        }
        return jobs.isEmpty() ? List.of() : List.copyOf(jobs);
    }

    /** Every rule with whether it fires, the exact jobs it would plan, and if not, why not. */
    public DryRun explain(String endpoint, BuildEvent event) {
        JobSubject subject = JobSubject.of(endpoint, event);
        List<DryRun.Verdict> verdicts = new ArrayList<>();
        for (Rule rule : rules) {
            String whyNot = rule.whyNot(subject);
            List<PlannedJob> jobs = new ArrayList<>();
            if (whyNot == null) {
                rule.plan(subject, jobs);
            }
            verdicts.add(new DryRun.Verdict(rule.name(), jobs, whyNot));
        }
        return new DryRun(endpoint, event.buildId(), verdicts);
    }

    /** The enabled rules' names, in file order. */
    public List<String> ruleNames() {
        List<String> names = new ArrayList<>(rules.size());
        rules.forEach(r -> names.add(r.name()));
        return List.copyOf(names);
    }

    /**
     * The names the follow-up jobs of the enabled rules get ({@code deploy/on-success}, nested ones too), in file
     * order: names a job list may be asked for as a rule's (tryout51 F3).
     */
    public List<String> followUpNames() {
        List<String> names = new ArrayList<>();
        rules.forEach(r -> names.addAll(FollowUps.names(r.name(), r.action().followUps())));
        return List.copyOf(names);
    }

    /**
     * The names of the rules this file writes with {@code enabled: false}, in file order: an operator's
     * explicit word that their stored jobs still to run must not run (rulesknown23). Empty for a set
     * not read from a file.
     */
    public List<String> disabledRuleNames() {
        return disabled;
    }

    /**
     * Each enabled rule's name and canonical JSON (the {@code ruleSnapshot} its jobs carry), in file
     * order: for a status page, and to tell a changed file from one saved unchanged.
     */
    public Map<String, String> snapshots() {
        Map<String, String> snapshots = new LinkedHashMap<>();
        rules.forEach(r -> snapshots.put(r.name(), r.snapshot()));
        return Collections.unmodifiableMap(snapshots);
    }

    /**
     * Each enabled rule's {@code concurrency} (0: no limit), by name, in file order: the limits a reload
     * or a start gives the rule's jobs already stored ({@code ExecutionLedger.applyLimits}).
     */
    public Map<String, Integer> concurrencyLimits() {
        Map<String, Integer> limits = new LinkedHashMap<>();
        rules.forEach(r -> limits.put(r.name(), r.action().concurrency()));
        return Collections.unmodifiableMap(limits);
    }

    /**
     * Each enabled rule that says {@code renamed-from} (rename35), by name, in file order, to the old names it
     * writes (one or a list), in the order written: the rules whose {@code concurrency} counts the old names' jobs
     * still running ({@code RuleRenames}). Rules without the key are absent.
     */
    public Map<String, List<String>> renamedFrom() {
        Map<String, List<String>> renamed = new LinkedHashMap<>();
        snapshots().forEach((name, json) -> {
            List<String> old = RuleRenamedFrom.of(json);
            if (!old.isEmpty()) {
                renamed.put(name, old);
            }
        });
        return Collections.unmodifiableMap(renamed);
    }

    /**
     * Each enabled rule that asks for an {@code approval}, by name, in file order, to its {@code approval.expires}
     * (positive): the rules whose jobs stored without one a start or reload makes await one (tryout33 F11,
     * {@code Store.gateJobsOfRules}).
     */
    public Map<String, java.time.Duration> approvalExpiries() {
        Map<String, java.time.Duration> approvals = new LinkedHashMap<>();
        rules.stream().filter(r -> r.workflow() != null && r.workflow().approvalExpiry() != null)
                .forEach(r -> approvals.put(r.name(), r.workflow().approvalExpiry()));
        return Collections.unmodifiableMap(approvals);
    }

    /**
     * Each enabled rule with an {@code on-approval-request} (tryout47b F18), by name, in file order, to its follow-up
     * specification, as its new jobs are planned with ({@code JobWorkflow.followUps}): a start or reload that makes the
     * rule's stored jobs planned without an approval await one gives each the rule's request to start once it awaits
     * ({@code Store.gateJobsOfRules}, {@link FollowUps#withApprovalRequest}), as a re-run made to await one does.
     */
    public Map<String, String> approvalRequests() {
        Map<String, String> requests = new LinkedHashMap<>();
        rules.stream().filter(r -> FollowUps.asks(r.action().followUps(), FollowUpReader.ON_APPROVAL_REQUEST))
                .forEach(r -> requests.put(r.name(), r.action().followUps()));
        return Collections.unmodifiableMap(requests);
    }

    /** The shared resources the file declares, name to capacity (sorted by name); empty when none. */
    public Map<String, Integer> resources() {
        return resources;
    }

    /**
     * The warning for a valid file that runs nothing ({@code rules: []}, every rule {@code enabled:
     * false}), said by whoever loaded it the way it says warnings: {@code check} and {@code test} as
     * {@code file: warning: …}, the server in its log.
     */
    public Optional<String> nothingRunsWarning() {
        return size() == 0 ? Optional.of("no enabled rules: no delivery will start a job") : Optional.empty();
    }

    public int size() {
        return rules.size();
    }

    /** The file this version was read from. */
    public Path source() {
        return source;
    }

    public Instant loadedAt() {
        return loadedAt;
    }

    @Override
    public String toString() {
        return "RuleSet[" + source + ", " + rules.size() + " rules, loaded " + loadedAt + "]";
    }
}
