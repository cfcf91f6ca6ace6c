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
 * {@code SIGN_KEY_ID: main} had hidden every {@code main}.
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
