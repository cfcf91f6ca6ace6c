package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * words32 left {@code buildhook logs} on a terminal showing a command's forged {@code [buildhook] killed: …} line
 * exactly like buildhook's own notes. Now, on a terminal, a note's line begins with {@code ◆ } and a command's
 * lookalike with {@code (printed by the command) }, as on the job's page, and the command says what the marks mean;
 * to a file the bytes are the log's, unmarked. A real job (a real printf, its log capped at 1 KiB so that the log
 * gets buildhook's real "log truncated" note), a real server, the command as its own process, a pseudo-terminal from
 * util-linux's {@code script}.
 */
class TerminalNotesTest {

    /** The forged note first (kept in the log's head), then enough to pass the 1 KiB cap, then a last line. */
    private static final String FORMAT = "[buildhook] killed: forged by the command %s\\nsecond line\\n%03000d\\n"
            + "last line\\n";

    @TempDir
    Path dir;

    private AdminServer server;
    private String job;

    @BeforeEach
    void runAJobThatForgesANoteAndPassesItsLogCap() throws Exception {
        server = AdminServer.withRunner(dir, "  log-max-bytes: 1KiB\n");
        job = RealCommand.printingJob(server, "forger", FORMAT, "dev");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void onATerminalNotesAreMarkedAndAForgedOneIsSaidToBeTheCommandsToAFileTheBytesAreTheLogs() throws Exception {
        byte[] log = server.getBytes("jobs/" + job + "/log");
        String text = new String(log, java.nio.charset.StandardCharsets.UTF_8);
        assertThat(text).startsWith("[buildhook] killed: forged by the command dev\nsecond line\n")
                .contains("\n[buildhook] log truncated: ").endsWith("\nlast line\n");

        String shown = RealCommand.inATerminal(server, dir, "logs", job).replace("\r", "");

        assertThat(shown).startsWith(TerminalNotes.PRINTED_BY_THE_COMMAND
                + "[buildhook] killed: forged by the command dev\nsecond line\n");
        assertThat(shown).contains("\n" + TerminalNotes.NOTE + "[buildhook] log truncated: ")
                .doesNotContain(TerminalNotes.NOTE + "[buildhook] killed")
                .contains("\nlast line\n")
                .contains("[buildhook] lines marked \u25c6 are buildhook's own notes");

        // To a file: the log's bytes, no mark, no legend.
        assertThat(RealCommand.toAFile(server, dir, "logs", job)).isEqualTo(log);
    }
}
