package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code buildhook replay}: match a stored delivery against the rules in force now and queue the jobs they plan. */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = "Match a stored delivery against the rules in force now and queue the jobs they plan.",
        footer = {
            "",
            "Examples:",
            "  buildhook replay 01JD8Q3W5TZK6YV0M2XG7C4R9N",
            "  buildhook replay 01JD8Q3W5TZK6YV0M2XG7C4R9N --json",
            "",
            ExitCodes.HELP
        })
final class ReplayCommand extends AdminActionCommand {

    @Parameters(index = "0", paramLabel = "DELIVERY", description = "The delivery's id.")
    String id;

    @Override
    String path() {
        return "deliveries/" + id + "/replay";
    }

    @Override
    void describe(JsonNode answer, PrintWriter out) {
        out.println(answer.path("jobs").size() + " job(s) queued" + (answer.path("jobs").isEmpty() ? "" : ":"));
        answer.path("jobs").forEach(j -> out.println(j.asText()));
    }
}
