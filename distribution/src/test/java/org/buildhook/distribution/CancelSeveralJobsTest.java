package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buildhook cancel A B C} and {@code buildhook cancel --delivery D} against real servers (tryout47b F17: an
 * operator stopping what a bad build started had to loop over {@code cancel JOB}, a JVM start per job, racing the jobs
 * that started meanwhile): on SQLite, on PostgreSQL, and in a cluster of two nodes on PostgreSQL, where the delivery's
 * running job is stopped by the node that runs it when the other node is asked.
 */
class CancelSeveralJobsTest {

    /** How long a job may take to reach a state on a loaded machine: far beyond what it needs on a quiet one. */
    private static final Duration STATE_WAIT = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    private final List<AdminServer> servers = new ArrayList<>();
    private TestSchema pg;

    @AfterEach
    void stop() throws Exception {
        if (Files.isDirectory(dir.resolve("scripts"))) {
            Files.writeString(dir.resolve("scripts/go"), ""); // lets a job of a failed test end
        }
        for (AdminServer s : servers) {
            s.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /**
     * Build 68 (FAILED) fires {@code deploy} (runs until the file {@code go}, with an {@code on-cancel}), {@code held}
     * (awaits an approval), {@code quick} (ends at once) and {@code board} (waits for the one unit of {@code board},
     * which build 67's {@code other} holds while it runs until {@code go}); {@code deploy} and {@code board} have a
     * concurrency limit, so that the cancel takes their rules' turns (PostgreSQL) and passes them on.
     */
    private static String rules(Path scripts) {
        String wait = "[/bin/sh, '" + scripts.resolve("wait.sh") + "']";
        String echo = "/bin/sh, '" + scripts.resolve("echo.sh") + "'";
        return "rules:\n"
                + "  - name: other\n    when: {status: PASSED}\n    run:\n      command: " + wait
                + "\n      timeout: 5m\n      resources: {board: 1}\n"
                + "  - name: deploy\n    when: {status: FAILED}\n    run:\n      command: " + wait
                + "\n      timeout: 5m\n      concurrency: 1\n"
                + "    on-cancel:\n      command: [" + echo + ", cleanup]\n      timeout: 1m\n"
                + "  - name: held\n    when: {status: FAILED}\n    approval: {}\n    run:\n      command: [" + echo
                + ", held]\n      timeout: 1m\n"
                + "  - name: quick\n    when: {status: FAILED}\n    run:\n      command: [" + echo + ", quick]\n"
                + "      timeout: 1m\n"
                + "  - name: board\n    when: {status: FAILED}\n    run:\n      command: [" + echo + ", board]\n"
                + "      timeout: 1m\n      resources: {board: 1}\n      concurrency: 1\n"
                + "resources:\n  board: 1\n";
    }

    private AdminServer started(AdminServer s) {
        servers.add(s);
        return s;
    }

    /** The delivery's jobs by rule, once each job of {@code states} (rule → state) is in that state. */
    private static Map<String, JsonNode> awaitJobs(AdminServer server, String delivery, Map<String, String> states) {
        Map<String, JsonNode> byRule = new HashMap<>();
        await().atMost(STATE_WAIT).until(() -> {
            byRule.clear();
            for (JsonNode job : server.getJson("jobs?delivery=" + delivery).path("items")) {
                byRule.put(job.path("rule").asText(), job);
            }
            return states.entrySet().stream().allMatch(e -> byRule.containsKey(e.getKey())
                    && byRule.get(e.getKey()).path("state").asText().equals(e.getValue()));
        });
        return byRule;
    }

    @Test
    void cancelOfADeliveryCancelsItsJobsNotEndedOnSqlite() throws Exception {
        AdminServer server = started(AdminServer.withRules(dir, rules(dir)));
        aDeliverysJobsNotEndedAreCancelledAndNoOtherDeliverys(server);
    }

    @Test
    void cancelOfADeliveryCancelsItsJobsNotEndedOnPostgresql() throws Exception {
        pg = TestSchema.create("cancel_");
        AdminServer server = started(AdminServer.withRulesOn(dir, rules(dir), pg.storeUrl));
        aDeliverysJobsNotEndedAreCancelledAndNoOtherDeliverys(server);
    }

    private void aDeliverysJobsNotEndedAreCancelledAndNoOtherDeliverys(AdminServer server) throws Exception {
        AdminCli cli = new AdminCli(server);
        String passed = server.deliver("build-67-passed.json");
        String other = awaitJobs(server, passed, Map.of("other", "RUNNING")).get("other").path("id").asText();
        String failed = server.deliver("build-68-failed.json");
        Map<String, JsonNode> jobs = awaitJobs(server, failed, Map.of("deploy", "RUNNING", "held", "AWAITING_APPROVAL",
                "quick", "SUCCEEDED", "board", "WAITING"));
        String deploy = jobs.get("deploy").path("id").asText();

        assertThat(cli.run("cancel", "--delivery", failed)).as(cli.err()).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("delivery " + failed + ": 3 job(s) cancelled, 1 had already ended");
        assertThat(lines.subList(1, lines.size())).containsExactlyInAnyOrder(
                "cancelling job " + deploy + " (rule deploy): it is running; its node stops its process tree within a"
                        + " few seconds (buildhook job show " + deploy + " says when it has ended)",
                "cancelled job " + jobs.get("held").path("id").asText() + " (rule held): it had not started, so it"
                        + " will not run",
                "cancelled job " + jobs.get("board").path("id").asText() + " (rule board): it had not started, so it"
                        + " will not run");
        assertThat(cli.err()).isEmpty();

        // The running job stops; its on-cancel, which the cancel made, runs (it is not cancelled with the others).
        Map<String, JsonNode> after = awaitJobs(server, failed, Map.of("deploy", "CANCELLED", "held", "CANCELLED",
                "board", "CANCELLED", "quick", "SUCCEEDED", "deploy/on-cancel", "SUCCEEDED"));
        assertThat(after.get("deploy/on-cancel").path("parent").asText()).isEqualTo(deploy);
        // Another delivery's job is not touched.
        assertThat(server.getJson("jobs/" + other).path("job").path("state").asText()).isEqualTo("RUNNING");
        assertThat(server.getJson("jobs/" + other).path("job").path("cancelRequested").asBoolean()).isFalse();
        // Each cancel is in the audit trail, as a single cancel's.
        assertThat(server.getJson("actions?delivery=" + failed).path("items").findValuesAsText("action"))
                .containsOnly("cancel").hasSize(3);

        // Again: nothing left to cancel; --json is the API's answer.
        assertThat(cli.run("cancel", "--delivery", failed, "--json")).isZero();
        JsonNode again = AdminServer.json(cli.out());
        assertThat(again.path("delivery").asText()).isEqualTo(failed);
        assertThat(again.path("jobs")).isEmpty();
        assertThat(again.path("cancelled").asInt()).isZero();
        assertThat(again.path("ended").asInt()).isEqualTo(5);
        assertThat(cli.run("cancel", "--delivery", failed)).isZero();
        assertThat(cli.out()).isEqualTo("delivery " + failed + ": no job to cancel, 5 had already ended\n");

        // A delivery no one knows: 1; a job's id given as a delivery's says so.
        assertThat(cli.run("cancel", "--delivery", "01AAAAAAAAAAAAAAAAAAAAAAAA")).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("no delivery 01AAAAAAAAAAAAAAAAAAAAAAAA (404)");
        assertThat(cli.run("cancel", "--delivery", other)).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("no delivery " + other + "; " + other + " is a job's id (rule other) of"
                + " delivery " + passed + ": buildhook cancel " + other + " cancels that job");
        assertThat(server.getJson("jobs/" + other).path("job").path("state").asText()).isEqualTo("RUNNING");
        // The API: only POST.
        assertThat(server.get("deliveries/" + failed + "/cancel").statusCode()).isEqualTo(405);
    }

    @Test
    void severalIdsAreCancelledEachWithItsLineAndAnIdNotFoundDoesNotStopTheOthers() throws Exception {
        AdminServer server = started(AdminServer.withRules(dir, rules(dir)));
        AdminCli cli = new AdminCli(server);
        String failed = server.deliver("build-68-failed.json");
        Map<String, JsonNode> jobs = awaitJobs(server, failed, Map.of("deploy", "RUNNING", "held", "AWAITING_APPROVAL",
                "quick", "SUCCEEDED"));
        String deploy = jobs.get("deploy").path("id").asText();
        String held = jobs.get("held").path("id").asText();
        String quick = jobs.get("quick").path("id").asText();
        String unknown = "01AAAAAAAAAAAAAAAAAAAAAAAA";

        assertThat(cli.run("cancel", deploy, unknown, quick, held)).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.out().lines().toList()).containsExactly(
                "cancelling job " + deploy + ": it is running; its node stops its process tree within a few seconds"
                        + " (buildhook job show " + deploy + " says when it has ended)",
                "job " + unknown + " not found: no job " + unknown + " (404)",
                "job " + quick + " had already ended; nothing to cancel (it is SUCCEEDED)",
                "cancelled job " + held + ": it had not started, so it will not run");
        assertThat(cli.err()).isEqualTo("[buildhook] 1 of 4 job(s) not found; the others were cancelled or had already"
                + " ended\n");
        awaitJobs(server, failed, Map.of("deploy", "CANCELLED", "held", "CANCELLED"));

        // Every one found: 0; --json: each answer with its id.
        assertThat(cli.run("cancel", deploy, held, "--json")).isZero();
        JsonNode json = AdminServer.json(cli.out());
        assertThat(json.path("jobs").findValuesAsText("id")).containsExactly(deploy, held);
        assertThat(json.path("jobs").path(0).path("found").asBoolean()).isTrue();
        assertThat(json.path("jobs").path(0).path("cancelled").asBoolean()).isFalse();
        assertThat(json.path("jobs").path(1).path("state").asText()).isEqualTo("CANCELLED");

        // One id: as before.
        assertThat(cli.run("cancel", unknown)).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.out()).isEmpty();
        // Ids and --delivery, or neither: a usage mistake.
        assertThat(cli.run("cancel", deploy, "--delivery", failed)).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("give JOB ids or --delivery DELIVERY, not both");
        assertThat(cli.run("cancel")).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("Missing required parameter: 'JOB' (or --delivery DELIVERY)");

        // The server gone: the first id's failure stops the command, which names the ids it did not ask.
        String url = server.uri().toString();
        server.close();
        servers.remove(server);
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine gone = BuildhookCommand.commandLine();
        gone.setOut(new java.io.PrintWriter(out, true));
        gone.setErr(new java.io.PrintWriter(err, true));
        assertThat(gone.execute("cancel", quick, held, deploy, "--url", url, "--token-file",
                server.dir.resolve("admin-token").toString())).as(err.toString()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).startsWith("[buildhook] stopped at job " + quick + ", not cancelled (below); not asked: "
                + held + " " + deploy + "\n").contains("cannot reach ");
    }

