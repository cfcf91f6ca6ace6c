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
import picocli.CommandLine.Spec;

/** {@code buildhook jobs}: list jobs, newest first (the admin API's GET /api/jobs). */
@Command(
        name = "jobs",
        mixinStandardHelpOptions = true,
        description = "List jobs, newest first (the admin API's GET /api/jobs).",
        footer = {
            "",
            "Examples:",
            "  buildhook jobs --state failed",
            "  buildhook jobs --rule deploy --limit 100 --json",
            "  buildhook jobs --delivery 01JD8Q3W5TZK6YV0M2XG7C4R9N",
            "",
            ExitCodes.HELP
        })
final class JobsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Option(names = "--state", paramLabel = "STATE",
            description = "queued, running, succeeded, failed, timed_out or cancelled.")
    String state;

    @Option(names = "--rule", paramLabel = "RULE", description = "Only jobs of this rule.")
    String rule;

    @Option(names = "--delivery", paramLabel = "ID", description = "Only jobs of this delivery.")
    String delivery;

    @Option(names = "--limit", defaultValue = "50", paramLabel = "N",
            description = "At most N jobs, 1 to 500 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("state", state);
        params.put("rule", rule);
        params.put("delivery", delivery);
        params.put("limit", limit);
        JsonNode page = admin.client().get(AdminClient.withQuery("jobs", params));
        if (admin.json) {
            out.println(AdminClient.pretty(page));
            out.flush();
            return ExitCodes.OK;
        }
        Table table = new Table("JOB", "RULE", "STATE", "ATTEMPTS", "EXIT", "CREATED", "DELIVERY", "MESSAGE");
        for (JsonNode j : page.path("items")) {
            table.row(j.path("id").asText(), j.path("rule").asText(), j.path("state").asText(),
                    j.path("attempts").asText(), j.path("exitCode").asText(), j.path("createdAt").asText(),
                    j.path("delivery").asText(), j.path("message").asText());
        }
        table.print(out);
        return ExitCodes.OK;
    }
}
