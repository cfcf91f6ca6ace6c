package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.buildhook.core.LogSafe;

/**
 * Which bytes of an attempt's log are buildhook's own notes (its {@code [buildhook] } lines), so that a reader can
 * tell them from a command's line that looks the same (words32). The log itself stays the command's bytes and the
 * notes, as written (docs/running-jobs.md, "Log files"); the record is a file beside it, {@link JobLogs#notesOf}:
 * a first line {@code buildhook-notes 1 TOKEN}, then one line {@code OFFSET LENGTH} per note (bytes, decimal). The
 * launcher ({@code CappedLog}) creates it at the first note, appends a note's line after the note's bytes are in the
 * log, and when it cuts or rewrites the log empties it first and writes a new one (a new TOKEN) after; an error with
 * the record (a full disk) leaves it empty. An empty record says the log's notes are not known: nothing is marked, as
 * in an older build's log. A log with no record has no notes when it was changed after its log directory was marked
 * ({@link JobLogs#notesRecordedMarkOf}); else (an older build's log) nothing tells its notes from the command's
 * lines. So a stop or an error at any point may leave a note unmarked, never a command's bytes read as a note, nor
 * buildhook's own line (the cut line of a full disk) as the command's.
 */
public final class LogNotes {

    /** The first line's start; the token after it is new for every record written. */
    static final String HEADER = "buildhook-notes 1 ";
    private static final byte[] PREFIX = CappedLog.NOTE_PREFIX.getBytes(StandardCharsets.US_ASCII);
    /** A record longer than this is not read (a log's notes are a few lines). */
    private static final long MAX_RECORD = 1 << 20;

    private LogNotes() {
    }

    /**
     * Characters that read as the note mark {@code ◆} (U+25C6) that readers put before buildhook's notes (the job's
     * page, {@code buildhook logs} on a terminal): the mark itself and other diamonds (◇ ◈ ◊ ♦ ♢ ⋄ ❖ ⬥ ⬦ ⬩ ⯁ and the
     * emoji's 🔶🔷🔸🔹).
     */
    private static final Set<Integer> DIAMONDS = Set.of(0x25c6, 0x25c7, 0x25c8, 0x25ca, 0x2666, 0x2662, 0x22c4,
            0x2756, 0x2b25, 0x2b26, 0x2b29, 0x2bc1, 0x1f536, 0x1f537, 0x1f538, 0x1f539);

    /**
     * How many chars a line begins with that show as nothing or escaped: blanks (a tab, a space separator), control
     * characters (a {@code \r}) and invisible ones ({@link LogSafe#isInvisible}, a zero-width space), up to its first
     * other character or a newline.
     *
     * @param line a line's text from its first character
     * @return how many chars, {@code 0} to {@code line.length()}
     */
    public static int blanksBefore(CharSequence line) {
        int i = 0;
        while (i < line.length()) {
            int c = Character.codePointAt(line, i);
            if (c == '\n' || !(c == '\t' || c == '\r' || Character.getType(c) == Character.SPACE_SEPARATOR
                    || Character.isISOControl(c) || LogSafe.isInvisible(c))) {
                break;
            }
            i += Character.charCount(c);
        }
        return i;
    }

    /**
     * Whether a character reads as the note mark a reader puts before buildhook's notes (a diamond: ◆ ◇ ♦ ⬥ 🔷 …).
     *
     * @param codePoint a Unicode code point
     * @return whether it is one of them
     */
    public static boolean isDiamond(int codePoint) {
        return DIAMONDS.contains(codePoint);
    }

