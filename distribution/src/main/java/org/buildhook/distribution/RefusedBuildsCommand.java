package org.buildhook.distribution;

import static org.buildhook.distribution.PagePrinter.column;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code buildhook refused-builds}: the builds the server answered 503 (its store could not take them) that no
 * later delivery stored, the ones to have JobServ send again (the admin API's {@code GET /api/refused-builds});
 * {@code --dismiss} empties the list ({@code DELETE /api/refused-builds}).
 */
@Command(
        name = "refused-builds",
        mixinStandardHelpOptions = true,
        description = "List the builds the server answered 503 (its store could not take them) and no later delivery"
                + " stored: the ones to send again from JobServ (the admin API's GET /api/refused-builds). Kept in the"
                + " server's memory: a restart forgets them (its log names every one). In a cluster each node keeps"
                + " its own list: ask each node (--url).",
        footer = {
            "",
            "Examples:",
            "  buildhook refused-builds",
            "  buildhook refused-builds --dismiss",
            "",
            ExitCodes.LIST
        })
final class RefusedBuildsCommand implements Callable<Integer> {

    private static final PagePrinter PRINTER = new PagePrinter("refused-builds", column("ENDPOINT", "endpoint"),
            column("BUILD", "build"), column("PROJECT", "project"), column("STATUS", "status"),
            column("TRIGGER", "trigger"), column("LAST REFUSED", "lastRefusedAt"), column("503S", "refusals"));

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Option(names = "--dismiss", description = "Empty the list (once the builds were sent again, or will not be).")
    boolean dismiss;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (dismiss) {
            JsonNode answer = admin.client().delete("refused-builds");
            if (admin.json) {
                out.println(AdminClient.pretty(answer));
            } else {
                out.println("dismissed " + answer.path("dismissed").asInt() + " build(s) from the list");
            }
            out.flush();
            return ExitCodes.OK;
        }
        return PRINTER.print(admin, Map.of(), out, spec.commandLine().getErr(), page -> "",
                RefusedBuildsCommand::whoseList);
    }

    /**
     * tryout51 F1: behind a load balancer the list is one node's of a cluster's; said with the node's id, so the
     * other nodes' refused builds are asked for too. Nothing on SQLite (one node) or from a server that does not say.
     */
    static String whoseList(JsonNode page) {
        if (!"POSTGRESQL".equals(page.path("store").asText())) {
            return "";
        }
        return "the builds node " + page.path("node").asText() + " refused: each node of a cluster keeps its own"
                + " list, in its memory; ask every node for its own (buildhook nodes lists them; --url names one)";
    }
}
