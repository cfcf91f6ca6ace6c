package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code buildhook replay}: match a stored delivery against the rules in force now and queue the jobs they plan. */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = "Match a stored delivery against the rules in force now and queue the jobs they plan.",
        footer = {
            "",
            "Examples:",
            "  buildhook replay 01JD8Q3W5TZK6YV0M2XG7C4R9N",
            "  buildhook replay 01JD8Q3W5TZK6YV0M2XG7C4R9N --rule deploy",
            "  buildhook replay 01JD8Q3W5TZK6YV0M2XG7C4R9N --rule deploy --yes",
            "  buildhook replay 01JD8Q3W5TZK6YV0M2XG7C4R9N --json",
            "",
            ExitCodes.REPLAY
        })
final class ReplayCommand extends AdminActionCommand {

    @Parameters(index = "0", paramLabel = "DELIVERY", converter = IdConverter.class, description = "The delivery's id.")
    String id;

    @Option(names = "--rule", paramLabel = "NAME", description = {"Only this rule's jobs (repeatable); else every"
            + " rule that matches the delivery. A rule not in force, or one that does not match the delivery, is"
            + " refused and nothing is replayed."})
    List<String> rules = List.of();

    @Override
    String path() {
        StringBuilder path = new StringBuilder("deliveries/" + id + "/replay");
        char sep = '?';
        for (String rule : rules) {
            path.append(sep).append("rule=").append(URLEncoder.encode(rule, StandardCharsets.UTF_8));
            sep = '&';
        }
        return path.toString();
    }

    @Option(names = {"-y", "--yes"}, description = {"Do not ask before running an older build over a newer one whose"
            + " job of the same rule succeeded, or making a job that a newer build of its rule's supersede key"
            + " supersedes at once (it does not run; buildhook rerun of the build's job does) (asked only when"
            + " standard input is a terminal; the warning is printed on standard error either way)."})
    boolean yes;

    @Override
    Asked asked() {
        return new Asked(path().replace("/replay", "/replay-warnings"), "Replay it", yes);
    }

    @Override
    void describe(JsonNode answer, PrintWriter out) {
        JsonNode jobs = answer.path("jobs");
        boolean allQueued = true;
        for (int i = 0; i < jobs.size(); i++) {
            allQueued &= wasQueued(answer.path("states").path(i).asText("QUEUED"));
        }
        out.println(jobs.size() + " job(s) " + (allQueued ? "queued" : "made")
                + (jobs.isEmpty() ? " (no rule in force fires for it)" : ":"));
        for (int i = 0; i < jobs.size(); i++) {
            String job = jobs.get(i).asText();
            String rule = answer.path("rules").path(i).asText("");
            String state = answer.path("states").path(i).asText("QUEUED");
            out.println(job + (rule.isEmpty() ? "" : "  rule " + rule)
                    + (wasQueued(state) ? "" : "  " + notQueued(job, state)));
        }
    }

    /**
     * Whether a job seen in {@code state} just after it was made was queued: it may be running or
     * done already; only an approval to wait for or a newer build's job makes it not run by itself.
     */
    static boolean wasQueued(String state) {
        return !state.equals("AWAITING_APPROVAL") && !state.equals("SUPERSEDED");
    }

    /** What a job made in {@code state} (not {@link #wasQueued}) waits for, and what to do. */
    static String notQueued(String job, String state) {
        if (state.equals("AWAITING_APPROVAL")) {
            return "awaits an approval before it runs: buildhook approve " + job + " (or reject " + job + ")";
        }
        if (state.equals("SUPERSEDED")) {
            return "is SUPERSEDED at once: a newer build of its supersede key was seen; it does not run (a re-run of"
                    + " the build's job, buildhook rerun JOB, is never superseded)";
        }
        return "is " + state;
    }
}
