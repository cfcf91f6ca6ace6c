package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

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
final class CancelCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Parameters(index = "0", paramLabel = "JOB", description = "The job's id.")
    String id;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        JsonNode answer = admin.client().post("jobs/" + id + "/cancel");
        if (admin.json) {
            out.println(AdminClient.pretty(answer));
        } else {
            out.println(answer.path("cancelled").asBoolean() ? "cancelling job " + id
                    : "job " + id + " had already ended; nothing to cancel");
        }
        out.flush();
        return ExitCodes.OK;
    }
}
