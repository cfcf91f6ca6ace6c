package org.buildhook.distribution;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.Writer;
import org.buildhook.core.LogSafe;

/**
 * A job's output on its way to the operator's terminal: its control characters shown as {@code \xNN}
 * and its invisible characters (bidirectional controls, zero-width and other format characters) as
 * {@code \}{@code uNNNN} ({@link LogSafe#escape}), so that what a job printed (or a payload value it
 * echoed) cannot set the terminal's title (OSC), clear its screen, move its cursor, change its colours or
 * hide text (CSI, SGR) — escape27 F2 — nor reorder or hide what a line shows (escape29). Newlines and tabs pass as they are, and so does a carriage return just before a newline
 * (a CRLF line end); any other carriage return, which would let a later text overwrite a line on the
 * screen, is escaped as well. Every escape sequence is escaped, SGR colours too: a job's output is
 * rarely coloured (its standard output is a pipe, not a terminal), and a colour can hide text (SGR 8,
 * black on black) or outlast the command; {@code logs --raw} prints the bytes as they are.
 *
 * <p>Stateful: a carriage return at the end of one {@link #write} waits for the next one (or for
 * {@link #end}) to tell whether a newline follows, and so does the first half of a surrogate pair (a tag
 * character beyond U+FFFF is escaped whole). {@link #flush} does not write them.
 */
final class TerminalText extends Writer {

    private final Writer out;
    /** A carriage return written last, not yet known to end a line. */
    private boolean pendingReturn;
    /** The first half of a surrogate pair written last (0 for none): the pair is escaped, or not, whole. */
    private char pendingHalf;

    /** @param out where the escaped text goes */
    TerminalText(Writer out) {
        this.out = out;
    }

    @Override
    public void write(char[] text, int offset, int length) throws IOException {
        if (pendingHalf != 0 && length > 0) {
            char[] joined = new char[length + 1];
            joined[0] = pendingHalf;
            System.arraycopy(text, offset, joined, 1, length);
            pendingHalf = 0;
            text = joined;
            offset = 0;
            length = joined.length;
        }
        if (length > 0 && Character.isHighSurrogate(text[offset + length - 1])) {
            pendingHalf = text[offset + length - 1];
            length--;
        }
        StringBuilder shown = new StringBuilder(length + 16);
        int run = offset;
        for (int i = offset; i < offset + length; i++) {
            char c = text[i];
            if (c != '\n' && c != '\t' && c != '\r') {
                if (pendingReturn) {
                    shown.append(RETURN_ESCAPED);
                    pendingReturn = false;
                }
                continue;
            }
            // A run of other characters: escaped as a log line's payload value is (the same \xNN); its backslashes
            // as the job wrote them, as LogSafe.escapeLines keeps them (the status page's log).
            shown.append(LogSafe.escapeLines(new String(text, run, i - run)));
            run = i + 1;
            if (pendingReturn) {
                shown.append(c == '\n' ? "\r" : RETURN_ESCAPED);
                pendingReturn = false;
            }
            if (c == '\r') {
                pendingReturn = true;
            } else {
                shown.append(c);
            }
        }
        shown.append(LogSafe.escapeLines(new String(text, run, offset + length - run)));
        out.write(shown.toString());
    }

    /**
     * The text has ended (for now): a carriage return it ended with is written, escaped, and a first half of a
     * surrogate pair it ended with as it is.
     */
    void end() throws IOException {
        if (pendingReturn) {
            out.write(RETURN_ESCAPED);
            pendingReturn = false;
        }
        if (pendingHalf != 0) {
            out.write(pendingHalf);
            pendingHalf = 0;
        }
        out.flush();
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        end();
        out.close();
    }

    private static final String RETURN_ESCAPED = "\\x0d";

    /**
     * {@code text} as {@link TerminalText} shows it: lines kept, every other control character escaped.
     *
     * @param text any text, e.g. an HTTP answer's body
     * @return the text with its control characters but newline, tab and CR LF written as {@code \xNN}, its
     *     invisible characters as {@code \}{@code uNNNN} ({@link LogSafe#escapeLines})
     */
    static String escape(String text) {
        // A whole text needs none of this writer's state across chunks: LogSafe's rule for lines is the same one
        // (TerminalTextTest compares the two), the one the status page uses.
        return LogSafe.escapeLines(text);
    }

    /**
     * Whether this process's standard output is a terminal: libc's {@code isatty(1)} (through JNA); where
     * JNA cannot load, whether the JVM has a console (standard input and output both terminals).
     *
     * @return true for a terminal (or pseudo-terminal), false for a pipe, a file or {@code /dev/null}
     */
    static boolean standardOutputIsATerminal() {
        try {
            return Native.load("c", LibC.class).isatty(1) == 1;
        } catch (LinkageError | RuntimeException e) {
            return System.console() != null;
        }
    }

    /**
     * Whether this process's standard input is a terminal ({@code isatty(0)}; where JNA cannot load, whether the JVM
     * has a console): a person who can answer a question, not a script's pipe or {@code /dev/null}.
     */
    static boolean standardInputIsATerminal() {
        try {
            return Native.load("c", LibC.class).isatty(0) == 1;
        } catch (LinkageError | RuntimeException e) {
            return System.console() != null;
        }
    }

    /** libc's {@code isatty(3)}: 1 when the descriptor is a terminal, 0 otherwise. */
    interface LibC extends Library {
        int isatty(int fd);
    }
}
