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

/** {@code buildhook deliveries}: list deliveries, newest first (the admin API's GET /api/deliveries). */
@Command(
        name = "deliveries",
        mixinStandardHelpOptions = true,
        description = "List deliveries, newest first (the admin API's GET /api/deliveries).",
        footer = {
            "",
            "Examples:",
            "  buildhook deliveries --outcome rejected",
            "  buildhook deliveries --project andy-corp/lmp --trigger build-release",
            "  buildhook deliveries --limit 5 --json",
            "",
            ExitCodes.HELP
        })
final class DeliveriesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Option(names = "--outcome", paramLabel = "OUTCOME", description = "accepted, duplicate or rejected.")
    String outcome;

    @Option(names = "--endpoint", paramLabel = "NAME", description = "Only deliveries to this endpoint.")
    String endpoint;

    @Option(names = "--project", paramLabel = "FACTORY/PROJECT",
            description = "Only builds of this project, e.g. andy-corp/lmp.")
    String project;

    @Option(names = "--trigger", paramLabel = "NAME", description = "Only builds of this trigger.")
    String trigger;

    @Option(names = "--limit", defaultValue = "50", paramLabel = "N",
            description = "At most N deliveries, 1 to 500 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("outcome", outcome);
        params.put("endpoint", endpoint);
        params.put("project", project);
        params.put("trigger", trigger);
        params.put("limit", limit);
        JsonNode page = admin.client().get(AdminClient.withQuery("deliveries", params));
        if (admin.json) {
            out.println(AdminClient.pretty(page));
            out.flush();
            return ExitCodes.OK;
        }
        Table table = new Table("DELIVERY", "RECEIVED", "ENDPOINT", "OUTCOME", "BUILD", "STATUS", "PROJECT", "TRIGGER");
        for (JsonNode d : page.path("items")) {
            table.row(d.path("id").asText(), d.path("receivedAt").asText(), d.path("endpoint").asText(),
                    d.path("outcome").asText(), d.path("buildId").asText(), d.path("status").asText(),
                    d.path("project").asText(), d.path("trigger").asText());
        }
        table.print(out);
        return ExitCodes.OK;
    }
}
