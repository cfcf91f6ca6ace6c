package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The longest durations a rule may have (3650d for {@code timeout}, {@code backoff} and
 * {@code approval.expires}) go through a real server: the delivery is stored (a longer one used to
 * overflow the store's milliseconds and answer every delivery 500), a failed attempt waits for its
 * retry, an approval waits ten years; one day more is refused by hot reload, and the rules in force
 * stay.
 */
@ExtendWith(AdminServerExtension.class)
class LongestRuleDurationsTest {

    static final String TEN_YEARS = "3650d";

    @Test
    void aRuleWithTheLongestDurationsIsStoredRunsAndWaitsForItsRetryAndApproval(AdminServer server) throws Exception {
        server.replaceRules("rules:\n"
                + "  - name: fails\n    when: {status: PASSED}\n    run:\n      command: [/bin/false]\n"
                + "      timeout: " + TEN_YEARS + "\n      retries: 2\n      backoff: " + TEN_YEARS + "\n"
                + "  - name: approved\n    when: {status: PASSED}\n    approval: {expires: " + TEN_YEARS + "}\n"
                + "    run:\n      command: [/bin/true]\n      timeout: " + TEN_YEARS + "\n");
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).containsExactly("fails", "approved");

        String delivery = server.deliver("build-67-passed.json");

        JsonNode jobs = server.getJson("deliveries/" + delivery).path("jobs");
        assertThat(jobs).hasSize(2);
        String fails = null;
        String approved = null;
        for (JsonNode job : jobs) {
            if (job.path("rule").asText().equals("fails")) {
                fails = job.path("id").asText();
            } else {
                approved = job.path("id").asText();
            }
        }
        JsonNode waiting = server.getJson("jobs/" + approved).path("job");
        assertThat(waiting.path("state").asText()).isEqualTo("AWAITING_APPROVAL");
        assertThat(Instant.parse(waiting.path("expiresAt").asText()))
                .isAfter(Instant.now().plus(Duration.ofDays(3649)));
        JsonNode retrying = server.awaitJobState(fails, "QUEUED");
        assertThat(retrying.path("job").path("attempts").asInt()).isEqualTo(1);
        assertThat(retrying.path("attempts").get(0).path("outcome").asText()).isEqualTo("FAILED");
    }

    @Test
    void aRulesFileWithADurationOverTenYearsIsRefusedByHotReloadAndTheRulesInForceStay(AdminServer server)
            throws Exception {
        server.replaceRules("rules:\n  - name: forever\n    run:\n      command: [/bin/true]\n      timeout: 3651d\n");
        server.app().rules().checkNow();

        assertThat(server.app().rules().current().ruleNames()).containsExactly("echo", "wait");
        String delivery = server.deliver("build-67-passed.json");
        assertThat(server.awaitJob(delivery, "SUCCEEDED").path("rule").asText()).isEqualTo("echo");
    }
}
