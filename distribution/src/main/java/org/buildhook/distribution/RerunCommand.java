package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code buildhook rerun}: run a job again with the same plan, as a new job. */
@Command(
        name = "rerun",
        mixinStandardHelpOptions = true,
        description = "Run a job again with the same plan, as a new job.",
        footer = {
            "",
            "Examples:",
            "  buildhook rerun 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "",
            ExitCodes.HELP
        })
final class RerunCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Parameters(index = "0", paramLabel = "JOB", description = "The job's id.")
    String id;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        JsonNode answer = admin.client().post("jobs/" + id + "/rerun");
        if (admin.json) {
            out.println(AdminClient.pretty(answer));
        } else {
            out.println("queued job " + answer.path("job").asText() + " (a re-run of " + id + ")");
        }
        out.flush();
        return ExitCodes.OK;
    }
}