    /**
     * Whether a line reads like one of buildhook's notes as a reader marks them though no note begins so, whatever a
     * record says (tryout41 F1): it begins with a diamond ({@link #isDiamond}), or with {@code [buildhook] } or a
     * diamond after {@link #blanksBefore blanks or characters shown as nothing or escaped}. A note begins with {@code
     * [buildhook] } at the line's first byte, so such a line is the command's. The job's page and {@code buildhook
     * logs} on a terminal mark it {@code (printed by the command)}.
     *
     * @param line a line's text from its first character (its first 256 chars are read)
     * @return whether it is the command's line that looks like a note
     */
    public static boolean forged(CharSequence line) {
        CharSequence start = line.length() > LOOK ? line.subSequence(0, LOOK) : line;
        int i = blanksBefore(start);
        if (i > 0 && start.toString().startsWith(CappedLog.NOTE_PREFIX, i)) {
            return true;
        }
        return i < start.length() && isDiamond(Character.codePointAt(start, i));
    }

    /** How many of a line's first chars {@link #forged} reads: a longer run of blanks begins nothing. */
    private static final int LOOK = 256;

    /**
     * One note: {@code length} bytes from {@code offset} in the log.
     *
     * @param offset from the log's start, in bytes, {@code >= 0}
     * @param length in bytes, {@code >= 1}
     */
    public record Range(long offset, long length) {
        /** The offset just past the note's last byte (its newline). */
        public long end() {
            return offset + length;
        }
    }

    /**
     * A piece of a log, read together with its record of notes.
     *
     * @param from     where {@code bytes} start in the log, in bytes
     * @param bytes    the log's bytes from {@code from} to its end as it was read
     * @param notes    the notes within the piece (a note begun before {@code from} starts at {@code from}), in order;
     *                 empty when not {@code recorded}
     * @param recorded whether the record could be read and belongs to the bytes read: then a {@code [buildhook] }
     *                 line not in {@code notes} was written by the command (or is a note a stop kept from the
     *                 record); when false nothing tells them apart (a log written before the record existed, or one
     *                 rewritten while it was read)
     */
    public record Piece(long from, byte[] bytes, List<Range> notes, boolean recorded) {
    }

    /**
     * The last {@code maxBytes} bytes of {@code log} and which of them are buildhook's notes.
     *
     * @param log      an attempt's log file
     * @param maxBytes how much of its end to read, in bytes, {@code >= 0}
     * @return the piece read
     * @throws NoSuchFileException if there is no such log
     * @throws IOException         if it cannot be read
     */
    public static Piece readTail(Path log, long maxBytes) throws IOException {
        return read(log, -1, maxBytes);
    }

    /**
     * At most {@code maxBytes} bytes of {@code log} from byte {@code from} on, and which of them are buildhook's notes
     * (as {@link #readTail}). A note only partly in the piece is not one of its notes.
     *
     * @param log      an attempt's log file
     * @param from     the first byte to read, {@code >= 0}; at or past the log's end the piece is empty
     * @param maxBytes how much to read at most, in bytes, {@code >= 0}
     * @return the piece read
     * @throws NoSuchFileException if there is no such log
     * @throws IOException         if it cannot be read
     */
    public static Piece readFrom(Path log, long from, long maxBytes) throws IOException {
        if (from < 0 || maxBytes < 0) {
            throw new IllegalArgumentException("from and maxBytes must be >= 0: " + from + ", " + maxBytes);
        }
        return read(log, from, maxBytes);
    }

