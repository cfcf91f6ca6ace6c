package org.buildhook.distribution;

import static org.buildhook.distribution.PagePrinter.column;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code buildhook actions}: the audit trail, newest first (the admin API's GET /api/actions). */
@Command(
        name = "actions",
        mixinStandardHelpOptions = true,
        description = "List the admin actions (re-runs, replays, cancels, approvals, rejections, expiries), newest"
                + " first (the admin API's GET /api/actions).",
        footer = {
            "",
            "Examples:",
            "  buildhook actions --job 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "  buildhook actions --delivery 01JD8Q3W5TZK6YV0M2XG7C4R9N --limit 500 --json",
            "",
            ExitCodes.LIST
        })
final class ActionsCommand implements Callable<Integer> {

    private static final PagePrinter PRINTER = new PagePrinter("actions", column("ID", "id"), column("AT", "at"),
            column("ACTION", "action"), column("BY", "actor"), column("JOB", "job"), column("DELIVERY", "delivery"),
            column("DETAIL", "detail"));

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Option(names = "--job", paramLabel = "ID", converter = IdConverter.class, description = "Only actions on this job.")
    String job;

    @Option(names = "--delivery", paramLabel = "ID", converter = IdConverter.class,
            description = "Only actions on this delivery and on its jobs.")
    String delivery;

    @Mixin
    PageOptions page;

    @Override
    public Integer call() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("job", job);
        params.put("delivery", delivery);
        page.addTo(params);
        return PRINTER.print(admin, params, spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
