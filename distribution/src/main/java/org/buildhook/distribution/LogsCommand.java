package org.buildhook.distribution;

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
        description = "Print a job attempt's log (the last attempt unless --attempt); -f follows it until the attempt ends.",
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

    @Parameters(index = "0", paramLabel = "JOB", description = "The job's id.")
    String id;

    @Option(names = "--attempt", paramLabel = "N", description = "This attempt (1, 2 …) instead of the last one.")
    Integer attempt;

    @Option(names = {"-f", "--follow"},
            description = "Keep printing new output until the attempt ends (at most 10 minutes).")
    boolean follow;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("attempt", attempt);
        params.put("follow", follow ? "1" : null);
        admin.client().copy(AdminClient.withQuery("jobs/" + id + "/log", params), out);
        return ExitCodes.OK;
    }
}
