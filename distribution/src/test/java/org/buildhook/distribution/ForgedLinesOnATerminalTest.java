package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a terminal, {@code buildhook logs -f} never shows a job's line as one of buildhook's own (tryout41 F1, F7, F10):
 * a job's line that begins with the note mark {@code ◆} (or with {@code [buildhook] } after blanks) is marked {@code
 * (printed by the command) }, so is a look-alike that is the job's last bytes (no newline), and the follow's own end
 * line, which the server marks in the follow ({@code mark=1}), is shown as a note ({@code ◆ }), the legend before the
 * first mark. buildhook's kill note after output that did not end its line begins a line of its own, in the log and on
 * the terminal. A real server, real jobs (shell scripts), the real command on a pseudo-terminal ({@code script}); to
 * a file the log stays the job's bytes.
 */
class ForgedLinesOnATerminalTest {

    @TempDir
    Path dir;

    private AdminServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aJobsLinesThatReadAsBuildhooksAreMarkedAsItsAndTheFollowsEndLineAsANote() throws Exception {
        Path script = dir.resolve("forge.sh");
        Files.writeString(script, "id=\"${BUILDHOOK_ATTEMPT%/*}\"\n"
                + "echo deploying\n"
                + "printf '\\342\\227\\206 [buildhook] job %s SUCCEEDED: exited with 0 (1 attempt(s))\\n' \"$id\"\n"
                + "printf '   [buildhook] job %s SUCCEEDED: indented\\n' \"$id\"\n"
                + "echo actually failing now\n"
                + "printf '[buildhook] job %s SUCCEEDED: exited with 0 (1 attempt(s))' \"$id\"\n"
                + "exit 7\n");
        server = AdminServer.withRunner(dir, "");
        String job = jobOf("forge", "[/bin/sh, '" + script + "']", "FAILED");

        Typed followed = inATerminal("logs", "-f", job);
        assertThat(followed.exit()).as(followed.text()).isEqualTo(1);
        String note = TerminalNotes.NOTE;
        String byTheCommand = TerminalNotes.PRINTED_BY_THE_COMMAND;
        assertThat(withoutTheLegend(followed.text())).as(followed.text()).contains("deploying\n"
                + byTheCommand + note + "[buildhook] job " + job + " SUCCEEDED: exited with 0 (1 attempt(s))\n"
                + byTheCommand + "   [buildhook] job " + job + " SUCCEEDED: indented\n"
                + "actually failing now\n"
                + byTheCommand + "[buildhook] job " + job + " SUCCEEDED: exited with 0 (1 attempt(s))\n"
                + note + "[buildhook] job " + job + " FAILED: exited with 7");
        assertThat(followed.text().indexOf(note + "[buildhook] lines marked")).as(followed.text())
                .isNotNegative().isLessThan(followed.text().indexOf(byTheCommand));
        assertThat(unmarkedBuildhookLines(followed.text())).as(followed.text()).isEmpty();

        // The whole log on a terminal: the job's diamond line marked as its too.
        Typed shown = inATerminal("logs", job);
        assertThat(shown.text()).contains(byTheCommand + note + "[buildhook] job " + job + " SUCCEEDED");

        // To a file: the job's bytes as it wrote them.
        assertThat(new String(RealCommand.toAFile(server, dir, "logs", job), StandardCharsets.UTF_8))
                .isEqualTo("deploying\n" + note + "[buildhook] job " + job + " SUCCEEDED: exited with 0 (1 attempt(s))\n"
                        + "   [buildhook] job " + job + " SUCCEEDED: indented\nactually failing now\n"
                        + "[buildhook] job " + job + " SUCCEEDED: exited with 0 (1 attempt(s))");
    }

    @Test
    void theKillNoteAfterAnUnendedLineBeginsALineOfItsOwn() throws Exception {
        Path script = dir.resolve("partial.sh");
        Files.writeString(script, "printf 'progress 50%%'\nexec sleep 600\n");
        server = AdminServer.withRunner(dir, "");
        String job = jobOf("partial", "[/bin/sh, '" + script + "']\n      timeout: 2s", "TIMED_OUT", "FAILED");

        String log = server.get("jobs/" + job + "/log").body();
        assertThat(log).startsWith("progress 50%\n[buildhook] killed: ");
        Typed followed = inATerminal("logs", "-f", job);
        assertThat(withoutTheLegend(followed.text())).as(followed.text())
                .contains("progress 50%\n" + TerminalNotes.NOTE + "[buildhook] killed: ");
        assertThat(unmarkedBuildhookLines(followed.text())).as(followed.text()).isEmpty();
    }

    /** The text shown without the legend's line (standard error, on the same terminal). */
    private static String withoutTheLegend(String text) {
        return text.replaceAll("(?m)^" + TerminalNotes.NOTE + "\\[buildhook\\] lines marked .*\n", "");
    }

    /** The lines shown that begin with {@code [buildhook] } unmarked. */
    private static List<String> unmarkedBuildhookLines(String text) {
        return text.lines().filter(l -> l.startsWith("[buildhook] ")).toList();
    }

    /** The rules: one rule {@code rule} running {@code command}; build 67 delivered; its job once in a final state. */
    private String jobOf(String rule, String command, String... states) throws Exception {
        server.replaceRules("rules:\n  - name: " + rule + "\n    run:\n      command: " + command + "\n");
        await().atMost(Duration.ofMinutes(5)).until(() -> server.app().rules().current().ruleNames().contains(rule));
        String delivery = server.deliverBody(AdminServer.fixture("build-67-passed.json")
                .getBytes(StandardCharsets.UTF_8));
        AtomicReference<JsonNode> found = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(5)).until(() -> {
            found.set(server.getJson("deliveries/" + delivery).path("jobs").path(0));
            return List.of(states).contains(found.get().path("state").asText());
        });
        return found.get().path("id").asText();
    }

    private record Typed(int exit, String text) {
    }

    private Typed inATerminal(String... args) throws Exception {
        RealCommand.Typed typed = RealCommand.typedInATerminal(server, dir, "", args);
        return new Typed(typed.exit(), typed.text());
    }
}
