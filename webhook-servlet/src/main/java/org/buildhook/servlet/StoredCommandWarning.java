package org.buildhook.servlet;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.InvalidEventException;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.rules.DryRun;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoredPlanChange;

/**
 * The warning that an approval or a re-run runs what the job was stored with although its rule in force plans
 * something else for its delivery now (approve41): a job runs as it was stored, so an operator who fixed a broken
 * command in the rules file and then approved the waiting job ran the broken one, without a word. Said by the
 * previews ({@code GET /api/jobs/{id}/approve-warnings}, {@code …/rerun-warnings}) and the approval's answer, in the
 * same words: what differs ({@link StoredPlanChange}: the commands as {@code job show} writes them, the environment by
 * names only), that the stored one runs, and what runs the rule in force instead (a replay of the delivery for the
 * rule, after a reject of the waiting job). A rule in force that no longer fires for the delivery is said too.
 */
final class StoredCommandWarning {

    /** The most characters of a command a warning shows; {@code job show} shows a job's whole. */
    static final int COMMAND_SHOWN = 300;

    private StoredCommandWarning() {
    }

    /** What runs the stored command. */
    enum Act {
        /** {@code POST /api/jobs/{id}/approve} and its preview. */
        APPROVAL,
        /** {@code POST /api/jobs/{id}/rerun} and its preview. */
        RERUN
    }

    /**
     * The warning for {@code job}, or empty: when what it runs is what {@code inForce} plans for its delivery now, and
     * for a follow-up (its command comes from its parent's rule's follow-ups, which this does not compare), a delivery
     * without its body, or one whose body no longer reads as an event.
     *
     * @param job     the job (as the admin API reads it: secret values {@code ***})
     * @param inForce the rule in force that runs {@code job}'s rule: that rule, or the one that takes it over
     *                ({@code renamed-from}, or the same {@code run} when not in force beside it:
     *                {@code AdminRequests.inForceFor})
     * @param node    this node's id, which the rules in force are of
     */
    static Optional<String> of(Store store, RuleSet rules, Job job, String inForce, String node, Act act) {
        if (job.workflow().parentId() != null) {
            return Optional.empty();
        }
        Delivery delivery = store.deliveryWithBody(job.deliveryId()).orElse(null);
        if (delivery == null || delivery.body() == null) {
            return Optional.empty();
        }
        BuildEvent event;
        try {
            event = new BuildEventParser().parse(delivery.body());
        } catch (InvalidEventException e) {
            return Optional.empty();
        }
        DryRun.Verdict verdict = rules.explain(delivery.endpoint(), event).verdicts().stream()
                .filter(v -> v.rule().equals(inForce)).findFirst().orElse(null);
        if (verdict == null) {
            return Optional.empty();
        }
        String rule = "its rule '" + job.ruleName() + "'" + (inForce.equals(job.ruleName()) ? ""
                : ", now '" + inForce + "' (" + (rules.renamedFrom().getOrDefault(inForce, List.of())
                        .contains(job.ruleName()) ? "renamed-from" : "the same run") + "),");
        String where = " has changed since the job was stored: in the rules in force on node " + node + " ("
                + rules.source() + ") ";
        PlannedJob now = verdict.jobs().stream().filter(p -> Objects.equals(p.runName(), job.runName()))
                .findFirst().orElse(null);
        if (now == null) {
            String why = verdict.fires() ? "it plans no job for " + (job.runName() == null ? "the build as a whole"
                    : "its run '" + LogSafe.escape(job.runName()) + "'") + " of its delivery " + job.deliveryId()
                    : "it does not fire for its delivery " + job.deliveryId() + " ("
                            + LogSafe.escape(String.valueOf(verdict.whyNot())) + ")";
            String runs = (act == Act.APPROVAL ? "Approved, it" : "A re-run") + " runs the command it was stored"
                    + " with all the same: " + command(job.argv(), job.id()) + ". ";
            return Optional.of(rule + where + why + ". " + runs + (act == Act.APPROVAL ? "If that is not meant,"
                    + " reject the job instead (buildhook reject " + job.id() + "); once approved, only a cancel stops"
                    + " it (buildhook cancel " + job.id() + ")" : "If that is not meant, do not re-run it"));
        }
        return store.changeSinceStored(job.id(), now).map(change -> rule + where + "it plans for its delivery "
                + String.join("; ", differences(change, job.id())) + ". " + (act == Act.APPROVAL ? "Approved, it"
                        : "A re-run") + " runs the command, environment and working directory the job was stored"
                + " with, not its rule's now. To run the rule in force instead, " + (act == Act.APPROVAL
                        ? "reject the job and replay its delivery for the rule: buildhook reject " + job.id()
                                + " && buildhook replay " + job.deliveryId() + " --rule " + inForce + "; once"
                                + " approved, only a cancel stops it (buildhook cancel " + job.id() + ")"
                        : "replay its delivery for the rule: buildhook replay " + job.deliveryId() + " --rule "
                                + inForce));
    }

    /** What {@code change} says, each part a phrase: the command, the environment's names, the working directory. */
    private static List<String> differences(StoredPlanChange change, String jobId) {
        List<String> parts = new ArrayList<>();
        if (change.commandChanged()) {
            // Commands that read the same differ in a secret only: say where, not the same text twice (tryout42 F12).
            String hidden = change.hiddenChanged().isEmpty() ? "" : "another hidden value in its argument"
                    + (change.hiddenChanged().size() == 1 ? " " : "s ") + String.join(", ",
                            change.hiddenChanged().stream().map(String::valueOf).toList())
                    + " (the program is argument 0; values not shown)";
            parts.add("the command " + command(change.commandNow(), null)
                    + (change.commandNow().equals(change.storedCommand()) ? " with " + hidden
                            : " (stored: " + command(change.storedCommand(), jobId) + ")"
                                    + (hidden.isEmpty() ? "" : ", and " + hidden)));
        }
        if (change.envDiffers()) {
            List<String> env = new ArrayList<>();
            names("changed", change.envChanged(), env);
            names("added", change.envAdded(), env);
            names("removed", change.envRemoved(), env);
            parts.add("another environment (" + String.join("; ", env) + "; values not shown)");
        }
        if (change.workdirChanged()) {
            parts.add("the working directory " + workdir(change.workdirNow()) + " (stored: "
                    + workdir(change.storedWorkdir()) + ")");
        }
        return parts;
    }

    private static void names(String what, java.util.Set<String> names, List<String> out) {
        if (!names.isEmpty()) {
            out.add(what + " " + String.join(", ", names.stream().map(LogSafe::escape).toList()));
        }
    }

    private static String workdir(String shown) {
        return shown == null ? "the runner's default" : LogSafe.quoted(shown);
    }

    /**
     * A command as {@code job show} writes it (each argument quoted), cut after {@link #COMMAND_SHOWN} characters:
     * with {@code … (buildhook job show JOB shows it whole)} for a stored job's, else with {@code …}.
     *
     * @param argv  the command, its secret values masked already
     * @param jobId the stored job whose command it is, or null for a rule's plan
     */
    static String command(List<String> argv, String jobId) {
        String command = String.join(" ", argv.stream().map(LogSafe::quoted).toList());
        if (command.length() <= COMMAND_SHOWN) {
            return command;
        }
        int cut = Character.isHighSurrogate(command.charAt(COMMAND_SHOWN - 1)) ? COMMAND_SHOWN - 1 : COMMAND_SHOWN;
        return command.substring(0, cut) + "\u2026" + (jobId == null ? ""
                : " (buildhook job show " + jobId + " shows it whole)");
    }
}
