package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code buildhook rerun}: run a job again with the same plan, as a new job. */
@Command(
        name = "rerun",
        mixinStandardHelpOptions = true,
        description = "Run a job again with the same plan, as a new job.",
        footer = {
            "",
            "Examples:",
            "  buildhook rerun 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "  buildhook rerun 01JD8Q4B2C7N1E5V9W0X3Y6Z8K --yes",
            "",
            ExitCodes.RERUN
        })
final class RerunCommand extends AdminActionCommand {

    @Parameters(index = "0", paramLabel = "JOB", converter = IdConverter.class, description = "The job's id.")
    String id;

    @Override
    String path() {
        return "jobs/" + id + "/rerun";
    }

    @Option(names = {"-y", "--yes"}, description = {"Do not ask before running an older build over a newer one whose"
            + " job of the same rule succeeded, or the job's stored command when its rule plans another command,"
            + " environment or working directory for its delivery now (asked only when standard input is a terminal;"
            + " the warning is printed on standard error either way)."})
    boolean yes;

    @Override
    Asked asked() {
        return new Asked("jobs/" + id + "/rerun-warnings", "Re-run it", yes);
    }

    @Override
    void describe(JsonNode answer, PrintWriter out) {
        String job = answer.path("job").asText();
        String state = answer.path("state").asText("QUEUED");
        if (ReplayCommand.wasQueued(state)) {
            out.println("queued job " + job + " (a re-run of " + id + ")");
        } else {
            out.println("job " + job + " (a re-run of " + id + ") " + ReplayCommand.notQueued(job, state));
        }
    }
}
