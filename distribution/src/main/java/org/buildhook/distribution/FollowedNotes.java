package org.buildhook.distribution;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code buildhook logs -f} on a terminal: the followed log's bytes, as they come, shown with the marks {@link
 * TerminalNotes} gives a whole log (follow34): {@link TerminalNotes#NOTE} before buildhook's own notes, {@link
 * TerminalNotes#PRINTED_BY_THE_COMMAND} before a command's line that begins like one ({@code [buildhook] }).
 *
 * <p>The follow stream says nothing of notes, and a note's place is recorded just after its bytes are written. So a
 * line that begins with {@code [buildhook] } (only such a line) is held until it is whole, then the server is asked
 * about it ({@code GET /api/jobs/{id}/log?notes=1&from=N&length=M}: a few bytes before it, the line and the byte after
 * it): a note when the answer's header names it; the command's when it does not and the log already has bytes after
 * the line (written after the note's record would have been), or when {@link #BOUND} passed. Every other line goes
 * on at once. A line begun like a note that does not end within {@link #BOUND}, or is the log's last bytes, is the
 * command's (a note is written whole); one that begins with the note mark, or like a note after blanks, is the
 * command's at once ({@link TerminalNotes#kind}); a line the server wrote itself in the follow ({@link
 * #serverLineBegins}) is shown after {@link TerminalNotes#NOTE} (tryout41 F1, F7). The
 * answer's bytes must be the line and the bytes shown before it; else the follow's offsets are not the log's (a log
 * rewritten at its cap, a line of the server's own) and no later line is asked about in this follow. A line begun
 * like a note that the server cannot vouch for, whichever way (an older server without the notes header, a log whose
 * notes are not known, offsets that are not the log's, an ask that failed because the server stopped or went away, a
 * follow whose connection broke in the middle of the line) is shown after {@link
 * TerminalNotes#MAY_BE_THE_COMMANDS}, never bare: a bare {@code [buildhook] } line reads as buildhook's own (tryout42
 * F13: a job's forged end line printed during a graceful stop or just before a crash was shown so). Once a line's
 * bound passed with its log's notes still not known, a later such line is asked about once, not until the bound,
 * until an answer says they are recorded. Never a command's line shown as a note.
 *
 * <p>The text goes to {@code text} (the command's {@link LastLine}, then {@link TerminalText}), the marks straight
 * to {@code marks} (the same {@link TerminalText}), so that the follow's last-line checks read the log's own line.
 * Thread-safe: a timer thread may show a held line.
 */
final class FollowedNotes extends OutputStream {

    /** The server's page of a log from byte {@code from}, at most {@code length} bytes, with its notes header. */
    interface Pages {
        /**
         * @throws RuntimeException (a {@link CommandFailure}) when it cannot be read: the line is shown after {@link
         *                          TerminalNotes#MAY_BE_THE_COMMANDS}
         */
        AdminClient.LogPage read(long from, int length);
    }

    /** How long a line that begins like a note may be held: to be whole, and for its record to name it. */
    static final Duration BOUND = Duration.ofSeconds(1);
    /** How long to wait before asking again for a line that is the log's last bytes. */
    private static final long RETRY_MILLIS = 50;
    /** How many bytes shown before a held line are compared with the log's (with the line itself). */
    private static final int CONTEXT = 64;

    private final TerminalNotes text;
    private final Writer flushed;
    private final Writer marks;
    private final Pages pages;
    private final Runnable legend;
    private final Runnable doubt;
    private ScheduledExecutorService timer;

    /** The log's offset of the next byte to come. */
    private long received;
    /** Whether the next byte begins a line. */
    private boolean lineStart = true;
    /** The line held (it begins like a note, or like its first bytes), or null. */
    private ByteArrayOutputStream held;
    /** What the held line is by its first bytes ({@link TerminalNotes#kind}). */
    private TerminalNotes.Kind heldKind;
    /** Whether the bytes to come, to their line's end, are a line the server wrote itself: {@link #serverLineBegins}. */
    private boolean serverLine;
    private long heldAt;
    private ScheduledFuture<?> release;
    /** The last bytes shown, up to {@link #CONTEXT}. */
    private final byte[] recent = new byte[CONTEXT];
    private int recentLength;
    /** Nothing is marked from now on: the server does not say notes, or the follow's offsets are not the log's. */
    private boolean off;
    /**
     * A line's asks ran out of {@link #BOUND} with the server still saying its notes are {@code unknown}: for good
     * then (an older build's log, a record a full disk left empty), not the moment a record is made; a later
     * {@code unknown} is not asked again, so that each look-alike line of such a log is not held for the bound.
     */
    private boolean unknownForGood;
    private boolean marked;
    /** Whether a line was marked {@link TerminalNotes#MAY_BE_THE_COMMANDS}. */
    private boolean doubted;

    /**
     * @param text   where the log's text goes (escaped there)
     * @param marks  where the marks go: the writer {@code text} ends in, without what watches the lines
     * @param from   the log's offset of the first byte to come, {@code >= 0}
     * @param pages  asks the server for a piece of the log with its notes
     * @param legend said once, at the first mark: what the marks mean
     */
    FollowedNotes(Writer text, Writer marks, long from, Pages pages, Runnable legend) {
        this(text, marks, from, pages, legend, () -> { });
    }

    /**
     * As {@link #FollowedNotes(Writer, Writer, long, Pages, Runnable)}.
     *
     * @param doubt said once, after the legend, at the first {@link TerminalNotes#MAY_BE_THE_COMMANDS}: what that
     *              mark means
     */
    FollowedNotes(Writer text, Writer marks, long from, Pages pages, Runnable legend, Runnable doubt) {
        this.text = new TerminalNotes(text);
        this.flushed = text;
        this.marks = marks;
        this.received = from;
        this.pages = pages;
        this.legend = legend;
        this.doubt = doubt;
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
        try {
            int end = offset + length;
            int i = offset;
            while (i < end) {
                int newline = indexOfNewline(bytes, i, end);
                int stop = newline < 0 ? end : newline + 1;
                if (serverLine) {
                    // Not in the log: neither counted in its offsets nor compared with it.
                    if (lineStart) {
                        mark(TerminalNotes.NOTE);
                    }
                    text.text(bytes, i, stop - i);
                    serverLine = newline < 0;
                    lineStart = newline >= 0;
                    i = stop;
                    continue;
                } else if (held == null && !lineStart) {
                    show(bytes, i, stop - i);
                } else {
                    if (held == null) {
                        held = new ByteArrayOutputStream();
                        heldAt = received;
                        heldKind = TerminalNotes.Kind.MAYBE;
                        startRelease();
                    }
                    held.write(bytes, i, stop - i);
                    if (heldKind == TerminalNotes.Kind.MAYBE) {
                        byte[] line = held.toByteArray(); // read only until its kind is known
                        heldKind = TerminalNotes.kind(line, line.length, newline >= 0);
                    }
                    if (heldKind == TerminalNotes.Kind.PLAIN) {
                        showHeld(null);
                    } else if (heldKind == TerminalNotes.Kind.NOTE_LIKE && off) {
                        // No longer asked about in this follow: not vouched for, never bare (tryout42 F13).
                        showHeld(TerminalNotes.MAY_BE_THE_COMMANDS);
                    } else if (heldKind == TerminalNotes.Kind.FORGED) {
                        showHeld(TerminalNotes.PRINTED_BY_THE_COMMAND);
                    } else if (newline >= 0) {
                        showHeld(whatItIs());
                    }
                }
                received += stop - i;
                lineStart = newline >= 0;
                i = stop;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a PrintWriter's: it never throws
        }
    }

    /**
     * The next bytes, to the end of their line, are a line the server wrote itself in the follow (known by the
     * follow's mark, {@code mark=1}): shown after {@link TerminalNotes#NOTE}, so that on a terminal an unmarked
     * {@code [buildhook] } line is never buildhook's (tryout41 F1, F7). Called at the line's start.
     */
    synchronized void serverLineBegins() {
        try {
            if (held != null) {
                showHeld(heldKind == TerminalNotes.Kind.MAYBE ? null : TerminalNotes.PRINTED_BY_THE_COMMAND);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a PrintWriter's: it never throws
        }
        serverLine = true;
        lineStart = true;
    }

    @Override
    public synchronized void flush() throws IOException {
        flushed.flush();
    }

    /** The follow's end: a line still held is shown as it came. The text after it is the caller's. */
    synchronized void end() throws IOException {
        end(false);
    }

    /**
     * The follow's end. A line still held is shown as it came: after {@link TerminalNotes#PRINTED_BY_THE_COMMAND}
     * when it began like a note and the follow ended as the server ended it (a note is written whole: the job's last
     * bytes); after {@link TerminalNotes#MAY_BE_THE_COMMANDS} when the connection broke ({@code cut}): the rest of
     * the line, a note's too, may be what did not arrive. The text after it is the caller's.
     *
     * @param cut whether the follow's answer ended in the middle (the server went away, the network cut it)
     */
    synchronized void end(boolean cut) throws IOException {
        if (held != null) {
            String mark = unfinished();
            showHeld(cut && mark != null ? TerminalNotes.MAY_BE_THE_COMMANDS : mark);
        }
        text.end();
        flushed.flush();
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** Whether a line was marked. */
    synchronized boolean marked() {
        return marked;
    }

    /** Shows the held line after {@code mark} (none when null), and holds nothing. */
    private void showHeld(String mark) throws IOException {
        byte[] line = held.toByteArray();
        held = null;
        if (release != null) {
            release.cancel(false);
            release = null;
        }
        if (mark != null) {
            mark(mark);
        }
        show(line, 0, line.length);
    }

    /** Writes {@code mark} before a line, saying what the marks mean first, at the first (of each). */
    private void mark(String mark) throws IOException {
        if (!marked) {
            marked = true;
            flushed.flush();
            legend.run();
        }
        if (mark.equals(TerminalNotes.MAY_BE_THE_COMMANDS) && !doubted) {
            doubted = true;
            flushed.flush();
            doubt.run();
        }
        marks.write(mark);
    }

    private void show(byte[] bytes, int offset, int length) throws IOException {
        text.text(bytes, offset, length);
        remember(bytes, offset, length);
    }

    /** After {@link #BOUND}, a held line that has not ended is shown as it came. */
    private void startRelease() {
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "buildhook-logs-notes");
                t.setDaemon(true);
                return t;
            });
        }
        ByteArrayOutputStream line = held;
        release = timer.schedule(() -> releaseIfStillHeld(line), BOUND.toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized void releaseIfStillHeld(ByteArrayOutputStream line) {
        if (held != line) {
            return;
        }
        try {
            release = null;
            showHeld(unfinished());
            flushed.flush();
        } catch (IOException e) {
            // a PrintWriter's: it never throws
        }
    }

    /**
     * The mark of the held line that has not ended: a note is written whole, with its newline, so one that begins
     * like a note and does not end within {@link #BOUND} (or at the follow's end: the job's last bytes) is the
     * command's (tryout41 F7: it was shown unmarked, as buildhook's own end line was); null for one whose first bytes
     * tell nothing yet.
     */
    private String unfinished() {
        return heldKind == TerminalNotes.Kind.MAYBE ? null : TerminalNotes.PRINTED_BY_THE_COMMAND;
    }

    /**
     * What the whole held line is: {@link TerminalNotes#NOTE}, {@link TerminalNotes#PRINTED_BY_THE_COMMAND}, or
     * {@link TerminalNotes#MAY_BE_THE_COMMANDS} when the server did not say (never bare: tryout42 F13).
     */
    private String whatItIs() {
        byte[] line = held.toByteArray();
        byte[] before = Arrays.copyOf(recent, recentLength);
        byte[] expected = new byte[before.length + line.length];
        System.arraycopy(before, 0, expected, 0, before.length);
        System.arraycopy(line, 0, expected, before.length, line.length);
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (true) {
            AdminClient.LogPage page;
            try {
                page = pages.read(heldAt - before.length, expected.length + 1);
            } catch (RuntimeException e) {
                // The server did not answer now (it stops, or went away: tryout42 F13): it cannot vouch for the line.
                return TerminalNotes.MAY_BE_THE_COMMANDS;
            }
            if (page.notes() != null && page.bytes().length == expected.length - 1
                    && startsWith(expected, page.bytes())) {
                // The log ends without the line's newline: the job's last bytes, ended by the newline the server
                // writes before a line of its own (the follow's end). A note ends with its newline in the log.
                return TerminalNotes.PRINTED_BY_THE_COMMAND;
            }
            if (page.notes() == null || !startsWith(page.bytes(), expected)) {
                off = true; // an older server, or the follow's offsets are not the log's
                return TerminalNotes.MAY_BE_THE_COMMANDS;
            }
            String[] parts = page.notes().split(";");
            if (!parts[0].strip().equals("recorded")) {
                // Not known at this moment: the log's first note creates its record right after its bytes, and a
                // server that read the record before and after the bytes around that moment says "unknown" (it
                // cannot tell a new record from a rewrite). Asked again until the bound; then not vouched for, and
                // a later line's "unknown" is taken at once (review37: a log whose notes are never known held every
                // look-alike line for the bound, one second each).
                if (unknownForGood) {
                    return TerminalNotes.MAY_BE_THE_COMMANDS;
                }
                if (System.nanoTime() - deadline >= 0) {
                    unknownForGood = true;
                    return TerminalNotes.MAY_BE_THE_COMMANDS;
                }
                try {
                    Thread.sleep(RETRY_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return TerminalNotes.MAY_BE_THE_COMMANDS;
                }
                continue;
            }
            unknownForGood = false;
            Set<Long> notes = new HashSet<>();
            for (int i = 1; i < parts.length; i++) {
                String part = parts[i].strip();
                int plus = part.indexOf('+');
                try {
                    notes.add(Long.parseLong(part.substring(0, Math.max(0, plus))));
                } catch (NumberFormatException e) {
                    return TerminalNotes.MAY_BE_THE_COMMANDS; // not an answer this version reads
                }
            }
            if (notes.contains(heldAt)) {
                return TerminalNotes.NOTE;
            }
            // Bytes after the line were written after a note's record would have been (one writer, in order).
            if (page.bytes().length > expected.length || System.nanoTime() - deadline >= 0) {
                return TerminalNotes.PRINTED_BY_THE_COMMAND;
            }
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return TerminalNotes.MAY_BE_THE_COMMANDS;
            }
        }
    }

    private void remember(byte[] bytes, int offset, int length) {
        if (length >= CONTEXT) {
            System.arraycopy(bytes, offset + length - CONTEXT, recent, 0, CONTEXT);
            recentLength = CONTEXT;
            return;
        }
        int keep = Math.min(recentLength, CONTEXT - length);
        System.arraycopy(recent, recentLength - keep, recent, 0, keep);
        System.arraycopy(bytes, offset, recent, keep, length);
        recentLength = keep + length;
    }

    private static boolean startsWith(byte[] bytes, byte[] start) {
        return bytes.length >= start.length && Arrays.equals(bytes, 0, start.length, start, 0, start.length);
    }

    private static int indexOfNewline(byte[] bytes, int from, int end) {
        for (int i = from; i < end; i++) {
            if (bytes[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
