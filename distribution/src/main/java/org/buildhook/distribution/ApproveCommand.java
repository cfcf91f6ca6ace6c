package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code buildhook approve}: approve a job that awaits an approval; who and when go to the audit trail. */
@Command(
        name = "approve",
        mixinStandardHelpOptions = true,
        description = "Approve a job that awaits an approval: it is queued at once. Who (the admin token or the container user, with the client address) and when are kept in the audit trail.",
        footer = {
            "",
            "Examples:",
            "  buildhook jobs --state awaiting_approval",
            "  buildhook approve 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "  buildhook approve 01JD8Q4B2C7N1E5V9W0X3Y6Z8K --yes",
            "",
            ExitCodes.APPROVE
        })
final class ApproveCommand extends AdminActionCommand {

    @Parameters(index = "0", paramLabel = "JOB", converter = IdConverter.class, description = "The job's id.")
    String id;

    @Override
    String path() {
        return "jobs/" + id + "/approve";
    }

    @Option(names = {"-y", "--yes"}, description = {"Do not ask before approving a job that runs a command its rule no"
            + " longer plans: the job runs the command it was stored with, and its rule is not in the rules in force,"
            + " or plans another command, environment or working directory for its delivery now; or that runs its"
            + " rule for its delivery once more, beside another job of it that ran, runs or awaits an approval (asked"
            + " only when"
            + " standard input is a terminal; the warning is printed on standard error either way)."})
    boolean yes;

    /**
     * tryout39 F6: the warning that the job's rule is not in force came after the approval, once the job ran; approve41:
     * one whose rule was edited since it was stored ran the stored command without a word.
     */
    @Override
    Asked asked() {
        return new Asked("jobs/" + id + "/approve-warnings", "Approve it", yes);
    }

    @Override
    void describe(JsonNode answer, PrintWriter out) {
        // What the approval sets off that the approver may not expect (tryout38 F1: its rule is not in force) is
        // printed once, on standard error, by AdminActionCommand.call as every action's warnings are (tryout39 F7:
        // it was printed here on standard output too, so a script reading the output got it).
        out.println("approved job " + id + "; it is queued");
    }
}
