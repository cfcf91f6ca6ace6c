package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.buildhook.core.LogSafe;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The admin commands that POST one action about one id ({@code rerun}, {@code cancel}, {@code replay},
 * {@code approve}, {@code reject}): the API's JSON with {@code --json}, else one line for a person.
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
     * What an action asks the server before it acts, and then its user on a terminal ({@link OlderBuildQuestion}).
     *
     * @param preview  the API path whose GET says what the action would warn of ({@code {"warnings": [...]}})
     * @param question what goes ahead if the answer is yes ({@code "Re-run it"})
     * @param yes      {@code --yes}: do not ask
     */
    record Asked(String preview, String question, boolean yes) {
    }

    /** What the action asks before it acts, or null for an action that asks nothing. */
    Asked asked() {
        return null;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Asked asked = asked();
        List<String> said = asked == null ? List.of() : OlderBuildQuestion.warnings(admin.client(), asked.preview());
        if (asked != null && !OlderBuildQuestion.goOn(said, asked.yes(), asked.question(), err,
                TerminalText.standardInputIsATerminal())) {
            return ExitCodes.FAILED;
        }
        JsonNode answer = admin.client().post(path());
        // tryout35 F2: what the server warns of in its answer (a re-run of a job that has not ended), on standard
        // error whatever the format, as the warnings asked before acting are; a warning the preview said already is
        // not said twice (tryout39 F6: approve's rule not in force, in the same words before and after).
        warnings(answer, said, err);
        if (admin.json) {
            out.println(AdminClient.pretty(answer));
        } else {
            describe(answer, out);
        }
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * What the server warns of in its answer ({@code "warnings": [...]}), on standard error whatever the format, each
     * but those in {@code said} (the warnings asked before acting), escaped, and flushed. The server writes a payload
     * value a warning names escaped already (a run name, a rule's reason): its backslashes are not doubled again
     * ({@link LogSafe#escapeMessage}; tryout50 F3's kind).
     */
    static void warnings(JsonNode answer, List<String> said, PrintWriter err) {
        answer.path("warnings").forEach(w -> {
            String warning = LogSafe.escapeMessage(w.asText());
            if (!said.contains(warning)) {
                err.println("[buildhook] warning: " + warning);
            }
        });
        err.flush();
    }
}
