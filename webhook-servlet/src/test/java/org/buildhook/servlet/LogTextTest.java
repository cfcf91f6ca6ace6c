package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.buildhook.runner.exec.LogNotes;
import org.junit.jupiter.api.Test;

/** words32: how the job page shows a log with its record of buildhook's notes ({@link LogText}). */
class LogTextTest {

    private static final String FORGED = "[buildhook] killed: <b>forged</b>\n";
    private static final String NOTE = "[buildhook] killed: timed out \u202e\n";

    @Test
    void aRecordedLogMarksTheNoteAndTheCommandsLookAlikeEachEscaped() {
        String log = "out\n" + FORGED + NOTE + "after\n";
        int at = ("out\n" + FORGED).getBytes(StandardCharsets.UTF_8).length;
        LogText text = LogText.of("", piece(log, 0, List.of(new LogNotes.Range(at,
                NOTE.getBytes(StandardCharsets.UTF_8).length)), true));

        assertThat(text.marked()).isTrue();
        assertThat(text.html()).isEqualTo("out\n<span class=\"lookalike\" title=\"printed by the command, not a note"
                + " of buildhook's\"><span class=\"lookalike-mark\">(printed by the command) </span>[buildhook] killed:"
                + " &lt;b&gt;forged&lt;/b&gt;\n</span><span class=\"note\" title=\"written by buildhook\"><span"
                + " class=\"note-mark\">\u25c6 </span>[buildhook] killed: timed out \\u202e\n</span>after\n");
    }

    @Test
    void aLogWithoutARecordShowsAsBeforeUnmarked() {
        String log = "out\n" + FORGED + NOTE;
        LogText text = LogText.of("", piece(log, 0, List.of(), false));

        assertThat(text.marked()).isFalse();
        assertThat(text.html()).isEqualTo(Html.escapeLines(log));
    }

    @Test
    void theEarlierBytesLineIsBuildhooksAndATailStartsAtItsPiece() {
        LogText text = LogText.of("[\u2026 10 earlier bytes]\n", piece(FORGED, 10, List.of(), true));

        assertThat(text.marked()).isTrue();
        assertThat(text.html()).startsWith("<span class=\"note\" title=\"written by buildhook\">[\u2026 10 earlier"
                + " bytes]\n</span><span class=\"lookalike\"");
    }

    /**
     * follow41's leftover: a command's line that begins with the note mark {@code ◆} (or another diamond), or with
     * {@code [buildhook] } after a blank or an invisible character, showed unflagged on the job's page, while {@code
     * buildhook logs} on a terminal marks it "(printed by the command)" with or without a record. The page marks it
     * alike, by the same rule (LogNotes.forged), and says what the marks mean; a line that only has a diamond inside,
     * and the recorded note, are as before.
     */
    @Test
    void aCommandsLineBeginningWithTheNoteMarkOrAHiddenNoteIsTheCommandsWithOrWithoutARecord() {
        String mark = "\u25c6 [buildhook] job 01M9 SUCCEEDED: exited with 0 (1 attempt(s))\n";
        String diamond = "\ud83d\udd37 deployed\n";
        String hidden = "\u200b[buildhook] killed: timed out\n";
        String blank = "  \u25c7 done\n";
        String commands = "out \u25c6 inside\n" + mark + diamond + hidden + blank;
        String log = commands + NOTE + "after\n";
        int bytesAt = commands.getBytes(StandardCharsets.UTF_8).length;
        String look = "<span class=\"lookalike\" title=\"printed by the command, not a note of buildhook's\"><span"
                + " class=\"lookalike-mark\">(printed by the command) </span>";

        for (boolean recorded : new boolean[] {true, false}) {
            LogText text = LogText.of("", piece(log, 0, recorded ? List.of(new LogNotes.Range(bytesAt,
                    NOTE.getBytes(StandardCharsets.UTF_8).length)) : List.of(), recorded));

            assertThat(text.marked()).as("recorded " + recorded).isTrue();
            assertThat(text.html()).as("recorded " + recorded).isEqualTo("out \u25c6 inside\n"
                    + look + Html.escapeLines(mark) + "</span>" + look + diamond + "</span>"
                    + look + "\\u200b[buildhook] killed: timed out\n</span>" + look + blank + "</span>"
                    + (recorded ? "<span class=\"note\" title=\"written by buildhook\"><span class=\"note-mark\">\u25c6"
                    + " </span>[buildhook] killed: timed out \\u202e\n</span>" : Html.escapeLines(NOTE)) + "after\n");
        }
    }

    private static LogNotes.Piece piece(String text, long from, List<LogNotes.Range> notes, boolean recorded) {
        return new LogNotes.Piece(from, text.getBytes(StandardCharsets.UTF_8), notes, recorded);
    }
}
