package org.buildhook.distribution;

import static org.buildhook.distribution.PagePrinter.column;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.buildhook.runner.rules.Durations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code buildhook nodes}: the cluster's nodes as the server's store knows them (the admin API's
 * {@code GET /api/nodes}): each node's id, host, pid, build, last heartbeat age (by the database's clock), running
 * jobs, rules fingerprint, and what became of the jobs of a node not heard from past the dead-node limit.
 */
@Command(
        name = "nodes",
        mixinStandardHelpOptions = true,
        description = "List the cluster's nodes as the server's store knows them (the admin API's GET /api/nodes):"
                + " id, host, pid, build, how long ago each was heard from (by the database's clock), its running"
                + " jobs, its rules, and for a node not heard from past the dead-node limit what became of its jobs."
                + " On SQLite: this node alone.",
        footer = {
            "",
            "Examples:",
            "  buildhook nodes",
            "  buildhook nodes --json",
            "",
            ExitCodes.HELP
        })
final class NodesCommand implements Callable<Integer> {

    private static final PagePrinter PRINTER = new PagePrinter("nodes", column("NODE", NodesCommand::id),
            column("HOST", "host"), column("PID", n -> text(n.path("pid"))),
            column("VERSION", n -> n.path("version").isNull() ? "(not known here)" : n.path("version").asText()),
            column("HEARD", n -> n.path("heartbeatAgeMillis").isNull() ? "-"
                    : Durations.describe(Duration.ofMillis(n.path("heartbeatAgeMillis").asLong())) + " ago"),
            column("JOBS", n -> text(n.path("runningJobs"))),
            column("RULES", n -> n.path("rules").isNull() ? "(none recorded)"
                    : n.path("rules").asText().substring(0, Math.min(12, n.path("rules").asText().length()))),
            column("STATE", "message"));

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() {
        return PRINTER.print(admin, Map.of(), spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The node's id, marked {@code *} for the node that answered. */
    private static String id(JsonNode n) {
        return n.path("id").asText() + (n.path("self").asBoolean() ? " *" : "");
    }

    private static String text(JsonNode value) {
        return value.isNull() || value.isMissingNode() ? "-" : value.asText();
    }
}
