package org.buildhook.servlet;

import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.exec.LogNotes;

/**
 * An attempt's log as the job page shows it: its text, and which parts of it are buildhook's own notes (words32).
 * A command can print a line that reads exactly like one of buildhook's {@code [buildhook] } notes; with the log's
 * record of notes ({@link LogNotes}) the page marks buildhook's notes ({@code span.note}, a visible
 * {@link #NOTE_MARK}) and shows a command's line that starts like one as the command's ({@code span.lookalike},
 * {@link #LOOKALIKE_MARK}). A line that begins with the note mark itself or another diamond, or with {@code
 * [buildhook] } after blanks or invisible characters ({@link LogNotes#forged}), is the command's whatever the record
 * says, and is marked so with or without one, as {@code buildhook logs} marks it on a terminal (follow41: the page
 * showed a command's {@code ◆ [buildhook] job … SUCCEEDED} unflagged). Without a record (a log written before it
 * existed, or rewritten while read) the log shows its other lines as before, unmarked.
 *
 * @param text     the log's text
 * @param notes    the notes' places in {@code text}, {@code {start, end}} in chars, in order, not overlapping
 * @param recorded whether {@code notes} is the log's record: then every other {@code [buildhook] } line is the
 *                 command's
 */
record LogText(String text, List<int[]> notes, boolean recorded) {

    /** Shown before each of buildhook's notes. */
    static final String NOTE_MARK = "\u25c6 ";
    /** Shown before a command's line that starts as buildhook's notes do. */
    static final String LOOKALIKE_MARK = "(printed by the command) ";
    private static final String PREFIX = "[buildhook] ";

    LogText {
        notes = List.copyOf(notes);
    }

    /** Text with nothing known of its notes: shown as it is. */
    static LogText plain(String text) {
        return new LogText(text, List.of(), false);
    }

    /** Buildhook's own words in place of a log (no log on this node, a log that cannot be read). */
    static LogText note(String text) {
        return new LogText(text, List.of(new int[] {0, text.length()}), false);
    }

    /**
     * The piece read, as text (a multi-byte character cut at a note's edge shows as U+FFFD), after
     * {@code before} (buildhook's own line, such as "earlier bytes not shown", or empty).
     */
    static LogText of(String before, LogNotes.Piece piece) {
        StringBuilder text = new StringBuilder(before);
        List<int[]> notes = new ArrayList<>();
        if (!before.isEmpty()) {
            notes.add(new int[] {0, before.length()});
        }
        byte[] bytes = piece.bytes();
        int at = 0;
        for (LogNotes.Range r : piece.notes()) {
            int start = (int) (r.offset() - piece.from());
            int end = (int) (r.end() - piece.from());
            text.append(new String(bytes, at, start - at, StandardCharsets.UTF_8));
            int noteStart = text.length();
            text.append(new String(bytes, start, end - start, StandardCharsets.UTF_8));
            notes.add(new int[] {noteStart, text.length()});
            at = end;
        }
        text.append(new String(bytes, at, bytes.length - at, StandardCharsets.UTF_8));
        return new LogText(text.toString(), notes, piece.recorded());
    }

    /** Whether the page says what the marks mean: a recorded log with a note, or a command's look-alike line. */
    boolean marked() {
        return recorded && notes.stream().anyMatch(n -> text.startsWith(PREFIX, n[0])) || !lookalikes().isEmpty();
    }

    /** The log as HTML for a {@code pre}: escaped as {@link Html#escapeLines}, notes and look-alikes marked. */
    String html() {
        StringBuilder h = new StringBuilder(text.length() + 64);
        List<Integer> lookalikes = lookalikes();
        int at = 0;
        for (int[] n : notes) {
            command(h, at, n[0], lookalikes);
            String note = text.substring(n[0], n[1]);
            h.append("<span class=\"note\" title=\"written by buildhook\">");
            if (recorded && note.startsWith(PREFIX)) {
                h.append("<span class=\"note-mark\">").append(NOTE_MARK).append("</span>");
            }
            h.append(Html.escapeLines(note)).append("</span>");
            at = n[1];
        }
        command(h, at, text.length(), lookalikes);
        return h.toString();
    }

    /** The command's text from {@code from} to {@code to}, its look-alike lines ({@link #lookalikes}) marked. */
    private void command(StringBuilder h, int from, int to, List<Integer> lookalikes) {
        int at = from;
        for (int start : lookalikes) {
            if (start < from) {
                continue;
            }
            if (start >= to) {
                break; // in order: the rest are after this piece of the command's text
            }
            int end = text.indexOf('\n', start);
            end = end < 0 || end + 1 > to ? to : end + 1;
            h.append(Html.escapeLines(text.substring(at, start)))
                    .append("<span class=\"lookalike\" title=\"printed by the command, not a note of buildhook's\">")
                    .append("<span class=\"lookalike-mark\">").append(Html.escapeLines(LOOKALIKE_MARK))
                    .append("</span>").append(Html.escapeLines(text.substring(start, end))).append("</span>");
            at = end;
        }
        h.append(Html.escapeLines(text.substring(at, to)));
    }

    /**
     * Where a line of the command's (one that begins outside every note) reads like one of buildhook's: it is
     * {@link LogNotes#forged}, or the log is recorded and it begins with {@code [buildhook] } (the same rule as
     * {@code buildhook logs} on a terminal, TerminalNotes).
     */
    private List<Integer> lookalikes() {
        List<Integer> found = new ArrayList<>();
        int note = 0;
        for (int at = 0; at < text.length();) {
            int end = text.indexOf('\n', at);
            end = end < 0 ? text.length() : end + 1;
            while (note < notes.size() && notes.get(note)[1] <= at) {
                note++;
            }
            boolean inNote = note < notes.size() && notes.get(note)[0] <= at;
            boolean noteLike = recorded && text.startsWith(PREFIX, at);
            if (!inNote && (noteLike || LogNotes.forged(CharBuffer.wrap(text, at, end)))) {
                found.add(at);
            }
            at = end;
        }
        return found;
    }
}
