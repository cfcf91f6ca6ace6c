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

    @Parameters(index = "0", paramLabel = "DELIVERY", converter = IdConverter.class, description = "The delivery's id.")
    String id;

    @Override
    String path() {
        return "deliveries/" + id + "/replay";
    }

    @Override
    void describe(JsonNode answer, PrintWriter out) {
        JsonNode jobs = answer.path("jobs");
        out.println(jobs.size() + " job(s) queued" + (jobs.isEmpty() ? " (no rule in force fires for it)" : ":"));
        for (int i = 0; i < jobs.size(); i++) {
            String rule = answer.path("rules").path(i).asText("");
            out.println(jobs.get(i).asText() + (rule.isEmpty() ? "" : "  rule " + rule));
        }
    }
}
