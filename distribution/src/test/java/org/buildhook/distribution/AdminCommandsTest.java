package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The admin commands against a real server, as tables and as JSON. */
class AdminCommandsTest {

    @TempDir
    Path dir;
    AdminServer server;
    AdminCli cli;

    @BeforeEach
    void start() throws Exception {
        server = AdminServer.start(dir);
        cli = new AdminCli(server);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    /**
     * The command in its own process, as an operator runs it, with only the admin token's variable
     * set: the endpoint secret's and the database password's variables exist only where the server
     * runs. It reads the admin token from {@code admin.token: {env: …}}, and nothing else it need not.
     */
    @Test
    void anAdminCommandReadsOnlyTheAdminTokenOfTheConfigurationsSecrets() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        Path config = Files.writeString(dir.resolve("client.yaml"), String.join("\n",
                "data-dir: " + dir.resolve("client-data"),
                "store:",
                "  url: jdbc:postgresql://db.invalid:5432/buildhook",
                "  password: {env: BUILDHOOK_TEST_DB_PASSWORD_UNSET}",
                "endpoints:",
                "  default:",
                "    secrets: [{env: BUILDHOOK_TEST_JOBSERV_SECRET_UNSET}, {file: no-such-secret-file}]",
                "admin:",
                "  token: {env: BUILDHOOK_TEST_ADMIN_TOKEN}",
                ""));
        ProcessBuilder command = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "deliveries", "--config", config.toString(),
                "--url", server.uri().toString()).redirectErrorStream(true);
        command.environment().remove("BUILDHOOK_TEST_JOBSERV_SECRET_UNSET");
        command.environment().remove("BUILDHOOK_TEST_DB_PASSWORD_UNSET");
        command.environment().put("BUILDHOOK_TEST_ADMIN_TOKEN", AdminServer.TOKEN);
        Process p = command.start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

