package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.buildhook.core.LogSafe;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The admin commands that POST one action about one id ({@code rerun}, {@code cancel},
 * {@code replay}): the API's JSON with {@code --json}, else one line for a person.
 */
abstract class AdminActionCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    /** The API path of the action, under {@code /api/}. */
    abstract String path();

    /** What to print for a person. */
    abstract void describe(JsonNode answer, PrintWriter out);

    /**
     * The API path whose GET says what the action would warn of ({@link OlderBuildQuestion}), or null for an
     * action that asks nothing.
     */
    String preview() {
        return null;
    }

    /** What goes ahead, for the question ({@code "Re-run it"}). */
    String question() {
        return "Go ahead";
    }

    /** {@code --yes}: do not ask. */
    boolean yes() {
        return false;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (preview() != null && !OlderBuildQuestion.goOn(admin.client(), preview(), yes(), question(),
                spec.commandLine().getErr(), TerminalText.standardInputIsATerminal())) {
            return ExitCodes.FAILED;
        }
        JsonNode answer = admin.client().post(path());
        // tryout35 F2: what the server warns of in its answer (a re-run of a job that has not ended), on standard
        // error whatever the format, as the warnings asked before acting are.
        PrintWriter err = spec.commandLine().getErr();
        answer.path("warnings").forEach(w -> err.println("[buildhook] warning: " + LogSafe.escape(w.asText())));
        err.flush();
        if (admin.json) {
            out.println(AdminClient.pretty(answer));
        } else {
            describe(answer, out);
        }
        out.flush();
        return ExitCodes.OK;
    }
}
