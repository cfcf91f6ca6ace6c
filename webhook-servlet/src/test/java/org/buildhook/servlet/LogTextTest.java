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

    private static LogNotes.Piece piece(String text, long from, List<LogNotes.Range> notes, boolean recorded) {
        return new LogNotes.Piece(from, text.getBytes(StandardCharsets.UTF_8), notes, recorded);
    }
}
