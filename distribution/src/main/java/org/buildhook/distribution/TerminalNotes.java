package org.buildhook.distribution;

import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.buildhook.runner.exec.LogNotes;

/**
 * Marks, in a log shown on a terminal, which lines are buildhook's own notes, as the job's page does (words32): a
 * note's line begins with {@link #NOTE} ({@code ◆ }), and a line the command printed that begins like one
 * ({@code [buildhook] }) with {@link #PRINTED_BY_THE_COMMAND}. The notes come from the log answer's {@code
 * X-Buildhook-Log-Notes} header ({@code GET /api/jobs/{id}/log?notes=1}); a log whose notes are not known (an older
 * build's, or an older server) is shown unmarked. The text goes on to {@code out} (a {@link TerminalText}, which
 * escapes it); the marks are this class's only additions. Not thread-safe.
 */
final class TerminalNotes {

    /** What begins a note's line. */
    static final String NOTE = "\u25c6 ";
    /** What begins a line the command printed that reads like a note. */
    static final String PRINTED_BY_THE_COMMAND = "(printed by the command) ";
    /**
     * What begins a followed line that reads like a note when the server could not say whose it is (it stopped or
     * went away before it answered, it is an older version, the follow's bytes are not where the log has them): it
     * may be a note, it may be the command's, and on a terminal it is never shown as buildhook's own line (tryout42
     * F13).
     */
    static final String MAY_BE_THE_COMMANDS = "(may be the command's) ";
    /** What a note begins with (CappedLog.NOTE_PREFIX). */
    private static final byte[] PREFIX = "[buildhook] ".getBytes(StandardCharsets.US_ASCII);
    private static final String PREFIX_TEXT = "[buildhook] ";

    /** What a line of the log may be, by how it begins: {@link #kind}. */
    enum Kind {
        /** Not like one of buildhook's lines. */
        PLAIN,
        /** Not known yet: its first bytes may begin one (more of the line tells). */
        MAYBE,
        /** Begins with {@code [buildhook] } at its first byte, as a note does: its record tells whose it is. */
        NOTE_LIKE,
        /**
         * The command's, though it looks like buildhook's: it begins with the note mark {@code ◆} (or a look-alike of
         * it), or with {@code [buildhook] } after blanks or characters a terminal shows as nothing or escaped (a
         * {@code \r}, a zero-width space), where no note begins (tryout41 F1).
         */
        FORGED
    }

    /**
     * What a line of the log is by its first bytes.
     *
     * @param line   the line's bytes so far (UTF-8 as a log's text is read), from its first byte
     * @param length how many of them, {@code >= 0}
     * @param whole  whether they are the whole line (its newline, or the log's end): then never {@link Kind#MAYBE}
     * @return its kind
     */
    static Kind kind(byte[] line, int length, boolean whole) {
        if (length > LOOK) {
            length = LOOK; // what a line begins with is in its first bytes; a longer run of blanks begins nothing
            whole = true;
        }
        String text = new String(line, 0, length, StandardCharsets.UTF_8);
        // A character cut at the bytes' end reads as U+FFFD: not known yet.
        boolean cut = !whole && length > 0 && cutAtEnd(line, length);
        // The rule of LogNotes.forged (the job's page's too), read as far as the bytes so far tell.
        int i = LogNotes.blanksBefore(text);
        String rest = text.substring(i);
        if (rest.startsWith(PREFIX_TEXT)) {
            return i == 0 ? Kind.NOTE_LIKE : Kind.FORGED;
        }
        if (!rest.isEmpty() && LogNotes.isDiamond(rest.codePointAt(0)) && !(cut && rest.length() == 1)) {
            return Kind.FORGED;
        }
        if (whole) {
            return Kind.PLAIN;
        }
        if (rest.isEmpty() || PREFIX_TEXT.startsWith(rest) || cut && rest.length() == 1) {
            return Kind.MAYBE;
        }
        return Kind.PLAIN;
    }

    /** How many of a line's first bytes {@link #kind} reads. */
    static final int LOOK = 256;

