package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import org.buildhook.core.LogSafe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code buildhook cancel}: cancel a queued or running job (a running one has its process tree killed). */
@Command(
        name = "cancel",
        mixinStandardHelpOptions = true,
        description = "Cancel a job that has not ended: QUEUED, WAITING (for a resource or its retry), "
                + "AWAITING_APPROVAL or RUNNING (a running one has its process tree killed). Its rule's on-cancel "
                + "follow-up starts, even when nothing ran. To say no to a job awaiting an approval, use 'reject': "
                + "it ends REJECTED and starts no follow-up.",
        footer = {
            "",
            "Examples:",
            "  buildhook cancel 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "",
            ExitCodes.CANCEL
        })
final class CancelCommand extends AdminActionCommand {

    @Parameters(index = "0", paramLabel = "JOB", converter = IdConverter.class, description = "The job's id.")
    String id;

    @Override
    String path() {
        return "jobs/" + id + "/cancel";
    }

    /**
     * One line by what the cancel did, from the answer's {@code cancelled}, {@code state} (the job's state
     * after it; absent from servers before 2026-12-02) and {@code message}: a job that had not started is
     * cancelled now, one in its retry's backoff says what its attempt came to, a running one is being stopped,
     * an ended one was left as it was (tryout21 F8.6, tryout25 F3).
     */
    @Override
    void describe(JsonNode answer, PrintWriter out) {
        String state = answer.path("state").asText("");
        if (!answer.path("cancelled").asBoolean()) {
            out.println("job " + id + " had already ended; nothing to cancel" + (state.isEmpty() ? "" : " (it is "
                    + state + ")"));
        } else if (state.equals("CANCELLED") && answer.path("message").asText("").startsWith("cancelled while waiting"
                + " for retry")) {
            // It had run: cancelled in its retry's backoff (tryout25 F3: the line said it "had not started").
            out.println("cancelled job " + id + ": " + LogSafe.escape(answer.path("message").asText())
                    + "; no further attempt runs");
        } else if (state.equals("CANCELLED")) {
            out.println("cancelled job " + id + ": it had not started, so it will not run");
        } else if (state.equals("RUNNING")) {
            out.println("cancelling job " + id + ": it is running; its node stops its process tree within a few"
                    + " seconds (buildhook job show " + id + " says when it has ended)");
        } else {
            out.println("cancelling job " + id + (state.isEmpty() ? "" : " (" + state + ")"));
        }
    }
}
