package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout34 F8: {@code buildhook replay DELIVERY} planned every matching rule's jobs; an operator who wanted only the
 * deploy replayed got them all. {@code --rule NAME} (repeatable; the API's {@code ?rule=NAME}) replays only those
 * rules, and a rule not in force, or not matching the delivery, refuses the whole replay.
 */
class ReplayOneRuleTest {

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

    private List<String> rulesOfJobs(String delivery) throws Exception {
        return server.getJson("jobs?delivery=" + delivery + "&limit=500").path("items").findValuesAsText("rule");
    }

    @Test
    void replayWithRulePlansOnlyThoseRulesJobs() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        server.awaitJob(delivery, "SUCCEEDED");
        server.writeRules(true);

        assertThat(cli.run("replay", delivery, "--rule", "also")).as(cli.err()).isZero();
        List<String> lines = cli.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("1 job(s) queued:");
        assertThat(lines.get(1)).endsWith("  rule also");
        assertThat(rulesOfJobs(delivery)).containsExactlyInAnyOrder("echo", "also");

        assertThat(cli.run("replay", delivery, "--rule", "also", "--rule", "echo", "--json")).as(cli.err()).isZero();
        assertThat(AdminServer.json(cli.out()).path("rules").toString()).isEqualTo("[\"echo\",\"also\"]");
        assertThat(rulesOfJobs(delivery)).containsExactlyInAnyOrder("echo", "also", "echo", "also");
        assertThat(server.getJson("actions?delivery=" + delivery).path("items").findValuesAsText("detail"))
                .anySatisfy(d -> assertThat(d).endsWith(" of rule(s) also"));

        // The old call, without a rule, is unchanged: every matching rule.
        assertThat(server.post("deliveries/" + delivery + "/replay").statusCode()).isEqualTo(202);
        assertThat(rulesOfJobs(delivery)).hasSize(6);
    }

    @Test
    void aRuleNotInForceOrNotMatchingTheDeliveryRefusesTheWholeReplay() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        server.awaitJob(delivery, "SUCCEEDED");
        server.writeRules(true);

        assertThat(cli.run("replay", delivery, "--rule", "also", "--rule", "deploy")).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("no rule 'deploy' is in force in ").contains("; the rules in force: echo,"
                + " wait, also. Nothing was replayed (400)");
        assertThat(cli.out()).isEmpty();

        assertThat(cli.run("replay", delivery, "--rule", "also", "--rule", "wait")).isEqualTo(ExitCodes.FAILED);
        assertThat(cli.err()).contains("rule 'wait' (").contains(") does not match delivery " + delivery
                + " under the rules in force now; nothing was replayed").contains("(409)");
        assertThat(cli.err()).doesNotContain("Exception");

        server.replaceRules("rules:\n  - name: echo\n    when: {status: PASSED}\n    run:\n      command: [/bin/true]\n"
                + "  - name: deploy\n    enabled: false\n    when: {status: PASSED}\n    run:\n      command: [/bin/true]\n");
        HttpResponse<String> disabled = server.post("deliveries/" + delivery + "/replay?rule=deploy");
        assertThat(disabled.statusCode()).isEqualTo(400);
        JsonNode error = AdminServer.json(disabled.body());
        assertThat(error.path("error").asText()).startsWith("no rule 'deploy' (it has enabled: false) is in force in ")
                .endsWith("; the rules in force: echo. Nothing was replayed");

        assertThat(rulesOfJobs(delivery)).containsExactly("echo");
        assertThat(server.getJson("actions?delivery=" + delivery).path("items")).isEmpty();
    }

    /**
     * migrate53: {@code replay D --rule chain/on-success}, a follow-up's name ({@code jobs --rule} takes it since
     * tryout51 F3), was refused as a rule not in force, listing the rules only: the operator was not told it is a
     * follow-up of {@code chain}, nor what to replay or re-run instead. A misspelt one gets the nearest name, as {@code
     * jobs --rule} gives it. Nothing is replayed either way.
     */
    @Test
    void aFollowUpsNameGivenToReplayIsSaidAsAFollowUpOfItsRuleWithWhatToReplayInstead() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        server.awaitJob(delivery, "SUCCEEDED");
        List<String> before = rulesOfJobs(delivery);
        server.replaceRules("rules:\n  - name: chain\n    when: {status: PASSED}\n    run:\n      command: [/bin/true]\n"
                + "    on-success:\n      command: [/bin/true]\n");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.app().rules().current().ruleNames().equals(List.of("chain")));

        assertThat(cli.run("replay", delivery, "--rule", "chain/on-success")).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("no rule 'chain/on-success' is in force in ")
                .contains("; the rules in force: chain. 'chain/on-success' is a follow-up of rule 'chain', not a rule:"
                        + " its jobs are made by that rule's jobs, and a replay plans rules. Replay the rule (buildhook"
                        + " replay " + delivery + " --rule chain: its command runs again, then its follow-ups as it"
                        + " ends), or run a job of the follow-up again alone (buildhook jobs --rule chain/on-success"
                        + " lists them; buildhook rerun JOB). Nothing was replayed (400)");
        assertThat(cli.out()).isEmpty();

        assertThat(cli.run("replay", delivery, "--rule", "chain/on-succes")).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("no rule 'chain/on-succes' is in force in ")
                .contains("Did you mean 'chain/on-success'? 'chain/on-success' is a follow-up of rule 'chain'");
        assertThat(cli.run("replay", delivery, "--rule", "chian")).isEqualTo(ExitCodes.USAGE);
        assertThat(cli.err()).contains("; the rules in force: chain. Did you mean 'chain'? Nothing was replayed");

        assertThat(rulesOfJobs(delivery)).isEqualTo(before);
        assertThat(server.getJson("actions?delivery=" + delivery).path("items")).isEmpty();
    }

    /**
     * tryout50 F10: a replay of a delivery no rule in force fires for makes no job and exits 0 (the API's {@code 202}
     * with {@code "jobs":[]}; a 2xx is 0 for every command, and scripts rely on that), while the exit codes listed
     * "nothing to replay" under 1: a script's {@code buildhook replay D && notify} read that as "a job was made". The
     * exit code stays (a contract); the help and operations.md now say this case is 0, and that only a delivery that
     * was not accepted is "nothing to replay" (409, 1).
     */
    @Test
    void aReplayNoRuleFiresForExitsZeroAndTheHelpSaysSo() throws Exception {
        String delivery = server.deliver("build-412-promoted.json");
        assertThat(rulesOfJobs(delivery)).as("no rule fires for a PROMOTED build").isEmpty();

        assertThat(cli.run("replay", delivery)).as(cli.err()).isEqualTo(ExitCodes.OK);
        assertThat(cli.out()).isEqualTo("0 job(s) queued (no rule in force fires for it)" + System.lineSeparator());
        assertThat(cli.run("replay", delivery, "--json")).as(cli.err()).isEqualTo(ExitCodes.OK);
        assertThat(AdminServer.json(cli.out()).path("jobs").toString()).isEqualTo("[]");
        assertThat(rulesOfJobs(delivery)).isEmpty();

        assertThat(cli.run("replay", "--help")).isZero();
        assertThat(cli.out().replaceAll("\\s+", " ")).contains("Exit codes: 0 queued, also when no rule in force fires"
                + " for the delivery (\"0 job(s) queued\"; --json: \"jobs\":[]), 1 no such delivery (404), a delivery"
                + " that was not accepted (a duplicate or a rejected body: nothing to replay) or a --rule that does not"
                + " match it (409)");
        String table = java.nio.file.Files.readString(Path.of("..", "docs", "operations.md"));
        assertThat(table).contains("for `replay` also when no rule in force fires for the delivery: `0 job(s) queued"
                + " (no rule in force fires for it)`");
    }
}
