package org.buildhook.runner.store;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.buildhook.runner.PlannedJob;

/**
 * How what a stored job runs differs from what its rule in force plans for the job's delivery now (approve41): a job
 * runs the command, environment and working directory it was stored with, so an approval or a re-run after the rule
 * was edited (a broken command fixed, say) runs the stored ones, not the rule's now. Said as buildhook shows a job: the
 * commands as {@code job show} writes them (secret values {@code ***}, those of either plan hidden in both), the
 * environment by names only; compared by the real values, so a secret changed is a change though both show {@code
 * ***}. The {@code BUILDHOOK_*} variables are not compared: buildhook sets them from the delivery, which is the same,
 * and from the rule's name ({@code BUILDHOOK_RULE}), which a job keeps (a rule's {@code renamed-from} is no change of
 * what runs); a difference there comes from another version of buildhook, not from the rules file.
 *
 * @param commandChanged whether the command (argv) differs
 * @param storedCommand  the job's command, masked
 * @param commandNow     the command the rule plans now, masked
 * @param envChanged     the names both set, to other values, in name order
 * @param envAdded       the names the rule sets now and the job does not, in name order
 * @param envRemoved     the names the job sets and the rule no longer does, in name order
 * @param workdirChanged whether the working directory differs
 * @param storedWorkdir  the job's working directory, masked; null for the runner's default
 * @param workdirNow     the rule's working directory now, masked; null for the runner's default
 * @param hiddenChanged  the positions in the command (argv's index: the program is 0) of the arguments whose values
 *                       differ though both commands show them the same, masked: a secret changed (tryout42 F12), in
 *                       order; empty when none
 */
public record StoredPlanChange(
        boolean commandChanged,
        List<String> storedCommand,
        List<String> commandNow,
        SortedSet<String> envChanged,
        SortedSet<String> envAdded,
        SortedSet<String> envRemoved,
        boolean workdirChanged,
        String storedWorkdir,
        String workdirNow,
        List<Integer> hiddenChanged) {

    /** How the names of the variables buildhook sets begin; a rule's {@code env} cannot set one (docs/rules.md). */
    static final String BUILDHOOK_VARIABLES = "BUILDHOOK_";

    public StoredPlanChange {
        storedCommand = List.copyOf(storedCommand);
        commandNow = List.copyOf(commandNow);
        envChanged = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(envChanged));
        envAdded = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(envAdded));
        envRemoved = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(envRemoved));
        hiddenChanged = List.copyOf(hiddenChanged);
    }

    /** Whether the environment differs: a name changed, added or removed. */
    public boolean envDiffers() {
        return !envChanged.isEmpty() || !envAdded.isEmpty() || !envRemoved.isEmpty();
    }

    /**
     * How {@code stored} (with its real values) differs from {@code now}; empty when its command, environment and
     * working directory are those {@code now} has.
     *
     * @param stored the job as stored, not redacted
     * @param now    what its rule in force plans for the job's delivery now
     */
    static Optional<StoredPlanChange> between(Job stored, PlannedJob now) {
        Map<String, String> was = ruleVariables(stored.env());
        Map<String, String> is = ruleVariables(now.env());
        SortedSet<String> changed = new TreeSet<>();
        SortedSet<String> added = new TreeSet<>();
        SortedSet<String> removed = new TreeSet<>();
        is.forEach((name, value) -> {
            if (!was.containsKey(name)) {
                added.add(name);
            } else if (!Objects.equals(was.get(name), value)) {
                changed.add(name);
            }
        });
        was.keySet().stream().filter(name -> !is.containsKey(name)).forEach(removed::add);
        boolean command = !stored.argv().equals(now.argv());
        boolean workdir = !Objects.equals(stored.workdir(), now.workdir());
        if (!command && !workdir && changed.isEmpty() && added.isEmpty() && removed.isEmpty()) {
            return Optional.empty();
        }
        Set<String> secrets = new TreeSet<>(Redaction.hiddenIn(stored.argv(), stored.env()));
        secrets.addAll(Redaction.hiddenIn(now.argv(), now.env()));
        List<String> storedShown = Redaction.redactArgv(stored.argv(), secrets);
        List<String> nowShown = Redaction.redactArgv(now.argv(), secrets);
        List<Integer> hidden = new java.util.ArrayList<>();
        for (int i = 0; i < Math.min(storedShown.size(), nowShown.size()); i++) {
            if (!stored.argv().get(i).equals(now.argv().get(i)) && storedShown.get(i).equals(nowShown.get(i))) {
                hidden.add(i);
            }
        }
        return Optional.of(new StoredPlanChange(command, storedShown, nowShown, changed, added, removed, workdir,
                shown(stored.workdir(), secrets), shown(now.workdir(), secrets), hidden));
    }

    /** {@code env} without the variables buildhook sets. */
    private static Map<String, String> ruleVariables(Map<String, String> env) {
        Map<String, String> out = new java.util.HashMap<>(env);
        out.keySet().removeIf(name -> name.startsWith(BUILDHOOK_VARIABLES));
        return out;
    }

    private static String shown(Path workdir, Set<String> secrets) {
        return workdir == null ? null : Redaction.redactText(workdir.toString(), secrets);
    }
}
