package org.buildhook.distribution;

import static org.buildhook.distribution.PagePrinter.column;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.rules.Durations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code buildhook nodes}: the cluster's nodes as the server's store knows them (the admin API's
 * {@code GET /api/nodes}): each node's id, host, pid, build, last heartbeat age (by the database's clock), running
 * jobs, rules fingerprint, and what became of the jobs of a node not heard from past the dead-node limit; {@code
 * buildhook nodes forget ID} forgets a node killed and never started again ({@code DELETE /api/nodes/ID}).
 */
@Command(
        name = "nodes",
        mixinStandardHelpOptions = true,
        description = "List the cluster's nodes as the server's store knows them (the admin API's GET /api/nodes):"
                + " id, host, pid, build, how long ago each was heard from (by the database's clock), its running"
                + " jobs, its rules, and for a node not heard from past the dead-node limit what became of its jobs."
                + " On SQLite: this node alone. 'nodes forget ID' forgets a node killed and never started again.",
        footer = {
            "",
            "Examples:",
            "  buildhook nodes",
            "  buildhook nodes --json",
            "  buildhook nodes forget node-2",
            "",
            ExitCodes.LIST
        },
        subcommands = NodesCommand.Forget.class)
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

    /**
     * {@code nodes forget ID}: the admin API's {@code DELETE /api/nodes/ID}. Exit 0 when forgotten; 1 (the server's
     * words, {@code (409)}) for a node that runs, still holds jobs not taken over, or may come back, and for an id no
     * node claims ({@code (404)}).
     */
    @Command(
            name = "forget",
            mixinStandardHelpOptions = true,
            description = "Forget a node killed and never started again (a host decommissioned after a crash), so the"
                    + " nodes list and the buildhook_cluster_nodes gauge no longer count it (the admin API's DELETE"
                    + " /api/nodes/ID). Only a node silent for longer than the dead-node limit, or whose process on this"
                    + " host has ended (listed as gone), whose jobs other nodes have taken over; a node started later"
                    + " with its id is listed again. A SQLite store has one node: there is none to forget.",
            footer = {
                "",
                "Examples:",
                "  buildhook nodes forget node-2",
                "",
                ExitCodes.NODES_FORGET
            })
    static final class Forget implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        AdminOptions admin;

        @ParentCommand
        NodesCommand nodes;

        @Parameters(index = "0", paramLabel = "ID", description = "The node's id, as 'buildhook nodes' lists it.")
        String id;

        @Override
        public Integer call() {
            AdminOptions options = admin.over(nodes.admin);
            JsonNode answer = options.client().delete("nodes/" + java.net.URLEncoder.encode(id,
                    java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"));
            java.io.PrintWriter out = spec.commandLine().getOut();
            if (options.json) {
                out.println(AdminClient.pretty(answer));
            } else {
                // The id and host as the table shows them: escaped, like every value the CLI prints from the server.
                out.println("forgot node " + LogSafe.escape(answer.path("forgotten").asText()) + " (host "
                        + LogSafe.escape(answer.path("host").asText()) + ", pid " + answer.path("pid").asText()
                        + "), " + (answer.path("gone").asBoolean() ? "gone: its process on this host had ended (heard"
                        + " from " + Durations.describe(Duration.ofMillis(answer.path("silentForMillis").asLong()))
                        + " ago)" : "silent for "
                        + Durations.describe(Duration.ofMillis(answer.path("silentForMillis").asLong())))
                        + ": no longer listed; a node started with its id is listed again");
            }
            out.flush();
            return ExitCodes.OK;
        }
    }

    /** The node's id, marked {@code *} for the node that answered. */
    private static String id(JsonNode n) {
        return n.path("id").asText() + (n.path("self").asBoolean() ? " *" : "");
    }

    private static String text(JsonNode value) {
        return value.isNull() || value.isMissingNode() ? "-" : value.asText();
    }
}
