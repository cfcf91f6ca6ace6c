package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * words31 item 3 / words32: a job's command can print a line that reads exactly like one of buildhook's own notes
 * ({@code [buildhook] killed: …}), and the job's page showed it like buildhook's. In a real headless Chromium, a
 * real job whose command prints such a line and is then cancelled (buildhook's real {@code killed:} note follows):
 * the page marks buildhook's note (class {@code note}, a visible mark) and shows the command's look-alike as the
 * command's (class {@code lookalike}, "(printed by the command)"), with a line saying what the marks mean. The log
 * through the API stays the bytes as written. Skipped without Chromium, except on CI ({@code CI=true}).
 */
class ForgedNotesBrowserTest extends AdminServerInChromium {

    private static final String FORGED = "[buildhook] killed: cancelled; process tree terminated (forged)";

    @Test
    void theJobsPageMarksBuildhooksNotesAndShowsTheCommandsLookAlikeAsTheCommands() throws Exception {
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: forger\n    run:\n      command: [/bin/bash, -c, \"printf '%s\\\\n' '"
                + FORGED + "' working; exec sleep 600\"]\n      timeout: 10m\n");
        server.app().rules().checkNow();
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();
        await().atMost(Duration.ofSeconds(60)).until(() -> server.get("jobs/" + jobId + "/log").body()
                .contains("working\n"));
        assertThat(server.post("jobs/" + jobId + "/cancel").statusCode()).isEqualTo(200);
        server.awaitJobState(jobId, "CANCELLED");
        String raw = server.get("jobs/" + jobId + "/log").body();
        assertThat(raw).startsWith(FORGED + "\nworking\n[buildhook] killed: ");

        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        browser.get(server.uri() + "?job=" + jobId);

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("log-1")).getText().contains("working"));
        List<WebElement> notes = browser.findElements(By.cssSelector("#log-1 .note"));
        assertThat(notes).hasSize(1);
        assertThat(notes.get(0).getText()).startsWith("\u25c6 [buildhook] killed: ").doesNotContain("forged");
        List<WebElement> lookalikes = browser.findElements(By.cssSelector("#log-1 .lookalike"));
        assertThat(lookalikes).hasSize(1);
        assertThat(lookalikes.get(0).getText()).isEqualTo("(printed by the command) " + FORGED);
        assertThat(browser.findElement(By.id("log-legend-1")).getText())
                .isEqualTo("\u25c6 marks buildhook's own notes; a line marked (printed by the command) was printed"
                        + " by the command, whatever it says.");
        Chromium.screenshot(browser, "forged-note-marked.png");
    }

    /**
     * follow41's leftover: a command's line that begins with the note mark itself ({@code ◆ [buildhook] job …
     * SUCCEEDED}, as the page and a terminal mark buildhook's notes) or with {@code [buildhook] } after an invisible
     * character showed on the job's page unflagged, while {@code buildhook logs} on a terminal marks it "(printed by
     * the command)". In Chromium, a real job printing both, and a line with a diamond inside: the page marks the two
     * as the command's and says what the marks mean, the third as it is.
     */
    @Test
    void theJobsPageMarksACommandsLineBeginningWithTheNoteMarkAsTheCommandsAsATerminalDoes() throws Exception {
        String mark = "\u25c6 [buildhook] job 01M9325DK4DVVPF9VJSG1X19B8 SUCCEEDED: exited with 0 (1 attempt(s))";
        String hidden = "\u200b[buildhook] killed: timed out after 4s";
        server = AdminServer.start(dir);
        server.replaceRules("rules:\n  - name: forger\n    run:\n      command: [/usr/bin/printf, '%s\\n', '" + mark
                + "', '" + hidden + "', 'working \u25c6 inside']\n");
        server.app().rules().checkNow();
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        assertThat(server.get("jobs/" + jobId + "/log").body())
                .isEqualTo(mark + "\n" + hidden + "\nworking \u25c6 inside\n");

        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        browser.get(server.uri() + "?job=" + jobId);

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("log-1")).getText().contains("working"));
        assertThat(browser.findElements(By.cssSelector("#log-1 .note"))).isEmpty();
        List<WebElement> lookalikes = browser.findElements(By.cssSelector("#log-1 .lookalike"));
        assertThat(lookalikes).extracting(WebElement::getText).containsExactly("(printed by the command) " + mark,
                "(printed by the command) \\u200b[buildhook] killed: timed out after 4s");
        assertThat(browser.findElement(By.id("log-1")).getText()).endsWith("\nworking \u25c6 inside");
        assertThat(browser.findElement(By.id("log-legend-1")).getText())
                .isEqualTo("\u25c6 marks buildhook's own notes; a line marked (printed by the command) was printed"
                        + " by the command, whatever it says.");
        Chromium.screenshot(browser, "forged-note-mark-marked.png");
    }
}
