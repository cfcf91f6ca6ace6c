package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

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
final class ReplayCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Parameters(index = "0", paramLabel = "DELIVERY", description = "The delivery's id.")
    String id;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        JsonNode answer = admin.client().post("deliveries/" + id + "/replay");
        if (admin.json) {
            out.println(AdminClient.pretty(answer));
        } else {
            out.println(answer.path("jobs").size() + " job(s) queued" + (answer.path("jobs").isEmpty() ? "" : ":"));
            answer.path("jobs").forEach(j -> out.println(j.asText()));
        }
        out.flush();
        return ExitCodes.OK;
    }
}