    /** {@link #readFrom}, or, with {@code start} -1, {@link #readTail}. */
    private static Piece read(Path log, long start, long maxBytes) throws IOException {
        Path record = JobLogs.notesOf(log);
        Record before = read(record);
        long from;
        byte[] bytes;
        FileTime changed;
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ)) {
            changed = Files.getLastModifiedTime(log);
            long size = channel.size();
            from = start < 0 ? Math.max(0, size - maxBytes) : Math.min(start, size);
            size = start < 0 ? size : Math.min(size, from + maxBytes);
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, size - from));
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, from + buffer.position()) < 0) {
                    break;
                }
            }
            bytes = buffer.position() == buffer.capacity() ? buffer.array()
                    : java.util.Arrays.copyOf(buffer.array(), buffer.position());
        }
        Record after = read(record);
        if (before == NONE && after == NONE) {
            // No record: none was made (no note yet) if the log was written since its folder's logs are recorded;
            // else an older build wrote it (or the record was dropped: then its notes read as the command's lines,
            // never the other way round).
            return new Piece(from, bytes, List.of(), recordedWithoutNotes(log, changed));
        }
        // The same record before and after the read: the log was not rewritten meanwhile (a rewrite deletes the
        // record first and writes one with a new token after), so its notes are the bytes read.
        if (before == null || after == null || !before.token.equals(after.token)) {
            return new Piece(from, bytes, List.of(), false);
        }
        long end = from + bytes.length;
        List<Range> notes = new ArrayList<>();
        for (Range r : after.ranges) {
            if (r.end() > end) {
                continue; // written after the read (a note's line follows its bytes, so this is rare)
            }
            if (r.end() <= from) {
                continue;
            }
            if (start >= 0 && r.offset() < from) {
                continue; // begun before the piece: its start is in the piece before
            }
            boolean whole = r.offset() >= from;
            if (bytes[(int) (r.end() - 1 - from)] != '\n' || whole && !startsWithPrefix(bytes, (int) (r.offset() - from))) {
                // Not a note where the record says: the record does not belong to these bytes; trust none of it.
                return new Piece(from, bytes, List.of(), false);
            }
            notes.add(whole ? r : new Range(from, r.end() - from));
        }
        return new Piece(from, bytes, List.copyOf(notes), true);
    }

    private static boolean startsWithPrefix(byte[] bytes, int at) {
        if (at + PREFIX.length > bytes.length) {
            return false;
        }
        for (int i = 0; i < PREFIX.length; i++) {
            if (bytes[at + i] != PREFIX[i]) {
                return false;
            }
        }
        return true;
    }

    /** A record as read: its token and its whole lines (a line the writer did not finish is not one). */
    private record Record(String token, List<Range> ranges) {
    }

    /** No record beside the log ({@link #read}). */
    private static final Record NONE = new Record("-", List.of());

    /**
     * Whether {@code log}, with no record beside it, was written by a build that makes one at a log's first note:
     * its log directory (the log's folder's folder, {@link JobLogs#pathFor}) has the mark
     * ({@link JobLogs#notesRecordedMarkOf}) and the log was changed at or after the mark was made.
     */
    private static boolean recordedWithoutNotes(Path log, FileTime changed) {
        Path folder = log.toAbsolutePath().getParent();
        Path directory = folder == null ? null : folder.getParent();
        if (directory == null) {
            return false;
        }
        try {
            FileTime marked = Files.getLastModifiedTime(JobLogs.notesRecordedMarkOf(directory));
            return changed.compareTo(marked) >= 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The record; {@link #NONE} when there is none; null when it cannot be read or is not one. */
    private static Record read(Path record) {
        String text;
        try {
            if (Files.size(record) > MAX_RECORD) {
                return null;
            }
            text = Files.readString(record, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return NONE;
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (text.isEmpty()) {
            return null; // emptied on an error, or being written: its log's notes are not known
        }
        int firstEnd = text.indexOf('\n');
        if (!text.startsWith(HEADER) || firstEnd < 0) {
            return null;
        }
        String token = text.substring(HEADER.length(), firstEnd);
        List<Range> ranges = new ArrayList<>();
        int at = firstEnd + 1;
        long last = -1;
        while (true) {
            int end = text.indexOf('\n', at);
            if (end < 0) {
                break;
            }
            String[] parts = text.substring(at, end).split(" ", -1);
            try {
                long offset = Long.parseLong(parts[0]);
                long length = Long.parseLong(parts[1]);
                if (parts.length != 2 || offset < 0 || length < 1 || offset < last) {
                    return null;
                }
                ranges.add(new Range(offset, length));
                last = offset + length;
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                return null;
            }
            at = end + 1;
        }
        return new Record(token, ranges);
    }

    /** The first line of a new record, with a token no other record of this log had. */
    static String header() {
        return HEADER + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong())
                + Long.toHexString(System.nanoTime()) + "\n";
    }
}
