package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.store.JobState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code buildhook status}: the server's state in five lines, from what the other commands ask: its {@code
 * /healthz}, its cluster's nodes ({@code GET /api/nodes}, counted by state), its rules (in force, or its rules file
 * on disk refused, from the answering node's item of {@code GET /api/nodes}) and its jobs that have not ended ({@code
 * GET /api/jobs?state=…}, counted up to a page of {@link #MOST}). tryout43 F4: {@code buildhook status} was "Did you
 * mean: buildhook test or buildhook refused-builds?".
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "Say the server's state: what its /healthz answers (ok, degraded, unavailable, starting,"
                + " stopping, and why), its cluster's nodes by state (the admin API's GET /api/nodes, as 'nodes'"
                + " lists them), whether its rules file on disk is refused (older rules in force: the first problem,"
                + " since when, which rules) and its jobs not ended by state (GET /api/jobs, as 'jobs --state' lists"
                + " them). A refused rules file does not change the exit code: the server is healthy. While"
                + " /healthz is not ok, what the admin API cannot answer is said as not known.",
        footer = {
            "",
            "Examples:",
            "  buildhook status",
            "  buildhook status --json",
            "  buildhook status --config /etc/buildhook/buildhook.yaml && echo healthy",
            "",
            ExitCodes.STATUS
        })
final class StatusCommand implements Callable<Integer> {

    /** How many jobs of a state are counted: the API's largest page; more is said as "500 or more". */
    static final int MOST = 500;

    /** The states of jobs not ended, as counted, in the order said. */
    private static final List<JobState> COUNTED = List.of(JobState.RUNNING, JobState.QUEUED, JobState.WAITING,
            JobState.AWAITING_APPROVAL);

    /** The nodes' states as {@code GET /api/nodes} says them, in the order said. */
    private static final List<String> NODE_STATES = List.of("running", "fenced", "silent", "gone");

    @Spec
    CommandSpec spec;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() {
        AdminClient client = admin.client();
        AdminClient.Health health = client.health();
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("url", client.base().toString());
        json.put("httpStatus", health.httpStatus());
        json.set("health", health.body());
        PrintWriter out = spec.commandLine().getOut();
        String error = health.body().path("error").asText("");
        print("server", client.base().toString());
        print("health", health.status() + (error.isEmpty() ? "" : ": " + LogSafe.escape(error)));
        // While /healthz is not ok the admin API may answer 503 as well: said as not known, not as the command's end.
        try {
            JsonNode nodes = client.get("nodes");
            Map<String, Integer> byState = new LinkedHashMap<>();
            NODE_STATES.forEach(s -> byState.put(s, 0));
            nodes.path("items").forEach(n -> byState.merge(n.path("state").asText("unknown"), 1, Integer::sum));
            ObjectNode counted = json.putObject("nodes");
            byState.forEach(counted::put);
            StringJoiner said = new StringJoiner(", ");
            byState.forEach((state, n) -> {
                if (n > 0 || state.equals("running")) {
                    said.add(n + " " + state);
                }
            });
            // nodes49: a node whose id was taken over answers too, as does the node that took it over; said as how
            // many JVMs answer, where that is not the running count.
            int answering = byState.get("running") + byState.get("fenced");
            print("nodes", said + " (" + (byState.get("fenced") > 0 ? answering + " JVMs answer; " : "")
                    + nodes.path("store").asText("?").toLowerCase(Locale.ROOT) + " store;"
                    + " buildhook nodes lists them)");
            rules(json, nodes);
        } catch (CommandFailure e) {
            notKnown(json, "nodes", health, e);
            notKnown(json, "rules", health, e);
        }
        try {
            ObjectNode counted = json.putObject("jobs");
            StringJoiner said = new StringJoiner(", ");
            for (JobState state : COUNTED) {
                String name = state.name().toLowerCase(Locale.ROOT);
                JsonNode page = client.get(AdminClient.withQuery("jobs", Map.of("state", name, "limit", MOST)));
                int n = page.path("items").size();
                boolean more = page.path("next").isTextual();
                counted.put(name, n);
                if (more) {
                    json.withArray("jobsMoreThanCounted").add(name);
                }
                said.add((more ? n + " or more" : String.valueOf(n)) + " " + name.replace('_', ' '));
            }
            print("jobs", said + " (buildhook jobs --state STATE lists them)");
        } catch (CommandFailure e) {
            json.remove("jobs");
            notKnown(json, "jobs", health, e);
        }
        // The lines are for people; --json prints one JSON document instead, for scripts.
        out.print(admin.json ? AdminClient.pretty(json) + System.lineSeparator() : lines);
        out.flush();
        return health.ok() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /**
     * The {@code rules} line, from the answering node's item of {@code GET /api/nodes}: its rules in force, and while
     * its rules file on disk is refused, that (tryout47b F2: {@code status} said {@code health ok} and nothing else,
     * while the status page, {@code buildhook_rules_refused} and the log said the file was refused and older rules
     * were in force). The exit code stays {@code /healthz}'s: the server is healthy, it runs the rules last loaded.
     */
    private void rules(ObjectNode json, JsonNode nodes) {
        JsonNode self = null;
        for (JsonNode n : nodes.path("items")) {
            if (n.path("self").asBoolean(false)) {
                self = n;
            }
        }
        ObjectNode rules = json.putObject("rules");
        String fingerprint = self == null ? "" : self.path("rules").asText("");
        rules.put("fingerprint", fingerprint.isEmpty() ? null : fingerprint);
        String shortFingerprint = fingerprint.length() > 12 ? fingerprint.substring(0, 12) : fingerprint;
        if (self == null || !self.has("rulesRefused")) {
            // A server older than this command does not say it: its status page and log do.
            json.remove("rules");
            json.put("rulesNotKnown", "the server does not say (a buildhook older than this command)");
            print("rules", "not known: the server does not say (a buildhook older than this command; its status page"
                    + " and log say a refused rules file)");
            return;
        }
        JsonNode refused = self.path("rulesRefused");
        rules.set("refused", refused);
        if (refused.isNull() || refused.isMissingNode()) {
            print("rules", "ok" + (shortFingerprint.isEmpty() ? "" : " (fingerprint " + shortFingerprint + ")"));
            return;
        }
        JsonNode problems = refused.path("problems");
        int more = Math.max(0, problems.size() - 1);
        print("rules", "REFUSED " + LogSafe.escape(refused.path("file").asText("the rules file"))
                + (refused.path("since").isTextual() ? " since " + refused.path("since").asText() : "")
                + ": " + LogSafe.escape(problems.path(0).asText("?"))
                + (more == 0 ? "" : " (and " + more + " more problem(s))")
                + "; the rules loaded at " + refused.path("inForceLoadedAt").asText("?")
                + (shortFingerprint.isEmpty() ? "" : " (fingerprint " + shortFingerprint + ")")
                + " stay in force (buildhook check --rules FILE lists every problem)");
    }

    /** The lines for people, printed at the end: with {@code --json}, the JSON instead. */
    private final StringBuilder lines = new StringBuilder();

    private void print(String what, String value) {
        lines.append(String.format("%-8s %s%n", what, value));
    }

    /**
     * What the admin API could not answer: said as not known while {@code /healthz} is not ok (the store the API
     * reads may be what is down); else the command ends with it, as every admin command does.
     */
    private void notKnown(ObjectNode json, String what, AdminClient.Health health, CommandFailure e) {
        if (health.ok()) {
            throw e;
        }
        json.put(what + "NotKnown", e.getMessage());
        print(what, "not known: " + e.getMessage());
    }
}
