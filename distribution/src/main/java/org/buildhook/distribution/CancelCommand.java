package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code buildhook cancel}: cancel a queued or running job (a running one has its process tree killed). */
@Command(
        name = "cancel",
        mixinStandardHelpOptions = true,
        description = "Cancel a queued or running job (a running one has its process tree killed).",
        footer = {
            "",
            "Examples:",
            "  buildhook cancel 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "",
            ExitCodes.HELP
        })
final class CancelCommand extends AdminActionCommand {

    @Parameters(index = "0", paramLabel = "JOB", converter = IdConverter.class, description = "The job's id.")
    String id;

    @Override
    String path() {
        return "jobs/" + id + "/cancel";
    }

    @Override
    void describe(JsonNode answer, PrintWriter out) {
        out.println(answer.path("cancelled").asBoolean() ? "cancelling job " + id
                : "job " + id + " had already ended; nothing to cancel");
    }
}
