package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * escape29: a job's output and a payload value can hold Unicode bidirectional controls (RLO U+202E, the
 * isolates U+2066–U+2069) and zero-width or other format characters (U+200B, U+FEFF, the tag U+E0041), which
 * reorder or hide what the operator reads ("Trojan Source", CVE-2021-42574): {@code run} RLO {@code tset} shows
 * as {@code runtest}. On a terminal the commands showed them as they are; now they show them as escapes
 * ({@code \}{@code u202e}, as a control character's {@code \x1b}). To a file the log stays byte for byte what the
 * job wrote; {@code --json} writes them as JSON escapes of the same value. The commands run as real processes
 * on a pseudo-terminal ({@link RealCommand}).
 */
class InvisibleCharactersShownTest {

    /** A signed payload's trigger, as JSON escapes: "dev", RLO, "ved", a zero-width space. */
    private static final String TRIGGER_JSON = "dev\\u202eved\\u200b";
    private static final String TRIGGER = "dev\u202eved\u200b";

    /** What the job writes: printf's format (UTF-8 bytes as octal escapes), then the trigger as its argument. */
    private static final String FORMAT = "name: run\\342\\200\\256tset\\342\\200\\254 zero\\342\\200\\213width"
            + " \\342\\201\\246iso\\342\\201\\251 bom\\357\\273\\277 tag\\363\\240\\201\\201\\n%s\\n";

    private static final String WRITTEN = "name: run\u202etset\u202c zero\u200bwidth \u2066iso\u2069 bom\ufeff"
            + " tag\udb40\udc41\n" + TRIGGER + "\n";

    /** The same on a terminal. */
    private static final String SHOWN = "name: run\\u202etset\\u202c zero\\u200bwidth \\u2066iso\\u2069 bom\\ufeff"
            + " tag\\U000e0041\ndev\\u202eved\\u200b\n";

    @TempDir
    Path dir;

    private AdminServer server;
    private String job;

    @BeforeEach
    void runAJobThatWritesInvisibleCharacters() throws Exception {
        server = AdminServer.withRunner(dir, "");
        job = RealCommand.printingJob(server, "hidden", FORMAT, TRIGGER_JSON);
        assertThat(server.get("jobs/" + job + "/log").body()).isEqualTo(WRITTEN);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void onATerminalLogsShowsThemEscapedAndToAFileWritesThemAsTheyAre() throws Exception {
        String shown = RealCommand.inATerminal(server, dir, "logs", job).replace("\r", "");
        assertThat(shown).contains(SHOWN);
        assertHidesNothing(shown);

        String followed = RealCommand.inATerminal(server, dir, "logs", "-f", job).replace("\r", "");
        // The follow's own lines on a terminal are marked as buildhook's, after the legend said once (e95f294d).
        assertThat(followed).contains(SHOWN + TerminalNotes.NOTE + "[buildhook] lines marked ")
                .contains("\n" + TerminalNotes.NOTE + "[buildhook] job " + job + " SUCCEEDED");
        assertHidesNothing(followed);

        assertThat(RealCommand.inATerminal(server, dir, "logs", "--raw", job).replace("\r", "")).contains(WRITTEN);
        assertThat(RealCommand.toAFile(server, dir, "logs", job)).isEqualTo(WRITTEN.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theDeliveriesAndTheJobShowThePayloadValueEscaped() throws Exception {
        String deliveries = RealCommand.inATerminal(server, dir, "deliveries");
        assertThat(deliveries).contains(" dev\\u202eved\\u200b ");
        assertHidesNothing(deliveries);

        String shown = RealCommand.inATerminal(server, dir, "job", "show", job);
        assertThat(shown).contains("TRIGGER=\"dev\\u202eved\\u200b\"");
        assertHidesNothing(shown);
    }

    @Test
    void jsonWritesThemAsJsonEscapesOfTheSameValue() throws Exception {
        String out = RealCommand.jobShowJson(server, dir, job);
        assertThat(out).contains("\"TRIGGER\" : \"dev\\u202Eved\\u200B\"");
        assertHidesNothing(out);
        assertThat(AdminServer.json(out).path("job").path("env").path("TRIGGER").asText()).isEqualTo(TRIGGER);
    }

    private static void assertHidesNothing(String shown) {
        assertThat(shown).doesNotContain("\u202e").doesNotContain("\u202c").doesNotContain("\u200b")
                .doesNotContain("\u2066").doesNotContain("\u2069").doesNotContain("\ufeff").doesNotContain("\udb40");
    }
}
