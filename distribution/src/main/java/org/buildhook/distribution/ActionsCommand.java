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
            ExitCodes.HELP
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

    @Option(names = "--limit", defaultValue = "50", paramLabel = "N",
            description = "At most N actions, 1 to 500 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--before", paramLabel = "ID", converter = IdConverter.class,
            description = "The next page: the ID the previous page's last line '(more: add --before ID …)' gives.")
    String before;

    @Override
    public Integer call() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("job", job);
        params.put("delivery", delivery);
        params.put("limit", limit);
        params.put("before", before);
        return PRINTER.print(admin, params, spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
