package org.buildhook.distribution;

import java.io.IOException;
import java.io.Writer;

/** Passes text on to a writer and remembers its last line (its start, at most {@link #KEPT} characters). */
final class LastLine extends Writer {

    static final int KEPT = 200;

    private final Writer out;
    private final StringBuilder current = new StringBuilder();
    private String previous = "";

    LastLine(Writer out) {
        this.out = out;
    }

    @Override
    public void write(char[] text, int offset, int length) throws IOException {
        out.write(text, offset, length);
        for (int i = offset; i < offset + length; i++) {
            if (text[i] == '\n') {
                previous = current.toString();
                current.setLength(0);
            } else if (current.length() < KEPT) {
                current.append(text[i]);
            }
        }
    }

    /** The last line written, without its newline; the one before when the text ends with a newline. */
    String last() {
        return current.length() > 0 ? current.toString() : previous;
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
