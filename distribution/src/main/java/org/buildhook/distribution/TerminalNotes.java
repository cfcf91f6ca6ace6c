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
    /** What a note begins with (CappedLog.NOTE_PREFIX). */
    private static final byte[] PREFIX = "[buildhook] ".getBytes(StandardCharsets.US_ASCII);

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
                if (lineStart && recorded) {
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
