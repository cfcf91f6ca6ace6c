package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code buildhook logs}: print a job attempt's log (the last attempt unless --attempt); -f follows it until the attempt ends. */
@Command(
        name = "logs",
        mixinStandardHelpOptions = true,
        // The first paragraph alone is the line in 'buildhook --help': a whole sentence.
        description = {"Print a job attempt's log (the last attempt unless --attempt).",
            "With -f, follow it until the attempt ends, then print the job's state and exit 1 unless it SUCCEEDED"
                    + " (failed, timed out, cancelled, or queued for a retry)."},
        footer = {
            "",
            "Examples:",
            "  buildhook logs 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "  buildhook logs 01JD8Q4B2C7N1E5V9W0X3Y6Z8K --attempt 1",
            "  buildhook logs -f 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "",
            ExitCodes.HELP
        })
final class LogsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Parameters(index = "0", paramLabel = "JOB", converter = IdConverter.class, description = "The job's id.")
    String id;

    @Option(names = "--attempt", paramLabel = "N", description = "This attempt (1, 2 …) instead of the last one.")
    Integer attempt;

    @Option(names = {"-f", "--follow"},
            description = "Keep printing new output until the attempt ends (at most 10 minutes), then the job's state;"
                    + " exit 1 unless it SUCCEEDED.")
    boolean follow;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("attempt", attempt);
        params.put("follow", follow ? "1" : null);
        AdminClient client = admin.client();
        if (follow && attempt == null) {
            sayWhatItWaitsFor(client.get("jobs/" + id).path("job"), out);
        }
        client.copy(AdminClient.withQuery("jobs/" + id + "/log", params), out);
        if (!follow) {
            return ExitCodes.OK;
        }
        // Following ends with how the job stands, and an exit code a script can test.
        JsonNode job = client.get("jobs/" + id).path("job");
        String state = job.path("state").asText();
        String message = job.path("message").asText("");
        out.println("[buildhook] job " + id + " " + state + (message.isEmpty() ? "" : ": " + message)
                + " (" + job.path("attempts").asInt() + " attempt(s))");
        out.flush();
        return state.equals("SUCCEEDED") ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /**
     * Following a job that waits for someone's approval, or for units of a shared resource, prints
     * nothing until it runs — possibly for hours: say so first, rather than look hung.
     */
    private void sayWhatItWaitsFor(JsonNode job, PrintWriter out) {
        String state = job.path("state").asText();
        if (state.equals("AWAITING_APPROVAL")) {
            out.println("[buildhook] job " + id + " awaits an approval" + (job.path("expiresAt").isTextual()
                    ? " (until " + job.path("expiresAt").asText() + ")" : "") + "; its log follows once it runs:"
                    + " buildhook approve " + id + " (or reject " + id + ")");
        } else if (state.equals("WAITING")) {
            out.println("[buildhook] job " + id + " is " + job.path("message").asText("waiting for shared resources")
                    + "; its log follows once it runs");
        }
        out.flush();
    }
}