    /** Whether the bytes end within a UTF-8 character (its first bytes only). */
    private static boolean cutAtEnd(byte[] bytes, int length) {
        for (int back = 1; back <= Math.min(3, length); back++) {
            int b = bytes[length - back] & 0xff;
            if ((b & 0xc0) == 0x80) {
                continue; // a continuation byte: look further back
            }
            int needs = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
            return needs > back;
        }
        return false;
    }

    private final Writer out;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
    /** Bytes of a character cut by the end of a piece, decoded with the next one. */
    private byte[] cut = new byte[0];
    /** Whether the next byte begins a line. */
    private boolean lineStart = true;
    private boolean marked;

    /** @param out where the text goes (escaped there) */
    TerminalNotes(Writer out) {
        this.out = out;
    }

    /**
     * Writes one piece of the log with its marks.
     *
     * @param from   the piece's first byte's offset in the log
     * @param bytes  the piece, as the log has it
     * @param header the answer's {@code X-Buildhook-Log-Notes}: {@code recorded; OFFSET+LENGTH; …}, or
     *               {@code unknown}, or null (an older server): only {@code recorded} marks anything
     * @throws IOException from {@code out}
     */
    void write(long from, byte[] bytes, String header) throws IOException {
        boolean recorded = false;
        Set<Long> notes = new HashSet<>();
        if (header != null) {
            String[] parts = header.split(";");
            recorded = parts[0].strip().equals("recorded");
            for (int i = 1; i < parts.length && recorded; i++) {
                String part = parts[i].strip();
                int plus = part.indexOf('+');
                try {
                    notes.add(Long.parseLong(part.substring(0, Math.max(0, plus))));
                } catch (NumberFormatException e) {
                    recorded = false; // not an answer this version reads: mark nothing
                    notes.clear();
                }
            }
        }
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i < bytes.length && bytes[i] != '\n') {
                continue;
            }
            int end = i < bytes.length ? i + 1 : i;
            if (end > start) {
                if (lineStart && kind(java.util.Arrays.copyOfRange(bytes, start, Math.min(end, start + LOOK)),
                        Math.min(end - start, LOOK), true)
                        == Kind.FORGED) {
                    // Never a note, whatever the record says (or whether there is one).
                    out.write(PRINTED_BY_THE_COMMAND);
                    marked = true;
                } else if (lineStart && recorded) {
                    if (notes.contains(from + start)) {
                        out.write(NOTE);
                        marked = true;
                    } else if (startsWithPrefix(bytes, start, end)) {
                        out.write(PRINTED_BY_THE_COMMAND);
                        marked = true;
                    }
                }
                text(bytes, start, end - start);
                lineStart = bytes[end - 1] == '\n';
            }
            start = end;
        }
    }

    /** Whether any line was marked: then the legend is worth saying. */
    boolean marked() {
        return marked;
    }

    /** The end of the log: a character cut at its end is written (as U+FFFD). */
    void end() throws IOException {
        if (cut.length > 0) {
            CharBuffer chars = CharBuffer.allocate(cut.length + 4);
            decoder.decode(ByteBuffer.wrap(cut), chars, true);
            decoder.flush(chars);
            chars.flip();
            out.write(chars.toString());
            cut = new byte[0];
        }
        decoder.reset();
    }

    private static boolean startsWithPrefix(byte[] bytes, int start, int end) {
        if (end - start < PREFIX.length) {
            return false;
        }
        for (int i = 0; i < PREFIX.length; i++) {
            if (bytes[start + i] != PREFIX[i]) {
                return false;
            }
        }
        return true;
    }

    /** Writes bytes of the log as text, unmarked (a character cut at their end waits for the next bytes). */
    void text(byte[] bytes, int offset, int length) throws IOException {
        ByteBuffer in = ByteBuffer.allocate(cut.length + length);
        in.put(cut).put(bytes, offset, length).flip();
        CharBuffer chars = CharBuffer.allocate(in.remaining() + 4);
        decoder.decode(in, chars, false);
        cut = new byte[in.remaining()];
        in.get(cut);
        chars.flip();
        out.write(chars.toString());
    }
}
