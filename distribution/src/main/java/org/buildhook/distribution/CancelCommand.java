package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.core.LogSafe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code buildhook cancel}: cancel queued or running jobs (a running one has its process tree killed): one job, several
 * ({@code cancel A B C}, one after the other, a line each), or every job of a delivery not ended ({@code --delivery D},
 * one request the server does in one transaction).
 */
@Command(
        name = "cancel",
        mixinStandardHelpOptions = true,
        description = {"Cancel a job that has not ended: QUEUED, WAITING (for a resource or its retry), "
                + "AWAITING_APPROVAL or RUNNING (a running one has its process tree killed, on whichever node runs it)."
                + " Its rule's on-cancel follow-up starts, even when nothing ran. To say no to a job awaiting an"
                + " approval, use 'reject': it ends REJECTED and starts no follow-up.",
            "Several ids are cancelled one after the other, one line each. --delivery cancels every job of that"
                + " delivery not ended at the moment (follow-ups and re-runs of it too) at once, in one transaction,"
                + " never a job of another delivery. What the delivery gets after it is not cancelled: the on-cancel"
                + " follow-ups the cancels start (the cleanups: they run), a re-run or replay of it, or the follow-up"
                + " of a job that ended just before (its node starts it within a few seconds); to stop those too, run"
                + " it again."},
        footer = {
            "",
            "Examples:",
            "  buildhook cancel 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "  buildhook cancel 01JD8Q4B2C7N1E5V9W0X3Y6Z8K 01JD8Q4B2D0R7T3W5Y9Z1A4C6E",
            "  buildhook cancel --delivery 01JD8Q3W5TZK6YV0M2XG7C4R9N",
            "",
            ExitCodes.CANCEL
        })
final class CancelCommand extends AdminActionCommand {

    /**
     * Checked in {@link #call} ({@link IdConverter}): picocli takes a value its converter refuses for an argument it
     * does not know ({@code Unmatched argument}) when the parameter takes any number of them, and said nothing of why.
     */
    @Parameters(arity = "0..*", paramLabel = "JOB", description = "The job's id; several ids: each is cancelled in"
            + " turn (an id not found does not stop the others).")
    List<String> ids = new ArrayList<>();

    @Option(names = "--delivery", paramLabel = "DELIVERY", converter = IdConverter.class, description = "Cancel every"
            + " job of this delivery that has not ended (instead of JOB ids).")
    String delivery;

    /** The job the single-id form is about (the path and the lines of {@link #describe}). */
    private String id;

    @Override
    String path() {
        return "jobs/" + id + "/cancel";
    }

