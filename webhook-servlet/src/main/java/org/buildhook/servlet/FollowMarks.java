package org.buildhook.servlet;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * How a log follow asked with {@code mark=1} ({@code GET /api/jobs/{id}/log?follow=1&mark=1}) tells its client which
 * of its lines the server wrote itself (the stop's line, a failure's, the end line of {@code state=1}) from the job's
 * output, which may print the same text (follow40, fixes39: {@code buildhook logs -f} took a job's own {@code
 * [buildhook] job J SUCCEEDED: …} line for the server's when the server was gone right after). The answer's header
 * {@link #HEADER} holds a value made at random for that answer, 32 lowercase hex digits, sent nowhere else and never
 * logged; each line the server writes itself begins with it and one space. The job's output is sent before the value
 * exists and cannot learn it, so it cannot print a line that begins so. The client takes the value and its space off
 * ({@link Unmarking}): what it prints is what a follow without {@code mark=1} sends.
 */
public final class FollowMarks {

    /** The answer's header that holds the mark of a follow asked with {@code mark=1}. */
    public static final String HEADER = "X-Buildhook-Follow-Mark";

    private static final SecureRandom RANDOM = new SecureRandom();

    private FollowMarks() {
    }

    /** A new mark: 128 random bits as 32 lowercase hex digits. */
    static String newMark() {
        byte[] bits = new byte[16];
        RANDOM.nextBytes(bits);
        return HexFormat.of().formatHex(bits);
    }

    /** What begins a line the server writes itself in an answer with {@code mark}: the mark and one space. */
    static byte[] prefix(String mark) {
        return (mark + " ").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * A follow's answer with the mark taken off the lines that begin with it (the server's own), everything else as
     * it came, and which kind of line came last. A line that begins like the mark is held until it differs from it
     * (at most 33 bytes), so output is not held otherwise. Not thread-safe: one reader.
     */
    public static final class Unmarking extends FilterInputStream {

        private final byte[] prefix;
        /** How many bytes of {@link #prefix} the current line began with; -1 once it is past them, or they differ. */
        private int matched = 0;
        private byte[] ready = new byte[0];
        private int readyAt;
        private boolean lastMarked;
        private boolean ended;
        /** Where in {@link #ready} a line the server wrote itself begins (after its mark), in order. */
        private final java.util.ArrayDeque<Integer> starts = new java.util.ArrayDeque<>();
        /** Whether the bytes the last read returned begin a line the server wrote itself. */
        private boolean readBeganMarked;

        /**
         * @param in   the answer's body
         * @param mark the answer's {@link #HEADER}
         */
        public Unmarking(InputStream in, String mark) {
            super(in);
            this.prefix = prefix(mark);
        }

        /**
         * Whether the bytes the last {@code read} returned begin a line the server wrote itself (its mark taken off). A
         * read never returns bytes of such a line after bytes of another: the reader knows where each begins, to show
         * it as the server's (follow41: {@code buildhook logs -f} on a terminal marks it {@code ◆ }).
         */
        public boolean readBeganMarkedLine() {
            return readBeganMarked;
        }

        /** Whether the last line that began (an empty one too) began with the mark: a line the server wrote itself. */
        public boolean lastLineMarked() {
            return lastMarked;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            while (readyAt == ready.length) {
                if (ended) {
                    return -1;
                }
                byte[] chunk = new byte[Math.max(length, 8192)];
                int n = in.read(chunk);
                ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(n, 0) + prefix.length);
                // A mark that ended the last piece: its line begins this one.
                boolean carried = !starts.isEmpty();
                starts.clear();
                if (carried) {
                    starts.addLast(0);
                }
                if (n < 0) {
                    ended = true;
                    if (matched > 0) {
                        release(out); // the answer ended within something that began like the mark: the job's
                    }
                } else {
                    unmark(chunk, n, out);
                }
                ready = out.toByteArray();
                readyAt = 0;
            }
            int n = Math.min(length, ready.length - readyAt);
            readBeganMarked = !starts.isEmpty() && starts.peekFirst() == readyAt;
            if (readBeganMarked) {
                starts.removeFirst();
            }
            if (!starts.isEmpty()) {
                n = Math.min(n, starts.peekFirst() - readyAt);
            }
            System.arraycopy(ready, readyAt, buffer, offset, n);
            readyAt += n;
            return n;
        }

        private void unmark(byte[] chunk, int n, ByteArrayOutputStream out) {
            for (int i = 0; i < n; i++) {
                byte b = chunk[i];
                if (matched >= 0) {
                    if (b == prefix[matched]) {
                        matched++;
                        if (matched == prefix.length) {
                            matched = -1;
                            lastMarked = true;
                            starts.addLast(out.size());
                        }
                        continue;
                    }
                    release(out);
                }
                out.write(b);
                if (b == '\n') {
                    matched = 0;
                }
            }
        }

        /** The line does not begin with the mark: a line of the job's; what was held of it is sent as it came. */
        private void release(ByteArrayOutputStream out) {
            out.write(prefix, 0, matched);
            matched = -1;
            lastMarked = false;
        }

        @Override
        public int available() {
            return ready.length - readyAt;
        }

        @Override
        public long skip(long n) throws IOException {
            int most = (int) Math.min(Math.max(n, 0), 8192);
            int skipped = read(new byte[most], 0, most);
            return Math.max(skipped, 0);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