        assertThat(p.waitFor()).as(output).isZero();
        assertThat(output).contains(delivery).doesNotContain(AdminServer.TOKEN);
        assertThat(dir.resolve("client-data")).doesNotExist();
    }

    @Test
    void deliveriesPrintsATableOrTheApisJson() throws Exception {
        String passed = server.deliver("build-67-passed.json");
        String failed = server.deliver("build-68-failed.json");

        assertThat(cli.run("deliveries")).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines.get(0)).startsWith("DELIVERY").contains("OUTCOME").contains("PROJECT").contains("TRIGGER");
        assertThat(lines.get(1)).startsWith(failed).contains("ACCEPTED").contains("andy-corp/lmp")
                .contains("platform-main");
        assertThat(lines.get(2)).startsWith(passed).contains("containers-devel");
        // Aligned: every column starts at the same place on every line.
        assertThat(lines.get(1).indexOf("ACCEPTED")).isEqualTo(lines.get(0).indexOf("OUTCOME"));

        assertThat(cli.run("deliveries", "--trigger", "containers-devel", "--json")).isZero();
        JsonNode json = AdminServer.json(cli.out());
        assertThat(json.path("items").findValuesAsText("id")).containsExactly(passed);
        assertThat(json.has("next")).isTrue();
    }

    /**
     * Thousands of deliveries and the question "what came of build 68?" had no filter: only paging
     * through them (tryout11 F5). {@code --build N} (the API's {@code build=N}) lists that build's
     * deliveries.
     */
    @Test
    void deliveriesOfOneBuildAreFoundByItsNumber() throws Exception {
        server.deliver("build-67-passed.json");
        String failed = server.deliver("build-68-failed.json");
        server.deliver("build-412-promoted.json");

        assertThat(cli.run("deliveries", "--build", "68")).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).startsWith(failed).contains(" 68 ");
        assertThat(cli.run("deliveries", "--build", "69")).isZero();
        assertThat(cli.out().lines().toList()).hasSize(1);

        assertThat(server.getJson("deliveries?build=412").path("items").findValuesAsText("buildId"))
                .containsExactly("412");
        assertThat(server.get("deliveries?build=-1").statusCode()).isEqualTo(400);
        assertThat(cli.run("deliveries", "--build", "sixty-eight")).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void jobsListsAndFilters() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        String jobId = server.awaitJob(delivery, "SUCCEEDED").path("id").asText();

        assertThat(cli.run("jobs", "--state", "succeeded", "--rule", "echo")).isZero();
        assertThat(cli.out().lines().toList()).hasSize(2);
        assertThat(cli.out()).contains(jobId).contains("SUCCEEDED").contains(delivery);

        assertThat(cli.run("jobs", "--delivery", delivery, "--limit", "5", "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("items").findValuesAsText("id")).containsExactly(jobId);

        // tryout21 F8.4: the API's parameter name ('state') was said to a user who typed --state.
        assertThat(cli.run("jobs", "--state", "sleeping")).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("--state").contains("sleeping").contains("AWAITING_APPROVAL")
                .doesNotContain("'state' must be one of");
        assertThat(cli.run("deliveries", "--outcome", "nope")).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("--outcome").contains("nope").contains("DUPLICATE")
                .doesNotContain("'outcome' must be one of");
        assertThat(cli.run("deliveries", "--outcome", "Accepted")).isZero();
        assertThat(cli.out()).contains(delivery);
    }

    /**
     * tryout17 F10: in a cluster "where did it run" needed a {@code job show} per job: the table had no
     * node. It shows the node of the job's latest attempt, as the API's {@code node} says it; {@code --json}
     * is the API's answer as before.
     */
    /**
     * tryout47b F12: a filter that matched nothing printed a bare header, exit 0, also for a misspelt rule name, read
     * as "nothing ran". Standard output and the exit code stay as they were (scripts parse them); standard error says
     * nothing matched, and of a name no rule in force and no stored job has, the rules in force and the nearest.
     */
    @Test
    void aFilterMatchingNothingSaysSoAndAnUnknownRuleNameGetsTheNearest() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        server.awaitJob(delivery, "SUCCEEDED");

        assertThat(cli.run("jobs", "--rule", "ehco")).isZero();
        assertThat(cli.out().lines().toList()).hasSize(1).allMatch(l -> l.startsWith("JOB "));
        assertThat(cli.err()).isEqualToIgnoringNewLines("(no jobs match --rule ehco: no rule in force and no stored"
                + " job has the name 'ehco' (rules in force: echo, wait); did you mean 'echo'?)");

        assertThat(cli.run("jobs", "--rule", "ehco", "--json")).isZero();
        JsonNode json = AdminServer.json(cli.out());
        assertThat(json.path("items").size()).isZero();
        assertThat(json.path("unknownRule").path("nearest").asText()).isEqualTo("echo");
        assertThat(json.path("unknownRule").path("rulesInForce").toString()).isEqualTo("[\"echo\",\"wait\"]");
        assertThat(cli.err()).as("--json prints the answer alone").isEmpty();

        // tryout51 F3: a delivery's id given as --parent is said to be one, with the filter meant.
        assertThat(cli.run("jobs", "--parent", delivery)).isZero();
        assertThat(cli.err()).isEqualToIgnoringNewLines("(no jobs match --parent " + delivery + "; " + delivery + " is a"
                + " delivery's id, not a job's: its jobs are listed with --delivery " + delivery + "; --parent takes"
                + " the id of the job whose follow-ups to list)");

        // A rule in force with no job of these filters is no mistake: only that nothing matched.
        assertThat(cli.run("jobs", "--rule", "wait")).isZero();
        assertThat(cli.err()).isEqualToIgnoringNewLines("(no jobs match --rule wait)");
        assertThat(cli.run("jobs", "--state", "failed", "--rule", "echo")).isZero();
        assertThat(cli.err()).isEqualToIgnoringNewLines("(no jobs match --state failed --rule echo)");
        assertThat(cli.run("jobs", "--rule", "echo")).isZero();
        assertThat(cli.err()).isEmpty();

        // A rule no longer in force whose jobs are stored is a name the operator may well mean.
        server.replaceRules("rules:\n  - name: other\n    when: {status: PASSED}\n    run:\n      command: [/bin/true]\n"
                + "    on-success:\n      command: [/bin/true]\n");
        await().atMost(Duration.ofSeconds(30)).until(() -> server.app().rules().current().ruleNames().equals(
                List.of("other")));
        assertThat(cli.run("jobs", "--state", "failed", "--rule", "echo")).isZero();
        assertThat(cli.err()).isEqualToIgnoringNewLines("(no jobs match --state failed --rule echo)");
        assertThat(cli.run("jobs", "--rule", "wiat")).isZero();
        assertThat(cli.err()).contains("no rule in force and no stored job has the name 'wiat' (rules in force:"
                + " other)").doesNotContain("did you mean");
        // tryout51 F3: a follow-up's name is one its jobs have (no job yet is no mistake), and one to suggest.
        assertThat(cli.run("jobs", "--rule", "other/on-success")).isZero();
        assertThat(cli.err()).isEqualToIgnoringNewLines("(no jobs match --rule other/on-success)");
        assertThat(cli.run("jobs", "--rule", "other/on-succes")).isZero();
        assertThat(cli.err()).contains("no rule in force and no stored job has the name 'other/on-succes'")
                .contains("did you mean 'other/on-success'?");

        // Rules take patterns; these filters do not, and say so.
        assertThat(cli.run("deliveries", "--project", "andy-corp/*")).isZero();
        assertThat(cli.out().lines().toList()).hasSize(1);
        assertThat(cli.err()).contains("(no deliveries match --project andy-corp/*; --project is matched whole");
        assertThat(cli.run("deliveries", "--build", "4242")).isZero();
        assertThat(cli.err()).isEqualToIgnoringNewLines("(no deliveries match --build 4242)");
    }

    @Test
    void jobsShowsTheNodeOfEachJobsLatestAttempt() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        String jobId = server.awaitJob(delivery, "SUCCEEDED").path("id").asText();
        String node = server.getJson("jobs/" + jobId).path("job").path("node").asText();
        assertThat(node).as("the API's node of the job").isNotBlank().isNotEqualTo("null");

        assertThat(cli.run("jobs", "--delivery", delivery)).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).split(" +")).containsSubsequence("STATE", "ATTEMPTS", "NODE", "EXIT");
        assertThat(lines.get(1).split(" +")).containsSubsequence(jobId, "echo", "SUCCEEDED", "1", node, "0");

        assertThat(cli.run("jobs", "--delivery", delivery, "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("items").path(0).path("node").asText()).isEqualTo(node);
        assertThat(AdminServer.json(cli.out()).path("items").path(0).path("interruptedAttempts").asInt(-1))
                .as("none of its attempts was cut short").isZero();
    }

    /**
     * tryout19 F1: a job waiting on a node that starts no jobs (it cannot write its payload folder) showed a
     * bare QUEUED in {@code jobs}, without an attempt or message when the node was so from its start. The
     * command now adds a note on standard error from the server's {@code /healthz}; the table and
     * {@code --json} on standard output are unchanged, and a healthy server gets no note.
     */
    @Test
    void jobsSaysWhenTheServerStartsNoJobs() throws Exception {
        assertThat(cli.run("jobs")).isZero();
        assertThat(cli.err()).as("an empty list says only that").isEqualToIgnoringNewLines("(no jobs)");

        Path payloads = JobsPausedHealthTest.fileWhereTheFolderGoes(dir.resolve("data").resolve("payloads"));
        String delivery = server.deliver("build-67-passed.json");
        await().atMost(Duration.ofSeconds(60)).until(() -> server.page("healthz", null).body().contains("degraded"));

        assertThat(cli.run("jobs", "--delivery", delivery)).isZero();
        assertThat(cli.out()).contains("QUEUED");
        assertThat(cli.err()).startsWith("[buildhook] the server at " + server.uri())
                .contains("starts no jobs now (its /healthz says degraded: jobs do not start on this node")
                .contains("its QUEUED jobs wait until it can write that folder again");
        assertThat(cli.run("jobs", "--delivery", delivery, "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("items").path(0).path("state").asText()).isEqualTo("QUEUED");
        assertThat(cli.err()).contains("starts no jobs now");

        Files.delete(payloads);
        server.awaitJob(delivery, "SUCCEEDED");
        assertThat(cli.run("jobs", "--delivery", delivery)).isZero();
        assertThat(cli.err()).isEmpty();
    }

    /**
     * A list cut at {@code --limit} read as the whole list, and the commands had no way to the next
     * page (tryout11 F3: 3,000 deliveries, `jobs --state failed --limit 500` showed 429 failed jobs
     * with nothing to say whether there were more, and no `--before`).
     */
    @Test
    void listsCutAtTheLimitSaySoAndTheNextPageIsReachedWithBefore() throws Exception {
        String first = server.deliver("build-67-passed.json");
        String second = server.deliver("build-68-failed.json");
        String third = server.deliver("build-412-promoted.json");

        assertThat(cli.run("deliveries", "--limit", "2")).isZero();
        assertThat(cli.out()).contains(third).contains(second).doesNotContain(first);
        assertThat(cli.err()).isEqualTo("(more: add --before " + second + " for the next page)"
                + System.lineSeparator());
        assertThat(cli.run("deliveries", "--limit", "2", "--before", second)).isZero();
        assertThat(cli.out()).contains(first).doesNotContain(second).doesNotContain(third);
        assertThat(cli.err()).isEmpty();

        String job = server.awaitJob(first, "SUCCEEDED").path("id").asText();
        assertThat(cli.run("rerun", job)).isZero();
        assertThat(cli.run("rerun", job)).isZero();
        assertThat(cli.run("jobs", "--rule", "echo", "--limit", "1")).isZero();
        assertThat(cli.out().lines().toList()).hasSize(2);
        String newest = cli.out().lines().toList().get(1).split(" ")[0];
        assertThat(cli.err()).startsWith("(more: add --before " + newest + " ");
        assertThat(cli.run("jobs", "--rule", "echo", "--limit", "5", "--before", newest)).isZero();
        assertThat(cli.out().lines().toList()).hasSize(3).noneMatch(l -> l.startsWith(newest));
        assertThat(cli.err()).isEmpty();

        assertThat(cli.run("jobs", "--before", "not/an-id")).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void logsPrintsTheLogAndFollowsItToTheEnd() throws Exception {
        String done = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        assertThat(cli.run("logs", done)).isZero();
        assertThat(cli.out()).isEqualTo("line one\nline two 67\n");
        assertThat(cli.run("logs", done, "--attempt", "1")).isZero();
        assertThat(cli.out()).isEqualTo("line one\nline two 67\n");

        String running = server.awaitJob(server.deliver("build-68-failed.json"), "RUNNING").path("id").asText();
        Files.writeString(dir.resolve("go"), "");
        assertThat(cli.run("logs", "-f", running)).isZero();
        assertThat(cli.out()).startsWith("started\nfinished\n[buildhook] job " + running + " SUCCEEDED");

        assertThat(cli.run("logs", done, "--attempt", "9")).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("9").doesNotContain("off");
    }

    /**
     * A follow of a job whose output passed runner.log-max-bytes went on, once the attempt ended, at
     * its offset in the rewritten (head, marker, tail) file: it printed a line glued from two and the
     * last bytes only, with no sign that anything was dropped (tryout11 F1). It says how much was
     * dropped and prints the kept tail whole.
     */
    @Test
    void logsFollowOfAJobPastItsLogCapSaysWhatWasDroppedAndPrintsTheWholeTail() throws Exception {
        server.close();
        server = AdminServer.withRunner(Files.createDirectories(dir.resolve("capped")), "  log-max-bytes: 4KiB");
        Path go = server.dir.resolve("go-on");
        Files.writeString(server.dir.resolve("chatty.sh"), "seq -f 'line %06g' 1 2000\n"
                + "while [ ! -f '" + go + "' ]; do [ -d '" + server.dir + "' ] || exit 1; sleep 0.1; done\n"
                + "seq -f 'line %06g' 2001 4000\n");
        server.replaceRules("rules:\n  - name: chatty\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("chatty.sh") + "']\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("chatty");
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();
        StringWriter followed = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(followed, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        java.util.concurrent.CompletableFuture<Integer> follow = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cl.execute("logs", "-f", job, "--url", server.uri().toString(), "--token-file",
                        dir.resolve("capped/admin-token").toString()));
        // The live log stops at the cap (4096 bytes, 4 into line 342): the follow has read it all.
        await().atMost(Duration.ofSeconds(30)).until(() -> followed.toString().contains("line 000341\n"));

        Files.writeString(go, "");

        assertThat(follow.get(60, java.util.concurrent.TimeUnit.SECONDS)).isZero();
        List<String> lines = followed.toString().lines().toList();
        // 48,000 bytes of output: the follow printed the first 4096, the file keeps the last 3072 (lines 3745 on).
        int marker = lines.indexOf("[buildhook] log truncated: 40832 bytes dropped here (log cap 4096 bytes; what"
                + " follows is the last 3072 bytes)");
        assertThat(marker).as(followed.toString()).isPositive();
        assertThat(lines.subList(0, marker - 1)).allMatch(l -> l.matches("line \\d{6}"));
        assertThat(lines.get(marker - 1)).isEqualTo("line");
        List<String> tail = lines.subList(marker + 1, lines.size() - 1);
        assertThat(tail).hasSize(256).allMatch(l -> l.matches("line \\d{6}"));
        assertThat(tail.get(0)).isEqualTo("line 003745");
        assertThat(tail.get(255)).isEqualTo("line 004000");
        assertThat(lines.get(lines.size() - 1)).startsWith("[buildhook] job " + job + " SUCCEEDED");
    }

    /**
     * One follow lasts at most the server's limit (10 minutes): {@code logs -f} of a longer job then
     * printed it as RUNNING and exited 1, so {@code logs -f JOB && next} failed for a job that went on
     * to succeed (tryout11 F8). It follows again from where the last follow stopped, to the job's end.
     */
    @Test
    void logsFollowOfAJobOutlastingOneFollowGoesOnToTheJobsEnd() throws Exception {
        server.replaceRules("rules:\n  - name: slow\n    run:\n      command: [/bin/sh, -c, "
                + "'echo first; sleep 5; echo second']\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("slow");
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();
        System.setProperty("buildhook.log-follow-max", "PT1.5S");
        try {
            assertThat(cli.run("logs", "-f", job)).as(cli.out() + "\n" + cli.err()).isZero();
        } finally {
            System.clearProperty("buildhook.log-follow-max");
        }
        assertThat(cli.out()).isEqualTo("first\nsecond\n[buildhook] job " + job
                + " SUCCEEDED: exited with 0 (1 attempt(s))\n");
    }

    /**
     * tryout18: {@code logs JOB} of a workflow step that a stop cut short and ran again printed the
     * second run's output only, with no word that there had been a first. It says on standard error
     * which attempt it printed and how the one before ended; an attempt asked for by number, and a job
     * of one attempt, get no note.
     */
    @Test
    void logsOfAJobThatRanMoreThanOnceSaysWhichAttemptItPrintedAndHowTheOneBeforeEnded() throws Exception {
        Path once = server.dir.resolve("ran-once");
        server.replaceRules("rules:\n  - name: twice\n    run:\n      command: [/bin/sh, -c,"
                + " 'if [ -f \"$0\" ]; then echo second; exit 0; fi; : > \"$0\"; echo first; exit 3', '" + once + "']\n"
                + "      retries: 1\n      backoff: 1ms\n");
        await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().contains("twice"));
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();

        assertThat(cli.run("logs", job)).isZero();
        assertThat(cli.out()).isEqualTo("second\n");
        assertThat(cli.err()).isEqualTo("[buildhook] the output above is attempt 2 of job " + job + "; attempt 1"
                + " ended FAILED: exited with 3 (buildhook logs " + job + " --attempt 1)\n");

        assertThat(cli.run("logs", job, "--attempt", "1")).isZero();
        assertThat(cli.out()).isEqualTo("first\n");
        assertThat(cli.err()).isEmpty();
    }

    /**
     * tryout17: the last attempt of a job failed without output (there: it could not start, its node's
     * data disk full), and {@code logs JOB} printed nothing and exited 0; the reason and the earlier
     * attempt's output were only found through {@code job show}. It says so on standard error.
     */
    @Test
    void logsOfAnAttemptThatWroteNothingSaysHowItEndedAndPointsToTheEarlierAttempt() throws Exception {
        server.replaceRules("rules:\n  - name: silent\n    run:\n      command: [/bin/sh, -c, 'exit 3']\n"
                + "      retries: 1\n      backoff: 1ms\n");
        await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().contains("silent"));
        String failed = server.awaitJob(server.deliver("build-67-passed.json"), "FAILED").path("id").asText();

        assertThat(cli.run("logs", failed)).isZero();
        assertThat(cli.out()).isEmpty();
        assertThat(cli.err()).isEqualTo("[buildhook] attempt 2 of job " + failed + " wrote no output; it is FAILED:"
                + " exited with 3 (earlier attempts: buildhook logs " + failed + " --attempt 1)\n");

        assertThat(cli.run("logs", failed, "--attempt", "1")).isZero();
        assertThat(cli.err()).isEqualTo("[buildhook] attempt 1 of job " + failed + " wrote no output; it is FAILED:"
                + " exited with 3\n");
    }

    /** tryout25 F3: a job cancelled in its retry's backoff had run; the command said it "had not started". */
    @Test
    void cancelOfAJobInItsRetrysBackoffSaysWhatItsAttemptCameTo() throws Exception {
        server.replaceRules("rules:\n  - name: flaky\n    run:\n      command: [/bin/sh, -c, 'exit 3']\n"
                + "      retries: 1\n      backoff: 1h\n");
        await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().contains("flaky"));
        String delivery = server.deliver("build-67-passed.json");
        await().atMost(java.time.Duration.ofSeconds(60)).until(() -> server.getJson("deliveries/" + delivery)
                .path("jobs").path(0).path("attempts").asInt() == 1 && server.getJson("jobs/" + server.getJson(
                "deliveries/" + delivery).path("jobs").path(0).path("id").asText()).path("job").has("retryDueAt"));
        String job = server.getJson("deliveries/" + delivery).path("jobs").path(0).path("id").asText();

        assertThat(cli.run("cancel", job)).isZero();
        assertThat(cli.out().strip()).isEqualTo("cancelled job " + job + ": cancelled while waiting for retry 1 of"
                + " 1; attempt 1 exited with 3; no further attempt runs");
    }

    /**
     * review17: an attempt still running that has printed nothing yet was said to have "wrote no output;
     * it is RUNNING", as if it had ended. It says it has written nothing yet, and how to follow it.
     */
    @Test
    void logsOfARunningAttemptThatHasWrittenNothingYetSaysSoAndHowToFollowIt() throws Exception {
        Path go = server.dir.resolve("go-quiet");
        server.replaceRules("rules:\n  - name: quiet\n    run:\n      command: [/bin/sh, -c,"
                + " 'while [ ! -f \"$0\" ]; do sleep 0.1; done', '" + go + "']\n");
        await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().contains("quiet"));
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();

        try {
            // Once its log file exists (the job is RUNNING a moment before its command starts).
            await().atMost(java.time.Duration.ofSeconds(30)).until(() -> cli.run("logs", job) == ExitCodes.OK);
            assertThat(cli.out()).isEmpty();
            assertThat(cli.err()).isEqualTo("[buildhook] attempt 1 of job " + job + " has written no output yet;"
                    + " it is RUNNING (buildhook logs -f " + job + " follows it)\n");
        } finally {
            Files.writeString(go, "");
        }
    }

    /**
     * tryout39 F3: {@code logs JOB} of an attempt that still runs printed its log so far and exited 0 without a word,
     * read as a job that had stopped there. It says, on standard error, that the attempt runs and how to follow it.
     */
    @Test
    void logsOfARunningAttemptThatHasWrittenSomethingSaysItStillRuns() throws Exception {
        Path go = server.dir.resolve("go-busy");
        server.replaceRules("rules:\n  - name: busy\n    run:\n      command: [/bin/sh, -c,"
                + " 'echo first half; while [ ! -f \"$0\" ]; do sleep 0.1; done; echo second half', '" + go + "']\n");
        await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().contains("busy"));
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();

        try {
            await().atMost(java.time.Duration.ofSeconds(60)).until(() -> cli.run("logs", job) == ExitCodes.OK
                    && cli.out().equals("first half\n"));
            assertThat(cli.err()).isEqualTo("[buildhook] attempt 1 of job " + job + " is RUNNING: the output above is"
                    + " its log so far (buildhook logs -f " + job + " follows it)\n");
            assertThat(cli.run("logs", job, "--attempt", "1")).isZero();
            assertThat(cli.err()).contains("is RUNNING: the output above is its log so far");
        } finally {
            Files.writeString(go, "");
        }
    }

    @Test
    void logsFollowOfAFailedJobEndsWithItsOutcomeAndExits1() throws Exception {
        server.replaceRules("rules:\n  - name: broken\n    run:\n      command: [/bin/sh, -c, 'echo oops; exit 3']\n");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().contains("broken"));
        String failed = server.awaitJob(server.deliver("build-67-passed.json"), "FAILED").path("id").asText();

        assertThat(cli.run("logs", "-f", failed)).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.out()).isEqualTo("oops\n[buildhook] job " + failed + " FAILED: exited with 3 (1 attempt(s))\n");
    }

    /**
     * tryout15 F1: {@code logs -f} of a job whose first attempt failed and that had a retry left ended
     * with that attempt, printing {@code QUEUED: exited with 3} and exiting 1, so {@code logs -f JOB &&
     * next} gave up on a job that went on to succeed. It follows the retry too, to the job's end.
     */
    @Test
    void logsFollowOfAJobWithARetryLeftFollowsTheRetryToTheJobsEnd() throws Exception {
        Path go = server.dir.resolve("go");
        Path once = server.dir.resolve("failed-once");
        Files.writeString(server.dir.resolve("flaky.sh"), "if [ -f '" + once + "' ]; then echo second; exit 0; fi\n"
                + "echo first\nwhile [ ! -f '" + go + "' ]; do [ -d '" + server.dir + "' ] || exit 1; sleep 0.1; done\n"
                + ": > '" + once + "'\nexit 3\n");
        server.replaceRules("rules:\n  - name: flaky\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("flaky.sh") + "']\n      retries: 1\n      backoff: 1s\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("flaky");
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();
        StringWriter following = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(following, true));
        cl.setErr(new PrintWriter(following, true));
        java.util.concurrent.CompletableFuture<Integer> code = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cl.execute("logs", "-f", job, "--url", server.uri().toString(),
                        "--token-file", dir.resolve("admin-token").toString()));
        await().atMost(Duration.ofSeconds(30)).until(() -> following.toString().contains("first\n"));

        Files.writeString(go, "");

        assertThat(code.get(60, java.util.concurrent.TimeUnit.SECONDS)).as(following.toString()).isZero();
        // What the job waits for, once (tryout21 F6): not "QUEUED: exited with 3" again.
        assertThat(following.toString()).matches("first\n\\[buildhook\\] attempt 1 of job " + job + " ended FAILED \\(exited"
                + " with 3\\); the job is QUEUED \\(waiting for retry 1 of 1 \\(attempt 2\\), due at \\S+Z \\(backoff 1s\\)\\):"
                + " the log of its next attempt follows once it runs\nsecond\n\\[buildhook\\] job " + job
                + " SUCCEEDED: exited with 0 \\(2 attempt\\(s\\)\\)\n");
    }

    /**
     * tryout15 F2: an admin command run on a systemd host without the unit's --config read the
     * installation's configuration, and said only "no admin token: /root/data/admin-token is not
     * readable": a path the operator never configured. It names the configuration it read and the
     * --config to give.
     */
    @Test
    void aMissingAdminTokenNamesTheConfigurationItWasLookedForInAndTheConfigOption() throws Exception {
        Path other = Files.createDirectories(dir.resolve("other"));
        Path yaml = Files.writeString(other.resolve("buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n");

        assertThat(jobsWithoutAToken(yaml)).contains("no admin token: " + other.resolve("data").resolve("admin-token")
                + " is not readable (the admin-token in the data folder of " + yaml + ")")
                .contains("is asked with the same --config").contains("--token-file FILE")
                .doesNotContain("relative to the working directory");
    }

    /**
     * tryout21 F8.5: run from another folder ({@code cd / && bin/buildhook jobs}), a configuration without
     * data-dir looks for the token under the working directory's ./data; the message named that path but
     * not why it is there. It says the default is relative to the working directory, and what to do.
     */
    @Test
    void aMissingAdminTokenUnderTheDefaultDataDirSaysItIsTheWorkingDirectorysAndWhatToDo() throws Exception {
        Path other = Files.createDirectories(dir.resolve("conf"));
        Path yaml = Files.writeString(other.resolve("buildhook.yaml"), "admin:\n  token: generate\n");
        Path cwd = Path.of("").toAbsolutePath();
        assertThat(cwd.resolve("data").resolve("admin-token")).as("no token in the test's working directory")
                .doesNotExist();
        assertThat(jobsWithoutAToken(yaml)).contains("no admin token: " + cwd.resolve("data").resolve("admin-token"))
                .contains("whose data-dir is the default ./data: relative to the working directory (" + cwd + ")")
                .contains("Run this command from the folder 'serve' ran in, or give data-dir an absolute path");

        // tryout50 F1: the same folder written as data-dir is the configuration's, not the default.
        Files.writeString(yaml, "data-dir: " + cwd.resolve("data") + "\nadmin:\n  token: generate\n");
        assertThat(jobsWithoutAToken(yaml)).contains("no admin token: " + cwd.resolve("data").resolve("admin-token"))
                .doesNotContain("default ./data").doesNotContain("relative to the working directory")
                .doesNotContain("give data-dir an absolute path");
    }

    /** What {@code jobs --config yaml} says on its error stream; it must exit 3, as no token can be read. */
    private String jobsWithoutAToken(Path yaml) {
        StringWriter said = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(said, true));

        int code = cl.execute("jobs", "--config", yaml.toString(), "--url", server.uri().toString());

        assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
        return said.toString();
    }

    /**
     * review11 F5: a job whose own last line starts like the server's "the log follow stopped" notice
     * (a script that echoes buildhook's notes) made {@code logs -f} exit 3 without the job's state.
     */
    @Test
    void logsFollowOfAJobWhoseLastLineLooksLikeTheStopNoticeEndsWithItsOutcome() throws Exception {
        server.replaceRules("rules:\n  - name: echoes\n    run:\n      command: [/bin/sh, -c,"
                + " 'echo \"[buildhook] the log follow stopped: not really\"']\n");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().contains("echoes"));
        String done = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();

        assertThat(cli.run("logs", "-f", done)).isZero();
        assertThat(cli.out()).isEqualTo("[buildhook] the log follow stopped: not really\n[buildhook] job " + done
                + " SUCCEEDED: exited with 0 (1 attempt(s))\n");
    }

    @Test
    void jobShowPrintsArgvEnvWorkdirAndEveryAttempt() throws Exception {
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();

        assertThat(cli.run("job", "show", jobId)).isZero();

        assertThat(cli.out())
                .contains("job       " + jobId + "  SUCCEEDED (exit 0)")
                .contains("rule      echo")
                .contains("argv      [\"/bin/sh\",\"" + dir.resolve("echo.sh") + "\",\"67\"]")
                .contains("workdir   (the runner's default, runner.workdir)")
                .contains("limits    timeout 30s, retries 0")
                .contains("  BUILDHOOK_BUILD_ID=\"67\"")
                .contains("attempts  1")
                .containsPattern("  #1 SUCCEEDED exit 0  \\S+ \\.\\. \\S+  on ");
        assertThat(cli.run("job", "show", jobId, "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("attempts")).hasSize(1);
    }

    /**
     * wording15: {@code job show} printed the API's {@code 600s} where the log and the status page say
     * {@code 10m}, and "-" for the end of an attempt that ended at a time nobody recorded (its node died on
     * another host), as for one still running.
     */
    @Test
    void jobShowWritesDurationsAsTheLogDoesAndAnUnrecordedEndAsUnknown() throws Exception {
        com.fasterxml.jackson.databind.JsonNode answer = AdminServer.json("{\"job\": {\"id\": \"01J\","
                + " \"state\": \"FAILED\", \"exitCode\": 3, \"rule\": \"deploy\", \"runName\": null,"
                + " \"delivery\": \"01D\", \"rerunOf\": null, \"message\": \"exited with 3\", \"argv\": [],"
                + " \"workdir\": null, \"timeout\": \"600s\", \"retries\": 1, \"backoff\": \"1500ms\","
                + " \"concurrency\": 0, \"stdin\": false, \"env\": {}, \"attempts\": 2},"
                + " \"attempts\": [{\"attempt\": 1, \"outcome\": \"FAILED\", \"exitCode\": 3,"
                + " \"startedAt\": \"2026-12-01T10:00:00Z\", \"endedAt\": null, \"node\": \"a\", \"message\": null},"
                + " {\"attempt\": 2, \"outcome\": \"RUNNING\", \"exitCode\": null,"
                + " \"startedAt\": \"2026-12-01T10:05:00Z\", \"endedAt\": null, \"node\": \"b\", \"message\": null}],"
                + " \"actions\": []}");
        java.io.StringWriter printed = new java.io.StringWriter();

        JobCommand.Show.print(answer, new java.io.PrintWriter(printed, true));

        assertThat(printed.toString()).contains("limits    timeout 10m, retries 1, backoff 1.5s, concurrency no limit")
                .contains("  #1 FAILED exit 3  2026-12-01T10:00:00Z .. unknown  on a")
                .contains("  #2 RUNNING  2026-12-01T10:05:00Z .. -  on b");
    }

    /**
     * units32 L1: {@code job show} says which units of shared resources each attempt held (the API's {@code units},
     * V20), and nothing for an attempt without them or an older server's answer without the field.
     */
    @Test
    void jobShowSaysWhichUnitsEachAttemptHeld() throws Exception {
        com.fasterxml.jackson.databind.JsonNode answer = AdminServer.json("{\"job\": {\"id\": \"01J\","
                + " \"state\": \"RUNNING\", \"exitCode\": null, \"rule\": \"flash\", \"runName\": null,"
                + " \"delivery\": \"01D\", \"rerunOf\": null, \"message\": null, \"argv\": [],"
                + " \"workdir\": null, \"timeout\": \"600s\", \"retries\": 0, \"backoff\": \"1s\","
                + " \"concurrency\": 0, \"stdin\": false, \"env\": {}, \"attempts\": 3},"
                + " \"attempts\": [{\"attempt\": 1, \"outcome\": \"INTERRUPTED\", \"exitCode\": null,"
                + " \"startedAt\": \"2026-12-01T10:00:00Z\", \"endedAt\": null, \"node\": \"a\", \"message\": null},"
                + " {\"attempt\": 2, \"outcome\": \"INTERRUPTED\", \"exitCode\": null,"
                + " \"startedAt\": \"2026-12-01T10:01:00Z\", \"endedAt\": null, \"node\": \"a\", \"message\": null,"
                + " \"units\": {}},"
                + " {\"attempt\": 3, \"outcome\": \"RUNNING\", \"exitCode\": null,"
                + " \"startedAt\": \"2026-12-01T10:05:00Z\", \"endedAt\": null, \"node\": \"b\", \"message\": null,"
                + " \"units\": {\"lab-boards\": [1, 3], \"db\": [2]}}],"
                + " \"actions\": []}");
        java.io.StringWriter printed = new java.io.StringWriter();

        JobCommand.Show.print(answer, new java.io.PrintWriter(printed, true));

        assertThat(printed.toString()).contains("  #1 INTERRUPTED  2026-12-01T10:00:00Z .. unknown  on a\n")
                .contains("  #2 INTERRUPTED  2026-12-01T10:01:00Z .. unknown  on a\n")
                .contains("  #3 RUNNING  2026-12-01T10:05:00Z .. -  on b  units lab-boards 1,3; db 2\n");
    }

    /**
     * {@code logs -f} took an attempt without {@code endedAt} for one still running: since an attempt whose
     * end nobody recorded keeps it null (wording15), the follow stopped at it instead of waiting for the
     * job's retry. An attempt has ended once its outcome is no longer RUNNING.
     */
    @Test
    void logsFollowTakesAnAttemptWithAnUnknownEndForEnded() throws Exception {
        assertThat(LogsCommand.attemptEnded(AdminServer.json("{\"outcome\": \"FAILED\", \"endedAt\": null}")))
                .isTrue();
        assertThat(LogsCommand.attemptEnded(AdminServer.json("{\"outcome\": \"RUNNING\", \"endedAt\": null}")))
                .isFalse();
        assertThat(LogsCommand.attemptEnded(AdminServer.json(
                "{\"outcome\": \"SUCCEEDED\", \"endedAt\": \"2026-12-01T10:00:00Z\"}"))).isTrue();
    }

    /**
     * tryout33 F7: secrets under names outside the old list ({@code DB_PWD}, {@code GITHUB_PAT},
     * {@code SLACK_WEBHOOK_URL}) and a credential in the command (an Authorization header, a URL's password,
     * the argument after {@code --password}) were shown in clear by job show, the admin API (argv, env,
     * ruleSnapshot) and the job page. None of them shows a secret now; the job itself got the real values.
     */
    @Test
    void jobShowTheApiAndTheJobPageHideSecretsWhateverTheirNameAndInTheCommand() throws Exception {
        Path seen = dir.resolve("seen.txt");
        server.replaceRules("rules:\n  - name: argsecret\n    when: {status: PASSED}\n    run:\n"
                + "      command: [/bin/sh, -c, 'printf \"%s|\" \"$@\" \"$DB_PWD\" > " + seen + "', sh,"
                + " \"Authorization: Bearer sk-live-abc123\", --password, hunter3, \"https://deploy:s3cr3tpw@git.example.com/x\","
                + " \"OSF-TOKEN: tok-OSF-pppp9090\", \"X-Api-Key: tok-XAPI-ffff6666\"]\n"
                + "      env: {SLACK_WEBHOOK_URL: \"https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX\","
                + " GITHUB_PAT: ghp_abcdef123456, DB_PWD: hunter2, TARGET: staging, FOUNDRIES_BEARER: tok-BEARER-eeee5555}\n");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().equals(List.of("argsecret")));
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        List<String> secrets = List.of("sk-live-abc123", "hunter3", "s3cr3tpw", "XXXXsecretXXXX", "abcdef123456",
                "hunter2", "pppp9090", "ffff6666", "eeee5555");

        assertThat(Files.readString(seen)).as("the job gets the real values")
                .isEqualTo("Authorization: Bearer sk-live-abc123|--password|hunter3|https://deploy:s3cr3tpw@git.example.com/x|"
                        + "OSF-TOKEN: tok-OSF-pppp9090|X-Api-Key: tok-XAPI-ffff6666|hunter2|");
        assertThat(cli.run("job", "show", jobId)).isZero();
        assertThat(cli.out()).doesNotContain(secrets).contains("  DB_PWD=\"***\"", "  GITHUB_PAT=\"***\"",
                "  SLACK_WEBHOOK_URL=\"***\"", "  TARGET=\"staging\"", "\"Authorization: Bearer ***\"",
                "\"--password\",\"***\"", "\"https://deploy:***@git.example.com/x\"", "\"OSF-TOKEN: ***\"",
                "\"X-Api-Key: ***\"", "  FOUNDRIES_BEARER=\"***\"");
        HttpResponse<String> api = server.get("jobs/" + jobId);
        assertThat(api.statusCode()).isEqualTo(200);
        assertThat(api.body()).doesNotContain(secrets).contains("Authorization: Bearer ***", "\"DB_PWD\":\"***\"");
        assertThat(server.get("jobs?limit=5").body()).doesNotContain(secrets);
        String page = server.page("?job=" + jobId, server.signIn()).body();
        assertThat(page).doesNotContain(secrets).contains("Authorization: Bearer ***", "OSF-TOKEN: ***").contains("TARGET");
    }

    @Test
    void jobShowPrintsTheEnvironmentSortedByNameWithSecretLookingValuesMasked() throws Exception {
        server.replaceRules("rules:\n  - name: env\n    when: {status: PASSED}\n    run:\n      command: [/bin/true]\n"
                + "      env: {ZED: last, DEPLOY_TOKEN: s3cr3t-value, ALPHA: first, MIDDLE: m}\n");
        await().atMost(Duration.ofSeconds(30)).until(() -> server.app().rules().current().ruleNames().equals(List.of("env")));
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();

        assertThat(cli.run("job", "show", jobId)).isZero();

        List<String> lines = cli.out().lines().toList();
        List<String> env = lines.subList(lines.indexOf("env") + 1, lines.size()).stream()
                .takeWhile(l -> l.startsWith("  ")).map(l -> l.substring(2, l.indexOf('='))).toList();
        assertThat(env).contains("ALPHA", "BUILDHOOK_BUILD_ID", "DEPLOY_TOKEN", "MIDDLE", "ZED").isSorted();
        assertThat(cli.out()).contains("  DEPLOY_TOKEN=\"***\"").doesNotContain("s3cr3t-value");
        assertThat(cli.run("job", "show", jobId, "--json")).isZero();
        assertThat(cli.out()).doesNotContain("s3cr3t-value");
    }

    /**
     * tryout47b F4: the jobs of a {@code runs: {match: each}} rule differed only by id in {@code jobs}: which board's
     * test failed took a {@code job show} of each. The RUN column (last but one, so the columns before it keep their
     * places), the API's {@code runName} in the list, and {@code --run NAME}.
     */
    @Test
    void jobsShowsTheRunOfEachJobOfARunsEachRuleAndFiltersByIt() throws Exception {
        server.replaceRules("rules:\n  - name: each\n    when: {status: PASSED, runs: {match: each, name: \"build-a*\"}}\n"
                + "    run:\n      command: [/bin/true]\n");
        await().atMost(Duration.ofSeconds(30)).until(() -> server.app().rules().current().ruleNames().equals(List.of("each")));
        String delivery = server.deliver("build-67-passed.json");
        await().atMost(Duration.ofSeconds(30)).until(() -> server.getJson("jobs?delivery=" + delivery).path("items")
                .findValuesAsText("state").equals(List.of("SUCCEEDED", "SUCCEEDED", "SUCCEEDED")));

        assertThat(cli.run("jobs", "--rule", "each")).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines.get(0)).matches("JOB +RULE +STATE +ATTEMPTS +NODE +EXIT +CREATED +DELIVERY +RUN +MESSAGE");
        assertThat(lines.subList(1, lines.size())).hasSize(3)
                .allMatch(l -> l.substring(lines.get(0).indexOf("RUN")).startsWith("build-a"));
        assertThat(lines.stream().map(l -> l.substring(lines.get(0).indexOf("RUN")).split(" ")[0]).toList())
                .containsExactlyInAnyOrder("RUN", "build-amd64-partner", "build-armhf", "build-aarch64");
        assertThat(AdminServer.json(runJson("jobs", "--rule", "each")).path("items").findValuesAsText("runName"))
                .containsExactlyInAnyOrder("build-amd64-partner", "build-armhf", "build-aarch64");

        assertThat(cli.run("jobs", "--run", "build-armhf")).isZero();
        assertThat(cli.out().lines().toList()).hasSize(2);
        assertThat(cli.out().lines().toList().get(1)).contains(" each ").contains(" build-armhf ");
        assertThat(cli.run("jobs", "--run", "build-arm")).as("the whole name").isZero();
        assertThat(cli.out().lines().toList()).hasSize(1);
    }

    private String runJson(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--json");
        assertThat(cli.run(all.toArray(String[]::new))).isZero();
        return cli.out();
    }

    /**
     * review11 F8: a run name from the payload holding terminal escape sequences (fdc930e escaped the
     * tables and the message line, not the run name on job show's rule line, nor an attempt's message).
     */
    @Test
    void jobShowShowsControlCharactersOfARunNameInsteadOfSendingThemToTheTerminal() throws Exception {
        server.replaceRules("rules:\n  - name: each\n    when: {status: PASSED, runs: {match: each, name: \"build-armhf*\"}}\n"
                + "    run:\n      command: [/bin/true]\n");
        await().atMost(Duration.ofSeconds(30)).until(() -> server.app().rules().current().ruleNames().equals(List.of("each")));
        String body = AdminServer.fixture("build-67-passed.json").replace("\"build-armhf\"",
                "\"build-armhf\\u001b[2J\\u001b]0;EVIL\\u0007\\u009bWRITE\"");
        String jobId = server.awaitJob(server.deliverBody(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "SUCCEEDED").path("id").asText();

        assertThat(cli.run("job", "show", jobId)).isZero();

        assertThat(cli.out()).contains("rule      each  run build-armhf\\x1b[2J\\x1b]0;EVIL\\x07\\x9bWRITE")
                .doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u009b");
    }

    /**
     * tryout28 F5: a payload value in a job's argv or environment was escaped two ways in one value (Jackson's
     * {@code \\u001B} for ESC, then {@code \\x9b} for CSI); now as everywhere else on a terminal, {@code \\xNN},
     * and a backslash or quote of the value doubled so that the text {@code \\x1b} cannot pass for an escape.
     */
    @Test
    void jobShowEscapesArgvAndEnvironmentValuesOneWayAndUnambiguously() throws Exception {
        String value = "containers-devel\u001b]0;PWNED\u0007\u009b2J \\x1b \"q\"";
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode job = json.createObjectNode();
        job.put("id", "01J").put("state", "SUCCEEDED").put("rule", "echo").put("delivery", "01D").put("message", "ok")
                .put("timeout", "30s").put("retries", 0).put("backoff", "1s").put("concurrency", 0).put("stdin", false)
                .put("attempts", 0).putNull("exitCode").putNull("runName").putNull("rerunOf").putNull("workdir");
        job.putArray("argv").add("echo").add("trigger " + value);
        job.putObject("env").put("BUILDHOOK_TRIGGER", value);
        com.fasterxml.jackson.databind.node.ObjectNode answer = json.createObjectNode();
        answer.set("job", job);
        answer.putArray("attempts");
        answer.putArray("actions");
        java.io.StringWriter printed = new java.io.StringWriter();

        JobCommand.Show.print(answer, new java.io.PrintWriter(printed, true));

        String shown = "containers-devel\\x1b]0;PWNED\\x07\\x9b2J \\\\x1b \\\"q\\\"";
        assertThat(printed.toString()).contains("argv      [\"echo\",\"trigger " + shown + "\"]")
                .contains("  BUILDHOOK_TRIGGER=\"" + shown + "\"")
                .doesNotContain("\\u00").doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u009b");
    }

    /**
     * tryout50 F3: a refused payload value's message already shows the value escaped ({@code "inj\x0anewline"},
     * {@code holds '\x0a'}); {@code jobs}, {@code job show}, {@code logs} and the job's status page escaped it again,
     * doubling the backslash ({@code \\x0a}), which by operations.md's rule reads as a trigger holding the text
     * {@code \x0a}. A newline and a U+202E show single, the text of such an escape doubled, and nothing raw reaches
     * the terminal or the page.
     */
    @Test
    void aRefusedValuesMessageShowsItsEscapesOnceEverywhere() throws Exception {
        server.replaceRules("rules:\n  - name: inj\n    when: {status: PASSED}\n    run:\n"
                + "      command: [/bin/echo, inj, \"${build.trigger}\", \"1\"]\n");
        await().atMost(Duration.ofSeconds(30)).until(() -> server.app().rules().current().ruleNames()
                .equals(List.of("inj")));
        String body = AdminServer.fixture("build-67-passed.json");
        // As JSON writes them: a newline, U+202E, and the six characters backslash-u202e.
        String newline = refused(body, "inj\\nnewline");
        String bidi = refused(body, "inj\\u202eevil");
        String text = refused(body, "inj\\\\u202eevil");
        String before = "not started: rule 'inj' writes ${build.trigger} into argument 2 of 'command', and its value ";
        String newlineSays = before + "\"inj\\x0anewline\" is refused: it holds '\\x0a' at character 4";
        String bidiSays = before + "\"inj\\u202eevil\" is refused: it holds '\\u202e' at character 4";
        String textSays = before + "\"inj\\\\u202eevil\" is refused: it holds '\\' at character 4";

        assertThat(cli.run("jobs", "--rule", "inj")).isZero();
        assertThat(cli.out()).contains(newlineSays).contains(bidiSays).contains(textSays)
                .doesNotContain("\\\\x0a").doesNotContain("'\\\\u202e'").doesNotContain("\u202e");
        for (String[] job : List.of(new String[] {newline, newlineSays}, new String[] {bidi, bidiSays},
                new String[] {text, textSays})) {
            assertThat(cli.run("job", "show", job[0])).isZero();
            assertThat(cli.out()).contains("\nmessage   " + job[1]).doesNotContain("\u202e");
            assertThat(cli.run("logs", job[0])).as(cli.err()).isEqualTo(1);
            assertThat(cli.out() + cli.err()).contains(job[1]).doesNotContain("\u202e").doesNotContain("\\\\x0a");
            String page = server.page("?job=" + job[0], server.signIn()).body();
            String html = job[1].replace("'", "&#39;").replace("\"", "&quot;");
            assertThat(page).contains(html).doesNotContain("\u202e").doesNotContain("\\\\x0a")
                    .doesNotContain("&#39;\\\\u202e&#39;");
        }
    }

    /** The FAILED job of a delivery of {@code body} whose trigger is {@code trigger} (as JSON writes it). */
    private String refused(String body, String trigger) throws Exception {
        String delivery = server.deliverBody(body.replace("\"containers-devel\"", "\"" + trigger + "\"")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return server.awaitJob(delivery, "FAILED").path("id").asText();
    }

    /** As every admin command takes them after its name, 'job' takes them before 'show' too. */
    @Test
    void jobShowTakesTheAdminOptionsBeforeOrAfterShow() throws Exception {
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        Path data = Files.createDirectories(dir.resolve("other/data"));
        Files.writeString(data.resolve("admin-token"), AdminServer.TOKEN);
        Path yaml = Files.writeString(dir.resolve("other/buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n"
                + "server:\n  host: 127.0.0.1\n  port: " + server.server.port() + "\n");
        String token = dir.resolve("admin-token").toString();
        String url = server.uri().toString();
        List<List<String>> orders = List.of(
                List.of("job", "--config", yaml.toString(), "show", jobId),
                List.of("job", "show", "--config", yaml.toString(), jobId),
                List.of("job", "-c", yaml.toString(), "show", jobId, "--json"),
                List.of("job", "--url", url, "--token-file", token, "show", jobId),
                List.of("job", "--json", "show", "--url", url, "--token-file", token, jobId));
        for (List<String> args : orders) {
            StringWriter o = new StringWriter();
            StringWriter e = new StringWriter();
            CommandLine cl = BuildhookCommand.commandLine();
            cl.setOut(new PrintWriter(o, true));
            cl.setErr(new PrintWriter(e, true));

            assertThat(cl.execute(args.toArray(String[]::new))).as(args + ": " + e).isZero();
            assertThat(o.toString()).as(String.valueOf(args)).contains(jobId);
            assertThat(o.toString().startsWith("{")).as("JSON for " + args).isEqualTo(args.contains("--json"));
        }
    }

    @Test
    void deliveriesSayWhyADeliveryWasRejected() throws Exception {
        byte[] body = "{\"build_id\": 1}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var answer = server.http.send(java.net.http.HttpRequest.newBuilder(server.uri().resolve("webhook"))
                .header("X-JobServ-Sig", org.buildhook.core.Signer.sign(body,
                        AdminServer.SECRET.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(400);

        assertThat(cli.run("deliveries", "--outcome", "rejected")).isZero();

        assertThat(cli.out().lines().toList().get(0)).contains("REASON");
        assertThat(cli.out().lines().toList().get(1)).contains("REJECTED").contains("missing required field");
    }

    /**
     * A re-run or a replay of a job whose rule has an approval waits for one again; the commands used
     * to say "queued" of it, and the operator waited for a job nobody would approve.
     */
    @Test
    void rerunAndReplayOfARuleWithAnApprovalSayTheJobAwaitsOneAndHowToGiveIt() throws Exception {
        server.replaceRules("rules:\n  - name: gated\n    when: {status: PASSED}\n    approval: {expires: 1h}\n"
                + "    run:\n      command: [/bin/true]\n");
        server.app().rules().checkNow();
        String delivery = server.deliver("build-67-passed.json");
        String jobId = server.awaitJob(delivery, "AWAITING_APPROVAL").path("id").asText();

        assertThat(cli.run("rerun", jobId)).isZero();
        String rerun = cli.out().strip();
        assertThat(rerun).startsWith("job ").contains("(a re-run of " + jobId + ") awaits an approval before it runs:"
                + " buildhook approve ").doesNotContain("queued");
        String newJob = rerun.split(" ")[1];
        assertThat(server.getJson("jobs/" + newJob).path("job").path("state").asText()).isEqualTo("AWAITING_APPROVAL");
        assertThat(rerun).endsWith("buildhook approve " + newJob + " (or reject " + newJob + ")");
        // tryout36 F10: neither has run; "both will run" and "cancel" (which starts an on-cancel) were wrong here.
        assertThat(cli.err()).isEqualTo("[buildhook] warning: job " + jobId + " has not run yet: it awaits an"
                + " approval (AWAITING_APPROVAL); job " + newJob + ", its re-run, awaits one too: approving both"
                + " runs the build twice; reject one of them if that was not meant (buildhook reject " + newJob
                + "). A re-run of a job that has not ended is deprecated since 2026-12-01: a later version answers"
                + " 409 (approve or reject the job first, instead; a reject starts no follow-up, a cancel starts its"
                + " on-cancel)\n");

        assertThat(cli.run("replay", delivery)).isZero();
        assertThat(cli.out()).startsWith("1 job(s) made:").contains("  rule gated  awaits an approval")
                .doesNotContain("queued");
        assertThat(cli.run("replay", delivery, "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("states").toString()).isEqualTo("[\"AWAITING_APPROVAL\"]");

        // tryout21 F8.6: cancelling a job that had not started ends it at once; the command said "cancelling".
        assertThat(cli.run("cancel", newJob)).isZero();
        assertThat(cli.out().strip()).isEqualTo("cancelled job " + newJob + ": it had not started, so it will"
                + " not run");
        assertThat(server.getJson("jobs/" + newJob).path("job").path("state").asText()).isEqualTo("CANCELLED");
        assertThat(cli.run("cancel", newJob)).isZero();
        assertThat(cli.out().strip()).isEqualTo("job " + newJob + " had already ended; nothing to cancel (it is"
                + " CANCELLED)");
    }

    /**
     * {@code logs -f} of a job awaiting an approval used to print nothing until someone approved it
     * (up to its 10 minutes): it looked hung. It says what the job waits for, then follows it.
     */
    @Test
    void logsFollowOfAJobAwaitingAnApprovalSaysSoThenFollowsItOnceApproved() throws Exception {
        server.replaceRules("rules:\n  - name: gated\n    when: {status: PASSED}\n    approval: {expires: 1h}\n"
                + "    run:\n      command: [/bin/echo, approved-and-ran]\n");
        server.app().rules().checkNow();
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "AWAITING_APPROVAL").path("id").asText();
        StringWriter following = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(following, true));
        cl.setErr(new PrintWriter(following, true));
        java.util.concurrent.CompletableFuture<Integer> code = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cl.execute("logs", "-f", jobId, "--url", server.uri().toString(),
                        "--token-file", dir.resolve("admin-token").toString()));

        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> following.toString().contains("awaits an approval"));
        assertThat(following.toString()).startsWith("[buildhook] job " + jobId + " awaits an approval (until ")
                .contains("buildhook approve " + jobId);
        assertThat(cli.run("approve", jobId)).isZero();

        assertThat(code.get(60, java.util.concurrent.TimeUnit.SECONDS)).isZero();
        assertThat(following.toString()).contains("approved-and-ran").contains("[buildhook] job " + jobId + " SUCCEEDED");
    }

    /**
     * tryout13 F8: {@code logs -f} of a job held back by its rule's {@code concurrency} printed nothing
     * until the job before it ended, as it once did for an approval: it says what the job waits for.
     */
    @Test
    void logsFollowOfAJobWaitingForAConcurrencySlotSaysSoThenFollowsIt() throws Exception {
        server.replaceRules("rules:\n  - name: one-at-once\n    when: {status: FAILED}\n    run:\n"
                + "      command: [/bin/sh, '" + server.dir.resolve("wait.sh") + "']\n      concurrency: 1\n");
        server.app().rules().checkNow();
        server.awaitJob(server.deliver("build-68-failed.json"), "RUNNING");
        String jobId = server.awaitJob(server.deliverBody(AdminServer.fixture("build-68-failed.json")
                .replace("\"build_id\": 68", "\"build_id\": 69").getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "QUEUED").path("id").asText();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> server
                .getJson("jobs/" + jobId).path("job").path("message").asText().contains("concurrency slot"));
        StringWriter following = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(following, true));
        cl.setErr(new PrintWriter(following, true));
        java.util.concurrent.CompletableFuture<Integer> code = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cl.execute("logs", "-f", jobId, "--url", server.uri().toString(),
                        "--token-file", dir.resolve("admin-token").toString()));

        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> following.toString().contains("concurrency slot"));
        assertThat(following.toString()).startsWith("[buildhook] job " + jobId + " is waiting for a concurrency slot"
                + " of its rule").contains("; its log follows once it runs");
        Files.writeString(server.dir.resolve("go"), "");

        assertThat(code.get(60, java.util.concurrent.TimeUnit.SECONDS)).isZero();
        assertThat(following.toString()).contains("finished").contains("[buildhook] job " + jobId + " SUCCEEDED");
    }

    /**
     * review14 F12: the wait for a slot follows a job's own message (a retry's failure, or the
     * interruption of a job cut short by a stop: "stopped by the shutdown of node-b; run again; waiting for
     * a concurrency slot …", 1c245e0); {@code logs -f} said what it waits for only when the message began
     * with the wait, and printed nothing for such a job.
     */
    @Test
    void logsFollowOfAnInterruptedJobWaitingForAConcurrencySlotSaysSo() throws Exception {
        server.replaceRules("rules:\n  - name: one-at-once\n    when: {status: FAILED}\n    run:\n"
                + "      command: [/bin/sh, '" + server.dir.resolve("wait.sh") + "']\n      concurrency: 1\n");
        server.app().rules().checkNow();
        server.awaitJob(server.deliver("build-68-failed.json"), "RUNNING");
        String jobId = server.awaitJob(server.deliverBody(AdminServer.fixture("build-68-failed.json")
                .replace("\"build_id\": 68", "\"build_id\": 69").getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "QUEUED").path("id").asText();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> server
                .getJson("jobs/" + jobId).path("job").path("message").asText().contains("concurrency slot"));
        // As recording an interruption leaves it, the wait after it (what 1c245e0 writes).
        try (java.sql.Connection c = server.app().store().dataSource().getConnection();
                java.sql.PreparedStatement p = c.prepareStatement("UPDATE jobs SET message = ? || message WHERE id = ?")) {
            p.setString(1, "stopped by the shutdown of node-b; run again; ");
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        StringWriter following = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(following, true));
        cl.setErr(new PrintWriter(following, true));
        java.util.concurrent.CompletableFuture<Integer> code = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> cl.execute("logs", "-f", jobId, "--url", server.uri().toString(),
                        "--token-file", dir.resolve("admin-token").toString()));
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> following.toString().contains("concurrency slot"));
            assertThat(following.toString()).startsWith("[buildhook] job " + jobId + " is waiting for a concurrency"
                    + " slot of its rule").contains("(stopped by the shutdown of node-b; run again)")
                    .contains("; its log follows once it runs");
        } finally {
            Files.writeString(server.dir.resolve("go"), "");
        }
        assertThat(code.get(60, java.util.concurrent.TimeUnit.SECONDS)).isZero();
        assertThat(following.toString()).contains("[buildhook] job " + jobId + " SUCCEEDED");
    }

    @Test
    void rerunReplayAndCancelDoWhatTheySayAndExitNonZeroForUnknownIds() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        String jobId = server.awaitJob(delivery, "SUCCEEDED").path("id").asText();

        assertThat(cli.run("rerun", jobId)).isZero();
        assertThat(cli.out()).startsWith("queued job ").contains("a re-run of " + jobId);

        server.writeRules(true);
        assertThat(cli.run("replay", delivery, "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("jobs")).hasSize(2);
        assertThat(AdminServer.json(cli.out()).path("rules").toString()).isEqualTo("[\"echo\",\"also\"]");
        assertThat(cli.run("replay", delivery)).isZero();
        assertThat(cli.out()).startsWith("2 job(s) queued:").contains("  rule echo").contains("  rule also");

        String waiting = server.awaitJob(server.deliver("build-68-failed.json"), "RUNNING").path("id").asText();
        assertThat(cli.run("cancel", waiting)).isZero();
        assertThat(cli.out()).contains("cancelling job " + waiting + ": it is running; its node stops its"
                + " process tree within a few seconds");
        server.awaitJobState(waiting, "CANCELLED");
        assertThat(cli.run("cancel", waiting)).isZero();
        assertThat(cli.out()).contains("had already ended");

        assertThat(cli.run("rerun", "01AAAAAAAAAAAAAAAAAAAAAAAA")).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("no job 01AAAAAAAAAAAAAAAAAAAAAAAA");
    }

    /** Both are ULIDs, and {@code deliveries} lists a delivery's first: the 404 says which ids to use. */
    @Test
    void aDeliverysIdGivenForAJobsIsAnsweredWithItsJobs() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        String jobId = server.awaitJob(delivery, "SUCCEEDED").path("id").asText();

        for (String command : List.of("logs", "rerun")) {
            assertThat(cli.run(command, delivery)).as(command).isEqualTo(ExitCodes.FAILED);
            assertThat(cli.err()).as(command).contains("no job " + delivery + "; " + delivery
                    + " is a delivery's id; its job(s): " + jobId);
        }
    }

    /** tryout47b F5: the other way round, a job's id given to replay said only "no delivery X". */
    @Test
    void aJobsIdGivenToReplayIsAnsweredWithItsDeliveryAndRule() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        JsonNode job = server.awaitJob(delivery, "SUCCEEDED");
        String jobId = job.path("id").asText();
        String rule = job.path("rule").asText();

        assertThat(cli.run("replay", jobId, "--yes")).as(cli.out()).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("no delivery " + jobId + "; " + jobId + " is a job's id (rule " + rule
                + ") of delivery " + delivery + ": buildhook replay " + delivery + " --rule " + rule + " plans its rule"
                + " again for that build, buildhook rerun " + jobId + " runs this job again");
    }

    /**
     * An id is one path segment of the API's URL: text that is no id (a space, a {@code %}, a {@code /}
     * or {@code ..}, a {@code ?} or {@code #}) is refused as such, with usage's exit code, by every
     * command that takes one; never a stack trace, never another URL than meant.
     */
    @Test
    void everyCommandTakingAnIdRefusesTextThatIsNoIdSayingSo() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        server.awaitJob(delivery, "SUCCEEDED");
        List<List<String>> commands = List.of(List.of("job", "show"), List.of("logs"), List.of("rerun"),
                List.of("cancel"), List.of("approve"), List.of("reject"), List.of("replay"));
        for (List<String> command : commands) {
            for (String notAnId : List.of("a b", "%zz", "../../etc", "?limit=1", "#x", "")) {
                List<String> args = new ArrayList<>(command);
                args.add(notAnId);

                int code = cli.run(args.toArray(String[]::new));

                assertThat(code).as(command + " '" + notAnId + "': " + cli.err()).isEqualTo(ExitCodes.USAGE);
                assertThat(cli.err()).as(command + " '" + notAnId + "'")
                        .contains("'" + notAnId + "' is not an id").doesNotContain("Exception").doesNotContain("\tat ");
            }
        }
    }

    @Test
    void approveAndRejectDecideJobsAwaitingAnApprovalWithWhoAndWhenInTheAuditTrail() throws Exception {
        server.replaceRules("rules:\n  - name: gate\n    approval: {expires: 1h}\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("echo.sh") + "', '${build.id}']\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("gate");
        String approved = server.awaitJob(server.deliver("build-67-passed.json"), "AWAITING_APPROVAL").path("id").asText();
        String rejected = server.awaitJob(server.deliver("build-68-failed.json"), "AWAITING_APPROVAL").path("id").asText();

        assertThat(cli.run("jobs", "--state", "awaiting_approval")).isZero();
        assertThat(cli.out()).contains(approved).contains(rejected).contains("AWAITING_APPROVAL");
        // Not "-" (tryout15 F7): until when, in the words of job show and the status page.
        for (String id : List.of(approved, rejected)) {
            String expires = java.time.Instant.parse(server.getJson("jobs/" + id).path("job").path("expiresAt").asText())
                    .truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
            assertThat(cli.out()).containsPattern("(?m)^" + id + " .*AWAITING_APPROVAL .*  expires "
                    + java.util.regex.Pattern.quote(expires) + " unless approved or rejected$");
        }
        assertThat(cli.run("approve", approved)).isZero();
        assertThat(cli.out()).contains("approved job " + approved);
        assertThat(cli.run("reject", rejected)).isZero();
        assertThat(cli.out()).contains("rejected job " + rejected);

        server.awaitJobState(approved, "SUCCEEDED");
        JsonNode gone = server.awaitJobState(rejected, "REJECTED");
        assertThat(gone.path("actions").path(0).path("action").asText()).isEqualTo("reject");
        assertThat(gone.path("actions").path(0).path("actor").asText()).startsWith("token@");
        assertThat(gone.path("actions").path(0).path("at").asText()).isNotEmpty();
        assertThat(cli.run("approve", rejected)).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("is REJECTED, not awaiting an approval");
        // As the API answers (409), documented with cancel's 0 for a job that had ended (200, cancelled: false).
        assertThat(cli.run("reject", rejected)).as("a job rejected already").isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("is REJECTED, not awaiting an approval", "(409)");
        assertThat(cli.run("reject", approved)).as("a job approved and run").isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("is SUCCEEDED, not awaiting an approval", "(409)");
        assertThat(cli.run("cancel", rejected)).as("a job that ended without running").isZero();
        assertThat(cli.out()).contains("job " + rejected + " had already ended; nothing to cancel");
    }

    /**
     * {@code job show} printed no link of a workflow's jobs: not the job a follow-up follows, nor the
     * follow-ups a job started, nor when an approval expires, nor the audit trail (tryout11 F2): an
     * operator walking a chain needed {@code --json} and the delivery's whole job list.
     */
    static String byRule(JsonNode jobs, String rule) {
        for (JsonNode j : jobs) {
            if (j.path("rule").asText().equals(rule)) {
                return j.path("id").asText();
            }
        }
        throw new AssertionError("no job of rule " + rule + " in " + jobs);
    }

    @Test
    void jobShowLinksAFollowUpToItsParentAndFollowUpsAndShowsExpiryAndActions() throws Exception {
        server.replaceRules("rules:\n  - name: chain\n    when: {status: PASSED}\n    run:\n      command: [/bin/true]\n"
                + "    on-success:\n      command: [/bin/false]\n"
                + "  - name: gated\n    when: {status: FAILED}\n    approval: {expires: 1h}\n    run:\n"
                + "      command: [/bin/true]\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("chain", "gated");
        String delivery = server.deliver("build-67-passed.json");
        AtomicReference<JsonNode> jobs = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            jobs.set(server.getJson("deliveries/" + delivery).path("jobs"));
            return jobs.get().size() == 2 && jobs.get().findValuesAsText("state").containsAll(List.of("FAILED", "SUCCEEDED"));
        });
        String followUp = byRule(jobs.get(), "chain/on-success");
        String parent = byRule(jobs.get(), "chain");

        assertThat(cli.run("job", "show", followUp)).isZero();
        assertThat(cli.out()).contains("follows   " + parent + "\n").doesNotContain("follow-ups");
        assertThat(cli.run("job", "show", parent)).isZero();
        assertThat(cli.out()).contains("follow-ups\n  " + followUp + "  chain/on-success  FAILED\n")
                .doesNotContain("follows ");

        String gated = server.awaitJob(server.deliver("build-68-failed.json"), "AWAITING_APPROVAL").path("id").asText();
        String expires = server.getJson("jobs/" + gated).path("job").path("expiresAt").asText();
        assertThat(cli.run("job", "show", gated)).isZero();
        assertThat(cli.out()).contains("approval  expires " + expires + " unless approved or rejected (buildhook"
                + " approve " + gated + ")");
        // tryout50 F2: it has no message: '-' as in the tables, not Java's null.
        assertThat(cli.out()).contains("\nmessage   -\n").doesNotContain("null");
        assertThat(cli.run("reject", gated)).isZero();
        assertThat(cli.run("job", "show", gated)).isZero();
        assertThat(cli.out()).doesNotContain("expires ").containsPattern("actions\n  \\S+  reject by token@");
    }

    /**
     * {@code job show} and the job page looked for a job's follow-ups among its delivery's newest 500
     * jobs (review12 L9): after more re-runs or replays than that, a follow-up was not shown.
     */
    @Test
    void jobShowAndTheJobPageFindAFollowUpBehind500NewerJobsOfItsDelivery() throws Exception {
        Chain chain = chainThatSucceeded();
        String delivery = chain.delivery();
        String followUp = chain.followUp();
        String parent = chain.parent();
        // 501 newer jobs of the delivery, as replays add them; awaiting an approval, so none runs.
        org.buildhook.runner.PlannedJob gated = gated(null, 0);
        server.app().store().replay(delivery, java.util.Collections.nCopies(501, gated));

        assertThat(cli.run("job", "show", parent)).isZero();
        assertThat(cli.out()).contains("follow-ups\n  " + followUp + "  chain/on-success  SUCCEEDED\n");
        assertThat(server.page("?job=" + parent, server.signIn()).body())
                .contains("<th>Follow-ups</th><td><a class=\"job\" href=\"?job=" + followUp + "\">chain/on-success</a>");
        assertThat(server.getJson("jobs?parent=" + parent).path("items").findValuesAsText("id"))
                .containsExactly(followUp);
    }

    /**
     * review13 L5: {@code job show} and the job page listed every follow-up of a job, page after page of
     * the admin API: a job whose follow-ups were re-run thousands of times made both huge. They show its
     * newest 100 and say how to list them all: {@code buildhook jobs --parent}, which pages as every list
     * does (the admin API's {@code GET /api/jobs?parent=}).
     */
    @Test
    void jobShowAndTheJobPageShowTheNewest100FollowUpsAndSayHowToListThemAll() throws Exception {
        Chain chain = chainThatSucceeded();
        String delivery = chain.delivery();
        String followUp = chain.followUp();
        String parent = chain.parent();
        // 100 newer follow-ups of the same job, as re-runs of its follow-up add them; awaiting an approval,
        // so none runs.
        org.buildhook.runner.PlannedJob gated = gated(parent, 1);
        List<String> newer = server.app().store().replay(delivery, java.util.Collections.nCopies(100, gated));

        assertThat(cli.run("job", "show", parent)).isZero();
        String shown = cli.out();
        assertThat(shown).contains("follow-ups\n  " + newer.get(0) + "  gated  AWAITING_APPROVAL\n")
                .endsWith("  " + newer.get(99) + "  gated  AWAITING_APPROVAL\n  (only the newest 100 are shown:"
                        + " buildhook jobs --parent " + parent + " lists all)\n")
                .doesNotContain(followUp);
        assertThat(shown.split("  gated  AWAITING_APPROVAL\n", -1)).hasSize(101);
        String page = server.page("?job=" + parent, server.signIn()).body();
        assertThat(page).contains("<br><span class=\"more\">only the newest 100 are shown: <code>buildhook jobs --parent "
                + parent + "</code> lists all</span>").doesNotContain("href=\"?job=" + followUp + "\"");
        assertThat(page.split(">gated</a>", -1)).hasSize(101);

        assertThat(cli.run("jobs", "--parent", parent, "--limit", "500")).isZero();
        assertThat(cli.out()).contains(followUp).contains(newer.get(0)).contains(newer.get(99));
        assertThat(cli.err()).isEmpty();
        JsonNode firstPage = server.getJson("jobs?parent=" + parent);
        assertThat(firstPage.path("items")).hasSize(50);
        assertThat(firstPage.path("next").asText()).isEqualTo(newer.get(50));
    }

    /** A job of rule {@code gated} awaiting an approval for a day: it does not run while a test looks at it. */
    private static org.buildhook.runner.PlannedJob gated() {
        return gated(null, 1);
    }

    /**
     * As {@link #gated()}, a follow-up of {@code parent} ({@code null}: of none) at {@code depth} in its
     * workflow, as {@link org.buildhook.runner.JobWorkflow} counts it.
     */
    private static org.buildhook.runner.PlannedJob gated(String parent, int depth) {
        return new org.buildhook.runner.PlannedJob("gated", "name: gated", List.of("/bin/true"), java.util.Map.of(),
                null, false, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 0, null)
                .withWorkflow(new org.buildhook.runner.JobWorkflow(67L, null, false, Duration.ofDays(1),
                        java.util.Map.of(), java.util.Map.of(), null, parent, depth));
    }

    /** Build 67's delivery and its two jobs: {@code chain}'s and the follow-up it started. */
    private record Chain(String delivery, String parent, String followUp) {
    }

    /** Rules of one rule, {@code chain}, whose job starts an on-success follow-up; build 67 sent, both succeeded. */
    private Chain chainThatSucceeded() throws Exception {
        server.replaceRules("rules:\n  - name: chain\n    when: {status: PASSED}\n    run:\n      command: [/bin/true]\n"
                + "    on-success:\n      command: [/bin/true]\n");
        server.app().rules().checkNow();
        String delivery = server.deliver("build-67-passed.json");
        AtomicReference<JsonNode> jobs = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            jobs.set(server.getJson("deliveries/" + delivery).path("jobs"));
            return jobs.get().findValuesAsText("state").equals(List.of("SUCCEEDED", "SUCCEEDED"));
        });
        return new Chain(delivery, byRule(jobs.get(), "chain"), byRule(jobs.get(), "chain/on-success"));
    }

    /**
     * lists14: a job re-run thousands of times has thousands of admin actions, and its delivery as many jobs.
     * {@code GET /api/jobs/{id}} and {@code GET /api/deliveries/{id}} still list them all (operators' scripts
     * read them), and now also take {@code ?actions=N} and {@code ?jobs=N}: the newest N and the cursor of the
     * rest, in the new paged {@code GET /api/actions} (as {@code buildhook actions}) and {@code GET /api/jobs}.
     * {@code job show} prints the newest 100 actions and says how to list them all.
     */
    @Test
    void aJobsAndADeliverysActionsAndJobsAreListedAPageAtATimeAndJobShowPrintsTheNewest100() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        String job = server.awaitJob(delivery, "SUCCEEDED").path("id").asText();
        List<String> replayed = server.app().store().replay(delivery, java.util.Collections.nCopies(120, gated()));
        List<String> actions = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            actions.add(server.app().store().recordAction("token@127.0.0.1", "rerun", delivery, job,
                    "new job " + replayed.get(i)).id());
        }

        // The answers as they were: every action, every job, no new field.
        JsonNode whole = server.getJson("jobs/" + job);
        assertThat(whole.path("actions").findValuesAsText("id")).isEqualTo(actions);
        assertThat(whole.has("actionsNext")).isFalse();
        JsonNode wholeDelivery = server.getJson("deliveries/" + delivery);
        assertThat(wholeDelivery.path("jobs")).hasSize(121);
        assertThat(wholeDelivery.path("actions")).hasSize(120);
        assertThat(wholeDelivery.has("jobsNext")).isFalse();

        // Bounded on request: the newest, oldest first, and where the rest is.
        JsonNode newest = server.getJson("jobs/" + job + "?actions=100");
        assertThat(newest.path("actions").findValuesAsText("id")).isEqualTo(actions.subList(20, 120));
        assertThat(newest.path("actionsNext").asText()).isEqualTo(actions.get(20));
        assertThat(server.getJson("jobs/" + job + "?actions=120").path("actionsNext").isNull()).isTrue();
        JsonNode rest = server.getJson("actions?job=" + job + "&before=" + actions.get(20) + "&limit=500");
        assertThat(rest.path("items").findValuesAsText("id")).isEqualTo(reversed(actions.subList(0, 20)));
        assertThat(rest.path("next").isNull()).isTrue();
        JsonNode firstPage = server.getJson("actions?job=" + job);
        assertThat(firstPage.path("items")).hasSize(50);
        assertThat(firstPage.path("items").path(0).path("detail").asText()).isEqualTo("new job " + replayed.get(119));
        assertThat(firstPage.path("next").asText()).isEqualTo(actions.get(70));
        assertThat(server.getJson("actions?delivery=" + delivery + "&limit=1").path("items").path(0).path("id")
                .asText()).isEqualTo(actions.get(119));

        JsonNode bounded = server.getJson("deliveries/" + delivery + "?jobs=100&actions=10");
        assertThat(bounded.path("jobs").findValuesAsText("id")).isEqualTo(replayed.subList(20, 120));
        assertThat(bounded.path("jobsNext").asText()).isEqualTo(replayed.get(20));
        assertThat(server.getJson("jobs?delivery=" + delivery + "&before=" + replayed.get(20) + "&limit=500")
                .path("items").findValuesAsText("id")).hasSize(21).contains(job).contains(replayed.get(19));
        assertThat(bounded.path("actions").findValuesAsText("id")).isEqualTo(actions.subList(110, 120));
        assertThat(bounded.path("actionsNext").asText()).isEqualTo(actions.get(110));
        assertThat(bounded.path("delivery").path("bodyText").asText())
                .isEqualTo(wholeDelivery.path("delivery").path("bodyText").asText()).isNotEmpty();

        // A delivery's id given for a job's: the 404 names its newest 20 jobs, not all 121.
        assertThat(cli.run("logs", delivery)).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("no job " + delivery + "; " + delivery + " is a delivery's id; its newest 20"
                + " jobs: " + String.join(", ", replayed.subList(100, 120)) + " (buildhook jobs --delivery " + delivery
                + " lists all)");

        assertThat(server.get("jobs/" + job + "?actions=0").statusCode()).isEqualTo(400);
        assertThat(server.get("deliveries/" + delivery + "?jobs=501").statusCode()).isEqualTo(400);
        assertThat(server.get("actions?colour=red").statusCode()).isEqualTo(400);

        assertThat(cli.run("job", "show", job)).isZero();
        String shown = cli.out();
        assertThat(shown).contains("actions\n").contains("new job " + replayed.get(20) + "\n")
                .doesNotContain("new job " + replayed.get(19) + "\n")
                .contains("new job " + replayed.get(119) + "\n  (only the newest 100 are shown: buildhook actions --job "
                        + job + " lists all)\n");
        assertThat(shown.split("  rerun by token@127.0.0.1  new job ", -1)).hasSize(101);

        assertThat(cli.run("actions", "--job", job, "--limit", "500")).isZero();
        assertThat(cli.out()).contains(replayed.get(0)).contains(replayed.get(119));
        assertThat(cli.out().split("\n")).hasSize(121);
        assertThat(cli.run("job", "show", job, "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("actions")).hasSize(120);
    }

    /**
     * lists14's next step: the unbounded detail answers are deprecated before a later version bounds them.
     * They answer as before, with RFC 9745's {@code Deprecation} header, and the first use of each form is
     * logged once, naming the caller; the bounded forms carry no header. {@code logs} reads bounded answers
     * only, so following a job's log is not the deprecated use (nor an unbounded read at every poll).
     */
    @Test
    void theUnboundedDetailAnswersSayTheyAreDeprecatedAndTheFirstUseIsLoggedOnce() throws Exception {
        try (ApplicationLog log = new ApplicationLog("org.buildhook.servlet.UnboundedDetails")) {
            String delivery = server.deliver("build-67-passed.json");
            String job = server.awaitJob(delivery, "SUCCEEDED").path("id").asText();
            assertThat(cli.run("logs", job)).isZero();
            assertThat(log.lines()).noneMatch(l -> l.startsWith("GET /api/jobs/{id}"));

            for (int i = 0; i < 3; i++) {
                HttpResponse<String> whole = server.get("jobs/" + job);
                assertThat(whole.statusCode()).isEqualTo(200);
                assertThat(whole.headers().firstValue("Deprecation")).hasValue("@1796083200");
                assertThat(AdminServer.json(whole.body()).has("actionsNext")).isFalse();
            }
            assertThat(server.get("jobs/" + job + "?actions=5").headers().firstValue("Deprecation")).isEmpty();
            assertThat(server.get("deliveries/" + delivery + "?jobs=5").headers().firstValue("Deprecation"))
                    .hasValue("@1796083200");
            assertThat(server.get("deliveries/" + delivery + "?jobs=5&actions=5").headers()
                    .firstValue("Deprecation")).isEmpty();

            assertThat(log.lines()).filteredOn(l -> l.startsWith("GET /api/jobs/{id}")).singleElement()
                    .isEqualTo("GET /api/jobs/{id} without ?actions=N (from token@127.0.0.1) lists every item:"
                            + " deprecated since 2026-12-01; a later version answers with the newest 500 and the"
                            + " cursor of the rest; ask for ?actions=N (1 to 500) and page the rest with"
                            + " GET /api/actions?job=<id> (docs/operations.md); logged once per start");
            assertThat(log.lines()).filteredOn(l -> l.startsWith("GET /api/deliveries/{id}")).singleElement()
                    .asString().contains("without ?jobs=N&actions=N (from token@127.0.0.1)")
                    .contains("page the rest with GET /api/jobs?delivery=<id> and GET /api/actions?delivery=<id> (");
        }
    }

    /**
     * tryout16 F8: a re-run of a job that has not ended is a second job of the same build beside it (two
     * waiting for an approval ran the build twice once both were approved). The answer stays 202, as the
     * contract says; the log warns, naming both jobs and what to do, and says it is deprecated. So do the
     * command, on standard error, and the answer, in {@code warnings} and a {@code Deprecation} header: the
     * warning was only in the server's log, which the one who asked rarely reads (tryout35 F2).
     */
    @Test
    void aRerunOfAJobThatHasNotEndedIsWarnedAboutAndOneThatEndedIsNot() throws Exception {
        try (ApplicationLog log = new ApplicationLog("org.buildhook.servlet.AdminRequests")) {
            String running = server.awaitJob(server.deliver("build-68-failed.json"), "RUNNING").path("id").asText();
            assertThat(cli.run("rerun", running)).isZero();
            String second = cli.out().replaceAll("(?s).*job (\\S+) \\(a re-run of.*", "$1").strip();
            assertThat(log.warnings()).singleElement().asString()
                    .startsWith("admin token@127.0.0.1 re-ran job " + running + " as job " + second + ", but job "
                            + running + " has not ended (RUNNING): both will run, as two jobs of the same build;"
                            + " cancel one of them if that was not meant")
                    .contains("deprecated since 2026-12-01: a later version answers 409");
            assertThat(cli.err()).isEqualTo("[buildhook] warning: job " + running + " has not ended (RUNNING):"
                    + " both will run, as two jobs of the same build; cancel one of them if that was not meant"
                    + " (buildhook cancel " + second + "). A re-run of a job that has not ended is deprecated since"
                    + " 2026-12-01: a later version answers 409 (cancel the job first, or approve it, instead)\n");

            HttpResponse<String> answer = server.post("jobs/" + running + "/rerun");
            assertThat(answer.statusCode()).isEqualTo(202);
            assertThat(answer.headers().firstValue("Deprecation")).hasValue("@1796083200");
            JsonNode body = AdminServer.json(answer.body());
            assertThat(body.path("job").asText()).isNotEqualTo(second).hasSize(26);
            assertThat(body.has("state")).isTrue();
            assertThat(body.path("warnings")).singleElement().extracting(JsonNode::asText).asString()
                    .startsWith("job " + running + " has not ended (RUNNING): both will run")
                    .contains("(buildhook cancel " + body.path("job").asText() + ")");

            String ended = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
            assertThat(cli.run("rerun", ended)).isZero();
            assertThat(cli.err()).isEmpty();
            assertThat(log.warnings()).hasSize(2);
            HttpResponse<String> endedAnswer = server.post("jobs/" + ended + "/rerun");
            assertThat(endedAnswer.statusCode()).isEqualTo(202);
            assertThat(endedAnswer.headers().firstValue("Deprecation")).isEmpty();
            assertThat(AdminServer.json(endedAnswer.body()).path("warnings")).isEmpty();
        }
    }

    private static List<String> reversed(List<String> list) {
        List<String> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    /**
     * lists14: the job page read the job's whole delivery (its body, up to the body cap, and every one of
     * its jobs, which re-runs and replays make thousands) only to show its build, project and trigger. It
     * now reads the delivery's row alone. Seen here through the store: one of the delivery's 200 other jobs
     * is a row that cannot be read, which only a page reading the delivery's jobs trips over.
     */
    @Test
    void theJobPageReadsNeitherItsDeliverysBodyNorItsOtherJobs() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        String job = server.awaitJob(delivery, "SUCCEEDED").path("id").asText();
        List<String> others = server.app().store().replay(delivery, java.util.Collections.nCopies(200, gated()));
        try (java.sql.Connection c = server.app().store().dataSource().getConnection();
                java.sql.PreparedStatement p = c.prepareStatement("UPDATE jobs SET env = 'not JSON' WHERE id = ?")) {
            p.setString(1, others.get(100));
            assertThat(p.executeUpdate()).isEqualTo(1);
        }

        java.net.http.HttpResponse<String> page = server.page("?job=" + job, server.signIn());

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<th>Project</th><td>andy-corp/lmp").contains("<th>Trigger</th><td>containers-devel")
                .containsPattern("<th>Build</th><td>(<a [^>]*>)?67").contains(" received ").doesNotContain("(no longer stored)");
    }

    @Test
    void jobsAndJobShowSayWhatAWaitingJobWaitsFor() throws Exception {
        Files.writeString(server.dir.resolve("hold.sh"), "while [ ! -f '" + server.dir + "/go' ];"
                + " do [ -d '" + server.dir + "' ] || exit 1; sleep 0.1; done\n");
        server.replaceRules("resources: {boards: 1}\nrules:\n  - name: flash\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("hold.sh") + "']\n      resources: {boards: 1}\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("flash");
        String holding = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();
        String waiting = server.awaitJob(server.deliver("build-68-failed.json"), "WAITING").path("id").asText();

        assertThat(cli.run("jobs", "--state", "waiting")).isZero();
        assertThat(cli.out()).contains(waiting).contains("WAITING")
                .contains("waiting for boards: 1 wanted, 0 of 1 free").doesNotContain(holding);
        assertThat(cli.run("job", "show", waiting)).isZero();
        assertThat(cli.out()).contains("waiting for boards: 1 wanted, 0 of 1 free");
        assertThat(cli.run("job", "show", waiting, "--json")).isZero();
        assertThat(AdminServer.json(cli.out()).path("job").path("resources").path("boards").asInt()).isEqualTo(1);

        Files.writeString(server.dir.resolve("go"), "");
        server.awaitJobState(holding, "SUCCEEDED");
        server.awaitJobState(waiting, "SUCCEEDED");
    }

    @Test
    void aWrongTokenOrAnUnreachableServerIsExitCode3() throws Exception {
        Path wrong = Files.writeString(dir.resolve("wrong-token"), "nope");
        StringWriter e = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(e, true));

        assertThat(cl.execute("jobs", "--url", server.uri().toString(), "--token-file", wrong.toString()))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(e.toString()).contains("the server at " + server.uri() + " refused the admin token")
                .contains("give its address with --url");
        assertThat(cl.execute("jobs", "--url", "http://127.0.0.1:1/", "--token-file", wrong.toString()))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(e.toString()).contains("cannot reach http://127.0.0.1:1/");
    }

    /**
     * tryout13 F7: the webhook URL the server prints ({@code POST http://…/webhook}) given as {@code --url}
     * was answered "use POST to deliver a webhook (405)", which does not say what to give instead.
     */
    @Test
    void aWebhookUrlGivenAsUrlIsAUsageErrorNamingTheServersAddress() throws Exception {
        StringWriter e = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(e, true));
        String token = dir.resolve("admin-token").toString();

        for (String webhook : List.of("webhook", "webhook/default")) {
            assertThat(cl.execute("jobs", "--url", server.uri().resolve(webhook).toString(), "--token-file", token))
                    .isEqualTo(ExitCodes.USAGE);
            assertThat(e.toString()).contains(server.uri().resolve(webhook) + "/ is a webhook URL (where JobServ"
                    + " posts); --url wants the server's own address: --url " + server.uri());
        }
    }

    @Test
    void takesTheUrlAndTokenFromTheConfiguration() throws Exception {
        Path data = Files.createDirectories(dir.resolve("other/data"));
        Files.writeString(data.resolve("admin-token"), AdminServer.TOKEN);
        Path yaml = Files.writeString(dir.resolve("other/buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n"
                + "server:\n  host: 127.0.0.1\n  port: " + server.server.port() + "\n");
        StringWriter o = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(o, true));

        assertThat(cl.execute("jobs", "--config", yaml.toString(), "--json")).isZero();
        assertThat(AdminServer.json(o.toString()).path("items").isArray()).isTrue();
    }

    @Test
    void findTheServerWhereItsServeSaysItListensNotWhereTheConfigurationWouldHaveIt() throws Exception {
        Path data = Files.createDirectories(dir.resolve("other/data"));
        Files.writeString(data.resolve("admin-token"), AdminServer.TOKEN);
        // As 'serve --port 0' (or --port/--host flags) leaves it: the configuration's port is not the one in use.
        Path yaml = Files.writeString(dir.resolve("other/buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n"
                + "server:\n  host: 127.0.0.1\n  port: 1\n");
        ServerUrlFile.write(data, server.uri());
        StringWriter o = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(o, true));

        assertThat(cl.execute("jobs", "--config", yaml.toString(), "--json")).isZero();
        assertThat(AdminServer.json(o.toString()).path("items").isArray()).isTrue();
    }
}