    @Override
    public Integer call() {
        if (delivery != null && !ids.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give JOB ids or --delivery DELIVERY, not both");
        }
        if (delivery == null && ids.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Missing required parameter: 'JOB' (or --delivery"
                    + " DELIVERY)");
        }
        IdConverter converter = new IdConverter();
        for (int i = 0; i < ids.size(); i++) {
            try {
                ids.set(i, converter.convert(ids.get(i)));
            } catch (picocli.CommandLine.TypeConversionException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for positional parameter JOB: "
                        + e.getMessage());
            }
        }
        if (delivery != null) {
            return cancelDelivery();
        }
        if (ids.size() == 1) {
            // One id: as before (its answer's JSON, its exit codes).
            id = ids.get(0);
            return super.call();
        }
        return cancelEach();
    }

    /**
     * Each id in turn, a line each (JSON: {@code {"jobs": [...]}}, each the API's answer with its {@code id}, or {@code
     * {"id", "found": false, "error"}}); an id not found (404) is said and the others go on; any other failure (the
     * server cannot be reached, the token is refused, the store is out) stops, saying which ids were not asked.
     */
    private int cancelEach() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        AdminClient client = admin.client();
        ArrayNode items = JsonNodeFactory.instance.arrayNode();
        int notFound = 0;
        for (int i = 0; i < ids.size(); i++) {
            id = ids.get(i);
            JsonNode answer;
            try {
                answer = client.post(path());
            } catch (CommandFailure e) {
                // Only the API's "no job X" is this id's own answer; anything else (the API off, the server or its
                // store out, the token refused) would be the same for the ids after it.
                if (e.exitCode() != ExitCodes.FAILED || !e.getMessage().startsWith("no job ")) {
                    if (admin.json && !items.isEmpty()) {
                        out.println(AdminClient.pretty(JsonNodeFactory.instance.objectNode().set("jobs", items)));
                    }
                    out.flush();
                    List<String> after = ids.subList(i + 1, ids.size());
                    err.println("[buildhook] stopped at job " + id + ", not cancelled (below); " + (after.isEmpty()
                            ? "no id after it" : "not asked: " + String.join(" ", after)) + (i == 0 ? ""
                                    : "; the line(s) above say what came of the ids before it"));
                    err.flush();
                    throw e;
                }
                notFound++;
                if (admin.json) {
                    items.addObject().put("id", id).put("found", false).put("error", e.getMessage());
                } else {
                    out.println("job " + id + " not found: " + e.getMessage());
                }
                continue;
            }
            warnings(answer, List.of(), err);
            if (admin.json) {
                ObjectNode item = items.addObject().put("id", id).put("found", true);
                if (answer instanceof ObjectNode fields) {
                    item.setAll(fields);
                }
            } else {
                describe(answer, out);
            }
        }
        if (admin.json) {
            out.println(AdminClient.pretty(JsonNodeFactory.instance.objectNode().set("jobs", items)));
        }
        out.flush();
        if (notFound > 0) {
            err.println("[buildhook] " + notFound + " of " + ids.size() + " job(s) not found; the others were cancelled"
                    + " or had already ended");
            err.flush();
            return ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }

    /** {@code POST /api/deliveries/{id}/cancel}: a first line with the counts, then a line for each job not ended. */
    private int cancelDelivery() {
        PrintWriter out = spec.commandLine().getOut();
        AdminClient client = admin.client();
        JsonNode answer;
        try {
            answer = client.post("deliveries/" + delivery + "/cancel");
        } catch (CommandFailure e) {
            if (e.getMessage().startsWith("no such API")) {
                // A server older than this command (before 2026-12-06) has no such request.
                throw new CommandFailure("the server at " + client.base() + " is older than this command and"
                        + " cannot cancel a delivery's jobs at once (" + e.getMessage() + "): list them (buildhook jobs"
                        + " --delivery " + delivery + " --state running, and queued, waiting, awaiting_approval) and"
                        + " cancel them by id (buildhook cancel JOB...)", ExitCodes.FAILED);
            }
            throw e;
        }
        if (admin.json) {
            out.println(AdminClient.pretty(answer));
            out.flush();
            return ExitCodes.OK;
        }
        JsonNode jobs = answer.path("jobs");
        int cancelled = answer.path("cancelled").asInt();
        int ended = answer.path("ended").asInt();
        out.println("delivery " + delivery + ": " + (jobs.isEmpty() ? "no job to cancel" : cancelled
                + " job(s) cancelled") + (ended == 0 ? "" : ", " + ended + " had already ended") + (jobs.isEmpty()
                        && ended == 0 ? " (no rule fired for it)" : ""));
        for (JsonNode job : jobs) {
            id = job.path("id").asText();
            describe(job, out);
        }
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * One line by what the cancel did, from the answer's {@code cancelled}, {@code state} (the job's state
     * after it; absent from servers before 2026-12-02) and {@code message}: a job that had not started is
     * cancelled now, one in its retry's backoff says what its attempt came to, a running one is being stopped,
     * an ended one was left as it was (tryout21 F8.6, tryout25 F3). A job of a delivery's cancel has its rule
     * and run after it ({@code rule deploy}).
     */
    @Override
    void describe(JsonNode answer, PrintWriter out) {
        String state = answer.path("state").asText("");
        String rule = answer.path("rule").asText("");
        String what = rule.isEmpty() ? "" : " (rule " + LogSafe.escape(rule) + (answer.path("runName").isTextual()
                ? ", run " + LogSafe.escape(answer.path("runName").asText()) : "") + ")";
        if (!answer.path("cancelled").asBoolean()) {
            out.println("job " + id + what + " had already ended; nothing to cancel" + (state.isEmpty() ? ""
                    : " (it is " + state + ")"));
        } else if (state.equals("CANCELLED") && answer.path("message").asText("").startsWith("cancelled while waiting"
                + " for retry")) {
            // It had run: cancelled in its retry's backoff (tryout25 F3: the line said it "had not started").
            out.println("cancelled job " + id + what + ": " + LogSafe.escapeMessage(answer.path("message").asText())
                    + "; no further attempt runs");
        } else if (state.equals("CANCELLED")) {
            out.println("cancelled job " + id + what + ": it had not started, so it will not run");
        } else if (state.equals("RUNNING")) {
            out.println("cancelling job " + id + what + ": it is running; its node stops its process tree within a"
                    + " few seconds (buildhook job show " + id + " says when it has ended)");
        } else {
            out.println("cancelling job " + id + what + (state.isEmpty() ? "" : " (" + state + ")"));
        }
    }
}
