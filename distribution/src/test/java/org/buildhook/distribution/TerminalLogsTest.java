package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's output and a payload value it echoes can hold terminal escape sequences (set the title, clear
 * the screen, colours, a C1 CSI): {@code buildhook logs} wrote them raw to the operator's terminal
 * (escape27 F2). Now, to a terminal, control characters other than newline and tab (and a carriage return
 * ending a line) are shown as {@code \xNN}; {@code --raw} prints them as they are; to a pipe or a file the
 * log stays byte for byte what the job wrote, a byte that is no UTF-8 too. {@code --json} answers escape
 * the C1 controls too. The commands run as real processes of their own; the terminal is a pseudo-terminal
 * from util-linux's {@code script}.
 */
class TerminalLogsTest {

    /** A signed payload's trigger: an OSC title, a BEL and a C1 CSI (U+009B), as JSON escapes. */
    private static final String TRIGGER_JSON = "dev\\u001b]0;pwned\\u0007\\u009b2J";

    /** What the job writes: printf's format (octal escapes), then the trigger as its argument. */
    private static final String FORMAT = "ok\\n\\033]0;title\\007\\033[2J\\033[31mred\\033[0m\\r\\ncrlf\\rover\\n"
            + "\\302\\233c1\\n\\ttab\\n%s\\nnot UTF-8: \\377\\n";

    /** The job's output before its last line (UTF-8: U+009B is C2 9B). */
    private static final String WRITTEN = "ok\n\u001b]0;title\u0007\u001b[2J\u001b[31mred\u001b[0m\r\ncrlf\rover\n"
            + "\u009bc1\n\ttab\ndev\u001b]0;pwned\u0007\u009b2J\n";

    /** Its last line: a byte that is no UTF-8. */
    private static final byte[] NOT_UTF8 = {'n', 'o', 't', ' ', 'U', 'T', 'F', '-', '8', ':', ' ', (byte) 0xff, '\n'};

    /** The same on a terminal: every control character but newline, tab and a line-ending carriage return escaped. */
    private static final String SHOWN = "ok\n\\x1b]0;title\\x07\\x1b[2J\\x1b[31mred\\x1b[0m\r\ncrlf\\x0dover\n"
            + "\\x9bc1\n\ttab\ndev\\x1b]0;pwned\\x07\\x9b2J\n";

    @TempDir
    Path dir;

    private AdminServer server;
    private String job;

    @BeforeEach
    void runAJobThatWritesEscapeSequences() throws Exception {
        server = AdminServer.withRunner(dir, "");
        job = RealCommand.printingJob(server, "hostile", FORMAT, TRIGGER_JSON);
        // The log holds what the job wrote, as it wrote it.
        assertThat(server.get("jobs/" + job + "/log").body()).isEqualTo(WRITTEN + "not UTF-8: \ufffd\n");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void onATerminalLogsShowsControlCharactersEscaped() throws Exception {
        String shown = inATerminal("logs", job);
        // The pseudo-terminal turns each newline into CR LF: compared without carriage returns.
        assertThat(shown.replace("\r", "")).contains(SHOWN.replace("\r", ""));
        assertThat(shown).doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u009b");

        // Following it, the same, then the job's state.
        String followed = inATerminal("logs", "-f", job);
        // buildhook's end line marked as its note (tryout41 F7), after the legend (standard error, the same terminal).
        assertThat(followed.replace("\r", "")).contains(SHOWN.replace("\r", "") + "not UTF-8: \ufffd\n")
                .contains("\n" + TerminalNotes.NOTE + "[buildhook] job " + job + " SUCCEEDED");
        assertThat(followed).doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\u009b");
    }

    @Test
    void withRawLogsWritesTheEscapeSequencesToATerminalAsTheyAre() throws Exception {
        String shown = inATerminal("logs", "--raw", job);
        assertThat(shown).contains("\u001b]0;title\u0007\u001b[2J\u001b[31mred\u001b[0m")
                .contains("dev\u001b]0;pwned\u0007\u009b2J");
        // As they are: the byte that is no UTF-8 too (read back here as U+FFFD).
        assertThat(shown).contains("not UTF-8: \ufffd");
    }

    @Test
    void toAFileLogsWritesTheLogByteForByte() throws Exception {
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        written.write(WRITTEN.getBytes(StandardCharsets.UTF_8));
        written.write(NOT_UTF8);
        assertThat(RealCommand.toAFile(server, dir, "logs", job)).isEqualTo(written.toByteArray());
    }

    @Test
    void jsonAnswersEscapeTheC1ControlsAsJsonDoesC0() throws Exception {
        String out = RealCommand.jobShowJson(server, dir, job);
        assertThat(out).contains("dev\\u001B]0;pwned\\u0007\\u009B2J").doesNotContain("\u009b");
        // The same value for a script that reads it.
        assertThat(AdminServer.json(out).path("job").path("env").path("TRIGGER").asText())
                .isEqualTo("dev\u001b]0;pwned\u0007\u009b2J");
    }

    private String inATerminal(String... args) throws Exception {
        return RealCommand.inATerminal(server, dir, args);
    }
}