    /**
     * A cluster: the delivery's running job runs on one node, the cancel is asked of the other; the node running it
     * stops it as it stops a job cancelled alone (its flag, seen within its cancel check).
     */
    @Test
    void aDeliverysJobRunningOnAnotherNodeIsStoppedByThatNode() throws Exception {
        pg = TestSchema.create("cancel_");
        Path scripts = Files.createDirectories(dir.resolve("scripts"));
        Files.writeString(scripts.resolve("echo.sh"), "printf 'line one\\nline two %s\\n' \"$1\"\n");
        Files.writeString(scripts.resolve("wait.sh"), "echo started\nwhile [ ! -f '" + scripts.resolve("go")
                + "' ]; do [ -d '" + scripts + "' ] || exit 1; sleep 0.1; done\necho finished\n");
        String rules = rules(scripts);
        AdminServer a = started(AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), pg.storeUrl,
                "node-a", rules));
        AdminServer b = started(AdminServer.clusterNode(Files.createDirectories(dir.resolve("b")), pg.storeUrl,
                "node-b", rules));
        String failed = a.deliver("build-68-failed.json");
        JsonNode deploy = awaitJobs(a, failed, Map.of("deploy", "RUNNING")).get("deploy");
        String deployId = deploy.path("id").asText();
        AdminServer notRunningIt = deploy.path("node").asText().equals("node-a") ? b : a;

        AdminCli cli = new AdminCli(notRunningIt);
        assertThat(cli.run("cancel", "--delivery", failed)).as(cli.err()).isZero();
        assertThat(cli.out()).contains("cancelling job " + deployId + " (rule deploy): it is running");
        awaitJobs(a, failed, Map.of("deploy", "CANCELLED", "deploy/on-cancel", "SUCCEEDED"));
        assertThat(Files.exists(scripts.resolve("go"))).isFalse();
        JsonNode attempt = a.getJson("jobs/" + deployId).path("attempts").path(0);
        assertThat(attempt.path("node").asText()).isEqualTo(deploy.path("node").asText());
        // The running-job cancel: its attempt CANCELLED (its process tree stopped, not ended by itself), the only one.
        assertThat(attempt.path("outcome").asText()).isEqualTo("CANCELLED");
        assertThat(a.getJson("jobs/" + deployId).path("attempts")).hasSize(1);
    }
}
