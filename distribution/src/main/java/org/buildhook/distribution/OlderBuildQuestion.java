package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.core.LogSafe;

/**
 * Before {@code rerun}, {@code replay} or {@code approve} acts: the server's warnings of what it sets off that one may
 * not expect, each on standard error; on a terminal, without {@code --yes}, a y/N question first. Where standard input
 * is not a terminal nothing is asked, so scripts go on as before. The warnings are those of the action's preview:
 * that it runs an older build over a newer one whose job of the same rule succeeded (confirm34; {@code GET
 * /api/jobs/{id}/rerun-warnings}, {@code GET /api/deliveries/{id}/replay-warnings}), or that the job's rule is not in
 * the rules in force, so that an approval runs the command it was stored with (tryout39 F6; {@code GET
 * /api/jobs/{id}/approve-warnings}), or that its rule plans another command for its delivery now than the one an
 * approval or a re-run runs, the stored one (approve41).
 */
final class OlderBuildQuestion {

    private OlderBuildQuestion() {
    }

    /**
     * @param warnings the preview's warnings ({@link #warnings}), each printed on {@code err}
     * @param yes      {@code --yes}: do not ask
     * @param what     what goes ahead if the answer is yes, for the question ({@code "Re-run it"})
     * @param terminal whether standard input is a terminal (a person to ask)
     * @return true to go on; false when the question was answered other than yes (said on {@code err})
     */
    static boolean goOn(List<String> warnings, boolean yes, String what, PrintWriter err, boolean terminal) {
        for (String warning : warnings) {
            err.println("[buildhook] warning: " + warning);
        }
        err.flush();
        if (warnings.isEmpty() || yes || !terminal) {
            return true;
        }
        err.print(what + " anyway? [y/N] ");
        err.flush();
        String answer;
        try {
            answer = new BufferedReader(new InputStreamReader(System.in, Charset.defaultCharset())).readLine();
        } catch (IOException e) {
            answer = null;
        }
        if (answer != null && (answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"))) {
            return true;
        }
        if (answer == null) {
            err.println(); // end of input: the prompt's line still open
        }
        err.println("[buildhook] nothing was done (--yes goes ahead without asking)");
        err.flush();
        return false;
    }

    /**
     * The preview's warnings, escaped for a terminal ({@link LogSafe#escape}); none from a server that has no preview
     * (404) or cannot answer it now, nor when it says the action is {@code refused} (the action's 409 says why).
     *
     * @param preview the API path whose GET answers {@code {"warnings": [...]}}
     */
    static List<String> warnings(AdminClient client, String preview) {
        JsonNode answer;
        try {
            answer = client.get(preview);
        } catch (CommandFailure e) {
            // The action itself says what is wrong (no such job, a refused token); an older server has no preview.
            return List.of();
        }
        if (answer.hasNonNull("refused")) {
            // The action is refused whatever the answer (tryout42 F7: a job of a rule as stored this build refuses):
            // nothing to ask; its refusal says why and what to do.
            return List.of();
        }
        List<String> warnings = new ArrayList<>();
        // As AdminActionCommand.warnings shows them: the server wrote their payload values escaped already.
        answer.path("warnings").forEach(w -> warnings.add(LogSafe.escapeMessage(w.asText())));
        return warnings;
    }
}
