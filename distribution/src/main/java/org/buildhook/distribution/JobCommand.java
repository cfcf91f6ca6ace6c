package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.store.Job;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code buildhook job show ID}: one job as the runner runs it, and its attempts. */
@Command(
        name = "job",
        mixinStandardHelpOptions = true,
        description = {"One job: 'job show ID'.",
            "The admin options (--config, --url, --token-file, --token-env, --json) go before or after 'show',"
                    + " e.g. 'job --config FILE show ID'."},
        footer = {"", ExitCodes.JOB_SHOW},
        subcommands = JobCommand.Show.class)
final class JobCommand {

    /** Given before the subcommand ({@code job --config F show ID}); the subcommand's own take precedence. */
    @Mixin
    AdminOptions admin;

    /** {@code job show ID}: argv, env, workdir, limits and every attempt (the admin API's GET /api/jobs/ID). */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Show a job: its argv, env and workdir as the rule rendered them, its limits, and every "
                    + "attempt with its outcome (the admin API's GET /api/jobs/ID).",
            footer = {
                "",
                "Examples:",
                "  buildhook job show 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
                "  buildhook job show 01JD8Q4B2C7N1E5V9W0X3Y6Z8K --json",
                "",
                ExitCodes.JOB_SHOW
            })
    static final class Show implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        AdminOptions admin;

        @ParentCommand
        JobCommand job;

        @Parameters(index = "0", paramLabel = "JOB", converter = IdConverter.class, description = "The job's id.")
        String id;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            AdminOptions options = admin.over(job.admin);
            if (options.json) {
                // The API's answer as it is, every action included: what scripts read.
                out.println(AdminClient.pretty(options.client().get("jobs/" + id)));
            } else {
                // The newest actions only: a job re-run thousands of times has thousands (lists14).
                JsonNode answer = options.client().get("jobs/" + id + "?actions=" + ACTIONS);
                print(answer, out);
                printFollowUps(options.client(), answer.path("job"), out);
            }
            out.flush();
            return ExitCodes.OK;
        }

        static void print(JsonNode answer, PrintWriter out) {
            JsonNode job = answer.path("job");
            out.println("job       " + job.path("id").asText() + "  " + job.path("state").asText()
                    + (job.path("exitCode").isNull() ? "" : " (exit " + job.path("exitCode").asInt() + ")"));
            out.println("rule      " + job.path("rule").asText()
                    + (job.path("runName").isNull() ? "" : "  run " + LogSafe.escape(job.path("runName").asText())));
            out.println("delivery  " + job.path("delivery").asText());
            if (!job.path("rerunOf").isNull()) {
                out.println("rerun of  " + job.path("rerunOf").asText());
            }
            // A workflow is several jobs: show the way to the job this one follows or was replaced by.
            if (job.path("parent").isTextual()) {
                out.println("follows   " + job.path("parent").asText());
            }
            if (job.path("supersededBy").isTextual()) {
                out.println("superseded by " + job.path("supersededBy").asText());
            }
            if (job.path("expiresAt").isTextual()) {
                boolean passed = JobsCommand.approvalExpired(job);
                out.println("approval  " + Job.approvalExpiry(job.path("expiresAt").asText(), passed)
                        + (passed ? "" : " (buildhook approve " + job.path("id").asText() + ")"));
            }
            // A message buildhook wrote shows its payload values escaped already: not doubled (tryout50 F3); none as
            // the tables show it, not as Java's null (tryout50 F2).
            String message = JobsCommand.withQueuePosition(job);
            out.println("message   " + (message == null || message.isEmpty() ? "-" : LogSafe.escapeMessage(message)));
            out.println("argv      " + quotedList(job.path("argv")));
            out.println("workdir   " + (job.path("workdir").isNull() ? "(the runner's default, runner.workdir)"
                    : LogSafe.escape(job.path("workdir").asText())));
            out.println("limits    timeout " + duration(job.path("timeout").asText()) + ", retries "
                    + job.path("retries").asInt() + ", backoff " + duration(job.path("backoff").asText()) + ", concurrency "
                    + (job.path("concurrency").asInt() == 0 ? "no limit" : job.path("concurrency").asText())
                    + ", stdin " + (job.path("stdin").asBoolean() ? "on" : "off"));
            out.println("env");
            // By name: the store keeps no order. Secret-looking names' values come masked from the API.
            Map<String, JsonNode> env = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = job.path("env").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                env.put(e.getKey(), e.getValue());
            }
            env.forEach((name, value) -> out.println("  " + LogSafe.escape(name) + "=" + quoted(value)));
            // Counted from the attempts listed below, so an older server's answer says it as well (tryout20 F7).
            int interrupted = 0;
            int notStarted = 0;
            for (JsonNode a : answer.path("attempts")) {
                interrupted += a.path("outcome").asText().equals("INTERRUPTED") ? 1 : 0;
                // Its node ended it before it ran the command (tryout42 F10); absent from an older server's answer.
                notStarted += a.path("neverStarted").asBoolean(false) ? 1 : 0;
            }
            out.println("attempts  " + Job.attemptsText(job.path("attempts").asInt(), interrupted, notStarted));
            for (JsonNode a : answer.path("attempts")) {
                out.println("  #" + a.path("attempt").asInt() + " " + a.path("outcome").asText()
                        + (a.path("exitCode").isNull() ? "" : " exit " + a.path("exitCode").asInt())
                        + "  " + a.path("startedAt").asText("-") + " .. " + ended(a)
                        + "  on " + a.path("node").asText("-")
                        // Which units of shared resources it held (V20), absent from an older server's answer.
                        + units(a.path("units"))
                        + (a.path("message").isTextual() ? "  " + LogSafe.escapeMessage(a.path("message").asText())
                                : "")
                        // Cut at runner.log-max-bytes: said here, not only inside the log (tryout24 F2).
                        + (a.path("logTruncated").asBoolean(false) ? "  (log truncated: "
                                + a.path("logDroppedBytes").asLong() + " bytes dropped, runner.log-max-bytes)" : ""));
            }
            if (!answer.path("actions").isEmpty()) {
                out.println("actions");
                for (JsonNode a : answer.path("actions")) {
                    out.println("  " + a.path("at").asText() + "  " + a.path("action").asText() + " by "
                            + LogSafe.escape(a.path("actor").asText()) + (a.path("detail").isTextual()
                                    ? "  " + LogSafe.escape(a.path("detail").asText()) : ""));
                }
                if (answer.path("actionsNext").isTextual()) {
                    out.println("  (only the newest " + answer.path("actions").size() + " are shown: buildhook actions"
                            + " --job " + job.path("id").asText() + " lists all)");
                }
            }
        }

        /**
         * A command's arguments as {@code ["a","b"]}, each {@link #quoted}; what the API gave as it came
         * (escaped) when it is not a list.
         */
        static String quotedList(JsonNode argv) {
            if (!argv.isArray()) {
                return LogSafe.escape(argv.toString());
            }
            java.util.StringJoiner list = new java.util.StringJoiner(",", "[", "]");
            argv.forEach(arg -> list.add(quoted(arg)));
            return list.toString();
        }

        /**
         * A value of a job's command or environment between double quotes, escaped one way whatever the
         * character (tryout28 F5: Jackson's <code>&#92;u001B</code> for C0 controls, then {@link LogSafe}'s {@code \x9b}
         * for C1 ones): a backslash and a quote as {@code \\} and {@code \"}, control characters as
         * {@code \xNN} as everywhere else on a terminal (docs/operations.md), so a value that holds the text
         * {@code \x1b} reads {@code \\x1b}, not an escape. A value that is not text (null) as JSON writes it.
         */
        static String quoted(JsonNode value) {
            if (!value.isTextual()) {
                return LogSafe.escape(value.toString());
            }
            return LogSafe.quoted(value.asText());
        }

        /**
         * A duration of the API's answer ({@code 600s}, {@code 1500ms}) as the server log and the status page
         * write it ({@code 10m}, {@code 1.5s}); as it came when it is not one.
         */
        static String duration(String api) {
            try {
                return org.buildhook.runner.rules.Durations.describe(org.buildhook.runner.rules.Durations.parse(api));
            } catch (IllegalArgumentException e) {
                return api;
            }
        }

        /**
         * When an attempt ended: its time; {@code unknown} for an ended attempt whose end nobody recorded
         * (its node died on another host); {@code -} while it runs.
         */
        static String ended(JsonNode attempt) {
            if (attempt.path("endedAt").isTextual()) {
                return attempt.path("endedAt").asText();
            }
            return attempt.path("outcome").asText("RUNNING").equals("RUNNING") ? "-" : "unknown";
        }

        /**
         * Which units of shared resources an attempt held, from its answer's {@code units} ({@code {"lab-boards":
         * [2]}}): {@code "  units lab-boards 2"}, {@code "  units lab-boards 1,3; db 1"}; empty when it held none, or
         * the server did not record or send them (an attempt started before schema version 20, an older server).
         */
        static String units(JsonNode units) {
            StringBuilder out = new StringBuilder();
            for (Iterator<Map.Entry<String, JsonNode>> it = units.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                StringBuilder numbers = new StringBuilder();
                for (JsonNode n : e.getValue()) {
                    numbers.append(numbers.length() == 0 ? "" : ",").append(n.asInt());
                }
                out.append(out.length() == 0 ? "  units " : "; ").append(LogSafe.escape(e.getKey())).append(' ')
                        .append(numbers);
            }
            return out.toString();
        }

        /** The newest actions {@code job show} prints; a job with more says how to list them all. */
        static final int ACTIONS = 100;

        /** The newest follow-ups {@code job show} prints; a job with more says how to list them all. */
        static final int FOLLOW_UPS = 100;

        /**
         * The follow-ups the job started, oldest first: the jobs whose parent it is (not among its
         * delivery's newest jobs, which re-runs and replays can outnumber), its newest {@link #FOLLOW_UPS}
         * only, one page of the admin API: its follow-ups and their re-runs can be thousands (review13 L5).
         * With more, a last line says how to list them all, as the status page does.
         */
        static void printFollowUps(AdminClient client, JsonNode job, PrintWriter out) {
            String id = job.path("id").asText();
            JsonNode page = client.get("jobs?parent=" + id + "&limit=" + FOLLOW_UPS);
            java.util.List<JsonNode> followUps = new java.util.ArrayList<>();
            for (JsonNode j : page.path("items")) {
                followUps.add(0, j);
            }
            if (!followUps.isEmpty()) {
                out.println("follow-ups");
                followUps.forEach(f -> out.println("  " + f.path("id").asText() + "  " + f.path("rule").asText()
                        + "  " + f.path("state").asText()));
                if (page.path("next").isTextual()) {
                    out.println("  (only the newest " + followUps.size() + " are shown: buildhook jobs --parent " + id
                            + " lists all)");
                }
            }
        }
    }
}
