package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.store.Redaction;
import org.junit.jupiter.api.Test;

/**
 * review39 (e3eca6d8): a DSN given whole as a URL ({@code SENTRY_DSN_URL}) is masked wherever it appears, since a
 * Sentry DSN's key is its URL's user part; but a variable that names or locates a part of a DSN ({@code DB_DSN_USER:
 * admin}, {@code DB_DSN_PORT: 5432}, {@code ODBC_DSN_NAME: warehouse}) holds no secret, and masking its value everywhere
 * hid every {@code admin}, {@code 5432} and {@code warehouse} of the job's log and of the command shown, as mask36 L4's
 * {@code SIGN_KEY_ID: main} had hidden every {@code main}. The same for a webhook's parts ({@code WEBHOOK_PORT: 8080},
 * {@code WEBHOOK_HOST}; lead, session 39): a webhook given as a URL ({@code SLACK_WEBHOOK_URL}) or under a name ending
 * in {@code WEBHOOK} stays masked everywhere.
 */
class DsnPartsInTheLogTest extends LauncherTest {

    private static final String SENTRY = "https://4f1e2d3c9b@o1.ingest.example.io/7";

    private static Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DB_DSN_USER", "admin");
        env.put("DB_DSN_PORT", "5432");
        env.put("ODBC_DSN_NAME", "warehouse");
        env.put("SENTRY_DSN_URL", SENTRY);
        env.put("SENTRY_DSN_URI", "https://9a8b7c6d5e@o2.ingest.example.io/8");
        return env;
    }

    private static Map<String, String> webhookEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("WEBHOOK_PORT", "8080");
        env.put("WEBHOOK_HOST", "hooks.example.com");
        env.put("SLACK_WEBHOOK_ID", "B0123");
        env.put("SLACK_WEBHOOK_URL", "https://hooks.example.com/services/T0/B0123/XyZsecret1");
        env.put("TEAMS_WEBHOOK", "https://teams.example.com/webhookb2/abc/IncomingWebhook/def");
        env.put("SLACK_WEBHOOK_PATH", "/services/T0/B0123/XyZsecret2"); // the whole secret (review40 F3)
        return env;
    }

    @Test
    void theLogShowsThePartsAWebhookNamesAndMasksAWebhookGivenWhole() throws Exception {
        Path script = fixtures.script("webhook.sh", "printf 'listening on %s for %s (%s); posting to %s and %s (%s)\\n'"
                + " \"$WEBHOOK_PORT\" \"$WEBHOOK_HOST\" \"$SLACK_WEBHOOK_ID\" \"$SLACK_WEBHOOK_URL\" \"$TEAMS_WEBHOOK\""
                + " \"$SLACK_WEBHOOK_PATH\"\n"
                + "echo 'proxy 8080 up'");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("webhook-parts"), 1, List.of(script.toString()),
                webhookEnv(), null, null, Duration.ofMinutes(1)));

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        assertThat(Files.readString(outcome.logFile(), StandardCharsets.UTF_8)).isEqualTo(
                "listening on 8080 for hooks.example.com (B0123); posting to *** and *** (***)\nproxy 8080 up\n");
        List<String> shown = Redaction.redactArgv(List.of("relay", "--port", "8080", "--to",
                "https://hooks.example.com/services/T0/B0123/XyZsecret1"), webhookEnv());
        assertThat(shown).containsExactly("relay", "--port", "8080", "--to", "***");
        assertThat(Redaction.redact(webhookEnv())).as("each is still *** under its own name")
                .allSatisfy((name, value) -> assertThat(value).isEqualTo("***"));
    }

    @Test
    void theLogShowsThePartsADsnNamesAndMasksADsnGivenAsAUrl() throws Exception {
        Path script = fixtures.script("dsn.sh", "printf 'connecting as %s to port %s of %s; errors to %s and %s\\n'"
                + " \"$DB_DSN_USER\" \"$DB_DSN_PORT\" \"$ODBC_DSN_NAME\" \"$SENTRY_DSN_URL\" \"$SENTRY_DSN_URI\"\n"
                + "echo 'the admin user: done'");

        JobOutcome outcome = run(new JobRequest(Fixtures.jobId("dsn-parts"), 1, List.of(script.toString()), env(), null,
                null, Duration.ofMinutes(1)));

        assertThat(outcome.succeeded()).as(outcome.message()).isTrue();
        assertThat(Files.readString(outcome.logFile(), StandardCharsets.UTF_8)).isEqualTo(
                "connecting as admin to port 5432 of warehouse; errors to *** and ***\nthe admin user: done\n");
    }

    @Test
    void theCommandShownShowsThePartsADsnNamesAndMasksADsnGivenAsAUrl() {
        List<String> shown = Redaction.redactArgv(List.of("isql", "warehouse", "admin", "-p", "5432", "--sentry",
                SENTRY), env());

        assertThat(shown).containsExactly("isql", "warehouse", "admin", "-p", "5432", "--sentry", "***");
        assertThat(Redaction.redact(env())).as("each is still *** under its own name").containsOnlyKeys(env().keySet())
                .allSatisfy((name, value) -> assertThat(value).isEqualTo("***"));
    }
}
