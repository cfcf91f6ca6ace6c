package org.buildhook.distribution;

import static org.buildhook.distribution.PagePrinter.column;

import java.util.concurrent.Callable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.buildhook.runner.store.DeliveryOutcome;
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
            "  buildhook deliveries --build 67",
            "",
            ExitCodes.LIST
        })
final class DeliveriesCommand implements Callable<Integer> {

    private static final PagePrinter PRINTER = new PagePrinter("deliveries", column("DELIVERY", "id"),
            column("RECEIVED", "receivedAt"), column("ENDPOINT", "endpoint"), column("OUTCOME", "outcome"),
            column("BUILD", "buildId"), column("STATUS", "status"), column("PROJECT", "project"),
            column("TRIGGER", "trigger"), column("REASON", "reason"));

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    // An enum, so a typo is answered as "--outcome" with the values, before any request (tryout21 F8.4).
    @Option(names = "--outcome", paramLabel = "OUTCOME", description = "accepted, duplicate or rejected.")
    DeliveryOutcome outcome;

    @Option(names = "--endpoint", paramLabel = "NAME", description = "Only deliveries to this endpoint.")
    String endpoint;

    @Option(names = "--project", paramLabel = "FACTORY/PROJECT",
            description = "Only builds of this project, e.g. andy-corp/lmp.")
    String project;

    @Option(names = "--trigger", paramLabel = "NAME", description = "Only builds of this trigger.")
    String trigger;

    @Option(names = "--build", paramLabel = "N",
            description = "Only deliveries of this build number (each status it was reported with, duplicates too).")
    Long build;

    @Mixin
    PageOptions page;

    @Override
    public Integer call() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("outcome", outcome == null ? null : outcome.name().toLowerCase(Locale.ROOT));
        params.put("endpoint", endpoint);
        params.put("project", project);
        params.put("trigger", trigger);
        params.put("build", build);
        page.addTo(params);
        return PRINTER.print(admin, params, spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
