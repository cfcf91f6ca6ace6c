package org.buildhook.distribution;

import static org.buildhook.distribution.PagePrinter.column;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code buildhook jobs}: list jobs, newest first (the admin API's GET /api/jobs). */
@Command(
        name = "jobs",
        mixinStandardHelpOptions = true,
        description = {
            "List jobs, newest first (the admin API's GET /api/jobs).",
            "ATTEMPTS counts every attempt, those its node cut short (INTERRUPTED: a stop, or a node that could"
                    + " not write its files) too, which use none of the job's retries: 2 (1 interrupted). buildhook"
                    + " job show JOB lists each attempt with how it ended."
        },
        footer = {
            "",
            "Examples:",
            "  buildhook jobs --state failed",
            "  buildhook jobs --rule deploy --limit 100 --json",
            "  buildhook jobs --delivery 01JD8Q3W5TZK6YV0M2XG7C4R9N",
            "  buildhook jobs --rule lab-test --run build-armhf",
            "  buildhook jobs --parent 01JD8Q4B2C7N1E5V9W0X3Y6Z8K --limit 500",
            "",
            ExitCodes.LIST
        })
final class JobsCommand implements Callable<Integer> {

    /**
     * The table, for people; scripts take {@code --json}, the API's answer. {@code NODE} is the node of the
     * job's latest attempt (the API's {@code node}, {@code -} before any): in a cluster where it ran, whose
     * log and disk to look at, without a {@code job show} per job (tryout17 F10). On SQLite it is this
     * server's own node id ({@code <hostname>-<pid>} unless set), which still tells which run of the server
     * ran it. {@code RUN} is the run of the build a {@code runs: {match: each}} rule's job is for ({@code -} for
     * others): its jobs differed only by id (tryout47b F4); it comes last but one, so the columns before it keep
     * their places. {@code ATTEMPTS}: see {@link #attempts}; the last column, {@code MESSAGE}, is never cut, so a
     * reason at the end of a long message stays.
     */
    private static final PagePrinter PRINTER = new PagePrinter("jobs", column("JOB", "id"), column("RULE", "rule"),
            column("STATE", "state"), column("ATTEMPTS", JobsCommand::attempts), column("NODE", "node"),
            column("EXIT", "exitCode"), column("CREATED", "createdAt"), column("DELIVERY", "delivery"),
            column("RUN", "runName"), PagePrinter.message("MESSAGE", JobsCommand::message));

    /**
     * The API's {@code attempts}, every attempt, with how many of them its node cut short and so used no
     * retry, {@code 2 (1 interrupted)}: a bare 2 read as a retry used (final18 F9). A server that does not
     * send {@code interruptedAttempts} (an older build) gets the bare number. Those that never started their
     * command ({@code notStartedAttempts}) are said apart, {@code 2 (1 not started)} (tryout42 F10).
     */
    static String attempts(JsonNode job) {
        return Job.attemptsText(job.path("attempts").asInt(), job.path("interruptedAttempts").asInt(0),
                job.path("notStartedAttempts").asInt(0));
    }

    /**
     * The job's message; for a job that awaits an approval, which has none, when it expires, in the words
     * of {@code job show} and the status page (it showed {@code -}: tryout15 F7). To the second: the
     * API's fraction would not fit the column.
     */
    static String message(JsonNode job) {
        JsonNode expires = job.path("expiresAt");
        if (!job.path("state").asText().equals("AWAITING_APPROVAL") || !expires.isTextual()) {
            return withQueuePosition(job);
        }
        String when;
        try {
            when = Instant.parse(expires.asText()).truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (DateTimeParseException e) {
            when = expires.asText();
        }
        return Job.approvalExpiry(when, approvalExpired(job));
    }

    /**
     * Whether {@code job} (an item of {@code GET /api/jobs}) awaits an approval whose expiry has passed by this
     * machine's clock, no node having marked it {@code EXPIRED} yet (tryout51 F2).
     */
    static boolean approvalExpired(JsonNode job) {
        if (!job.path("state").asText().equals("AWAITING_APPROVAL") || !job.path("expiresAt").isTextual()) {
            return false;
        }
        try {
            return !Instant.now().isBefore(Instant.parse(job.path("expiresAt").asText()));
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    /**
     * The job's message, and for a job that waits only its turn, its place in the queue after it as the server
     * worked it out when asked ({@code queuePosition.text}): {@code queued: 412 jobs due before it; 12 running on 3
     * nodes}, or {@code stopped by the shutdown of node-1; run again; queued: …} (its message was {@code -}:
     * tryout49 F5). An older server sends none: the message alone. Null when there is neither (the API's {@code
     * message} null: it read {@code null}, tryout50 F2).
     */
    static String withQueuePosition(JsonNode job) {
        JsonNode place = job.path("queuePosition").path("text");
        if (!place.isTextual()) {
            return job.path("message").isTextual() ? job.path("message").asText() : null;
        }
        String message = job.path("message").isTextual() ? job.path("message").asText() : "";
        return message.isEmpty() ? place.asText() : message + "; " + place.asText();
    }

    /** The rules in force an unknown rule's note names, at most; more are counted. */
    static final int NAMED_RULES = 20;

    /**
     * What the API's {@code unknownRule} of an empty list says (a rule name that no rule in force and no stored job
     * has: a misspelt {@code --rule}, tryout47b F12), for the note under the empty table: the rules in force (the
     * first {@value #NAMED_RULES}) and the nearest of them; {@code ""} when the answer has none (the rule exists, or
     * an older server).
     */
    static String unknownRule(JsonNode page) {
        JsonNode unknown = page.path("unknownRule");
        if (!unknown.isObject()) {
            return "";
        }
        java.util.List<String> names = new java.util.ArrayList<>();
        unknown.path("rulesInForce").forEach(n -> names.add(LogSafe.escape(n.asText())));
        String inForce = names.isEmpty() ? "no rules are in force"
                : "rules in force: " + String.join(", ", names.subList(0, Math.min(NAMED_RULES, names.size())))
                        + (names.size() > NAMED_RULES ? " and " + (names.size() - NAMED_RULES) + " more" : "");
        JsonNode nearest = unknown.path("nearest");
        return ": no rule in force and no stored job has the name '" + LogSafe.escape(unknown.path("rule").asText())
                + "' (" + inForce + ")" + (nearest.isTextual() ? "; did you mean '" + LogSafe.escape(nearest.asText())
                        + "'?" : "");
    }

    /**
     * What the API's {@code parentIsDelivery} of an empty list says: the {@code --parent} given is a delivery's id, not
     * a job's (tryout51 F3); {@code ""} when it is not (or an older server).
     */
    static String parentIsDelivery(JsonNode page, String parent) {
        return page.path("parentIsDelivery").asBoolean(false) && parent != null ? "; " + parent + " is a delivery's id,"
                + " not a job's: its jobs are listed with --delivery " + parent + "; --parent takes the id of the job"
                + " whose follow-ups to list" : "";
    }

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Option(names = "--state", paramLabel = "STATE",
            description = "queued, running, succeeded, failed, timed_out, cancelled, superseded,"
                    + " awaiting_approval, rejected, expired or waiting.")
    // An enum, so a typo is answered as "--state" with the values, before any request (tryout21 F8.4).
    JobState state;

    @Option(names = "--rule", paramLabel = "RULE", description = "Only jobs of this rule.")
    String rule;

    @Option(names = "--delivery", paramLabel = "ID", description = "Only jobs of this delivery.")
    String delivery;

    @Option(names = "--parent", paramLabel = "ID", converter = IdConverter.class,
            description = "Only the follow-ups this job started (its on-success, on-failure, on-cancel or"
                    + " on-approval-request jobs),"
                    + " and their re-runs.")
    String parent;

    @Option(names = "--run", paramLabel = "NAME",
            description = "Only the jobs of this run of a build (a rule with runs: {match: each} has one job per"
                    + " run), e.g. build-aarch64: the whole name, as the RUN column shows it.")
    String run;

    @Mixin
    PageOptions page;

    @Override
    public Integer call() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("state", state == null ? null : state.name().toLowerCase(Locale.ROOT));
        params.put("rule", rule);
        params.put("delivery", delivery);
        params.put("parent", parent);
        params.put("run", run);
        page.addTo(params);
        int status = PRINTER.print(admin, params, spec.commandLine().getOut(), spec.commandLine().getErr(),
                answer -> unknownRule(answer) + parentIsDelivery(answer, parent));
        // A job waiting on a node that starts none shows a bare QUEUED, with no attempt or message to say
        // why when the node was so from its start (tryout19 F1): the server's /healthz says it.
        AdminClient client = admin.client();
        client.degraded().ifPresent(why -> spec.commandLine().getErr().println("[buildhook] the server at "
                + client.base() + " starts no jobs now (its /healthz says " + why + "): its QUEUED jobs wait"
                + " until it can write that folder again, or another node of its cluster runs them"));
        return status;
    }
}
