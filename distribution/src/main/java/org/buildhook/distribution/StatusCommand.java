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
 * {@code buildhook status}: the server's state in three lines, from what the other commands ask: its {@code
 * /healthz}, its cluster's nodes ({@code GET /api/nodes}, counted by state) and its jobs that have not ended ({@code
 * GET /api/jobs?state=…}, counted up to a page of {@link #MOST}). tryout43 F4: {@code buildhook status} was "Did you
 * mean: buildhook test or buildhook refused-builds?".
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "Say the server's state: what its /healthz answers (ok, degraded, unavailable, starting,"
                + " stopping, and why), its cluster's nodes by state (the admin API's GET /api/nodes, as 'nodes'"
                + " lists them) and its jobs not ended by state (GET /api/jobs, as 'jobs --state' lists them). While"
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
    private static final List<String> NODE_STATES = List.of("running", "silent", "gone");

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
            print("nodes", said + " (" + nodes.path("store").asText("?").toLowerCase(Locale.ROOT) + " store;"
                    + " buildhook nodes lists them)");
        } catch (CommandFailure e) {
            notKnown(json, "nodes", health, e);
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
