package org.buildhook.runner.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.buildhook.core.DataFiles;
import org.buildhook.core.IoProblems;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The log file of one attempt, with a size cap.
 *
 * <p>Bytes go to the file as they come, so the log can be read while the job runs. Once the cap
 * is reached, the first {@code head} bytes stay in the file and the rest of the output is kept in
 * a ring buffer of {@code cap - head} bytes in memory; on close the file is cut after the head, a
 * {@code [buildhook] log truncated} line is written where bytes were dropped, then the tail. The
 * tail matters most: that is where a failing script says why. That truncated log is written beside
 * the file and renamed over it, so a reader that opened the live file ({@code logs -f}) keeps the
 * bytes it had and finds the new file by its path, never a mix of the two.
 *
 * <p>An I/O error (disk full, log folder unwritable) never propagates: the output is still
 * drained (so the child never blocks on a full pipe) and counted, and the first error is kept
 * for the job's outcome message; on close such a log gets a {@code [buildhook] log cut here} line
 * ({@link #markCut}). The output pump and the launcher's notes write here, hence the
 * synchronisation.
 *
 * <p>Where its notes are is kept beside the log ({@link LogNotes}, {@link JobLogs#notesOf}), so that a reader can
 * tell them from a command's own line that looks like one: made at the first note (most logs have none, and a file
 * per attempt costs a creation and a deletion: docs/BENCHMARKS.md), a note's line appended after its bytes are in
 * the log; a log that is cut or rewritten has its record emptied first and written anew after. A log without a
 * record in a log folder marked as one whose logs are recorded ({@link JobLogs#notesRecordedMarkOf}) has no notes;
 * an empty record says its notes are not known: any error with the record empties it, so an error can never make a
 * command's line read as a note, nor buildhook's own cut line as the command's.
 *
 * <p>Written through an interrupt of the writing thread, which keeps it ({@link #throughInterrupt}): a {@link
 * FileChannel} closes itself when a thread interrupted is in (or enters) one of its operations, and this one is the
 * log of every thread that writes it. The launcher's stop interrupts the output pumps and the job threads still
 * running once it gave up waiting for their attempts; a thread whose wait that interrupt ended wrote its {@code killed:}
 * note with the interrupt still set, the log's channel closed under it, and the note, the rest of the output and, past
 * the cap, the whole tail (where a failing script says why) were lost, the outcome saying only "log incomplete: an
 * input/output error" (interrupt45).
 */
final class CappedLog extends OutputStream {

    static final String NOTE_PREFIX = "[buildhook] ";
    private static final byte[] NEWLINE = {'\n'};
    /** Whether the last byte written ended a line (or nothing was written): a note needs no newline before it. */
    private boolean lineEnded = true;
    private static final long MAX_HEAD = 8 * 1024;
    /** The smallest tail kept when the heap has no room for the cap's (below it: none). */
    private static final int MIN_RING = 4 * 1024;
    private static final int IO_CHUNK = 256 * 1024;
    /** What a log cut by a full disk gives up at its end to make room for its cut line: two 4 KiB blocks. */
    static final int CUT_ROOM = 8 * 1024;
    /**
     * What the tails of all logs past their cap may still take of the heap, together: half of it, the
     * rest is the server's (deliveries, the store, the scheduler's heartbeats). Without a bound each
     * tail took as much as the heap would still give, and a few such jobs at once left the rest of the
     * server none (review13 F2). A tail of {@link #MIN_RING} is always allowed.
     */
    private static final AtomicLong TAIL_ROOM = new AtomicLong(Runtime.getRuntime().maxMemory() / 2);

    private final FileChannel channel;
    /** The log's path, where the truncated log replaces the live one; null when it could not be opened. */
    private final Path file;
    /** The record of the notes' places ({@link LogNotes}); null until the first note, or once dropped. */
    private FileChannel notes;
    /** Whether the record was dropped (an error): no note is recorded again, the log reads as one without. */
    private boolean notesDropped;
    /** Whether the record has its first line: written with its first note (an empty record takes no disk block). */
    private boolean notesHeaded;
    /** Every note written (stream offset, length), for the record of a rewritten log; at most {@link #MAX_NOTES}. */
    private final java.util.List<long[]> noteAt = new java.util.ArrayList<>();
    private static final int MAX_NOTES = 10_000;
    private final long cap;
    private final long head;
    private long inFile;
    private long received;
    private byte[] ring;
    private int ringStart;
    private int ringLength;
    private IOException error;
    private boolean truncated;
    private boolean closed;
    /** The tail the cap asked for, when the heap could hold only a smaller one; 0 otherwise. */
    private long ringWanted;
    private int ringGot;
    /** The part of {@link #TAIL_ROOM} this log's tail holds, given back on close. */
    private long tailRoom;

    CappedLog(FileChannel channel, long cap, IOException openError) {
        this(channel, null, null, cap, openError);
    }

    private CappedLog(FileChannel channel, Path file, FileChannel notes, long cap, IOException openError) {
        // The ring buffer is one array: 1 GiB keeps it well inside an array's int size.
        if (cap < 1024 || cap > LauncherConfig.MAX_LOG_CAP) {
            throw new IllegalArgumentException("log cap must be between 1024 and " + LauncherConfig.MAX_LOG_CAP
                    + " bytes, was " + cap);
        }
        this.channel = channel;
        this.file = file;
        this.notes = notes;
        this.cap = cap;
        this.head = Math.min(MAX_HEAD, cap / 4);
        this.error = openError;
    }

    /** Opens (creating its folder, replacing an older file) the log; never throws. */
    static CappedLog open(Path file, long cap) {
        try {
            boolean newFolder = DataFiles.madeDirectoryInExisting(file.getParent());
            if (!newFolder) {
                // An earlier run of this attempt's record (that attempt runs again), gone before the log is emptied:
                // a stop in between leaves the older log with no record (its notes read as its command's lines),
                // never a record of notes in a log that has none. A folder this open just made holds none: its
                // job's first attempt skips the look (an lstat that finds nothing, 3 % of the job threads' CPU:
                // docs/BENCHMARKS.md, "Twenty-first pass").
                Files.deleteIfExists(JobLogs.notesOf(file));
            }
            FileChannel channel = DataFiles.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            // Left by a stop in the middle of an earlier attempt's rewrite (that attempt then runs again).
            if (!newFolder) {
                try {
                    Files.deleteIfExists(rewriteOf(file));
                } catch (IOException | RuntimeException e) {
                    closeQuietly(channel); // no log: the channel must not stay open (review32)
                    throw e;
                }
            }
            return new CappedLog(channel, file, null, cap, null);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return new CappedLog(null, cap, e instanceof IOException io ? io : new IOException(e));
        }
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
        throughInterrupt(() -> writeBytes(bytes, offset, length));
    }

    /**
     * Runs {@code work} with the calling thread's interrupt flag cleared, so that the log's channels are not closed
     * by it, and sets it again afterwards: the thread's own code still sees it. Only the outermost call (a note
     * writes its bytes through {@link #writeBytes}) clears and sets it. An interrupt that comes while {@code work}
     * runs still closes the channel it is in; it is kept too.
     */
    private void throughInterrupt(Runnable work) {
        boolean interrupted = Thread.interrupted();
        try {
            work.run();
        } finally {
            if (interrupted || Thread.interrupted()) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void writeBytes(byte[] bytes, int offset, int length) {
        if (closed || length <= 0) {
            return;
        }
        received += length;
        lineEnded = bytes[offset + length - 1] == '\n';
        if (ring == null) {
            int room = (int) Math.max(0, Math.min(length, cap - received + length));
            toFile(bytes, offset, room);
            if (room == length) {
                return;
            }
            // The file now holds exactly the first cap bytes; the ring takes over from here.
            startRing();
            offset += room;
            length -= room;
        }
        toRing(bytes, offset, length);
    }

    /**
     * Writes a {@code [buildhook] } line, for what the launcher itself has to say, and records where it is. After
     * output that did not end its line (a job's {@code progress 50%} when it was killed), a newline first: the note
     * begins a line of its own, as a reader of the log looks for it (tryout41 F10); that newline is not the note's.
     */
    synchronized void note(String line) {
        throughInterrupt(() -> noteLine(line));
    }

    private void noteLine(String line) {
        byte[] bytes = (NOTE_PREFIX + line + "\n").getBytes(StandardCharsets.UTF_8);
        if (closed) {
            return;
        }
        if (!lineEnded) {
            writeBytes(NEWLINE, 0, 1);
        }
        long at = received;
        boolean wholeInFile = ring == null && at + bytes.length <= cap;
        writeBytes(bytes, 0, bytes.length);
        if (noteAt.size() < MAX_NOTES) {
            noteAt.add(new long[] {at, bytes.length});
        }
        if (wholeInFile && channel != null && error == null) {
            // After the note's bytes: a stop in between leaves a record that misses it, not one that is ahead.
            recordNote(at, bytes.length);
        } else if (noteAt.size() >= MAX_NOTES) {
            dropNotes();
        }
    }

    private void recordNote(long at, long length) {
        if (notesDropped || file == null) {
            return;
        }
        try {
            if (notes == null) {
                notes = DataFiles.open(JobLogs.notesOf(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
            }
            String line = (notesHeaded ? "" : LogNotes.header()) + at + " " + length + "\n";
            notesHeaded = true;
            writeFully(notes, ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException | RuntimeException e) {
            // A line half written must not be followed by another (it would read as a wrong one): no record.
            dropNotes();
        }
    }

    /**
     * Empties the record of notes (made empty when there was none): an empty record says its log's notes are not
     * known, so the log reads as one from before records (its notes and the command's look-alike lines alike,
     * unmarked), never as one with no notes, which would show buildhook's own lines (a full disk's cut line) as the
     * command's (review32 F3). Emptying a file needs no free block of the disk; only when even that fails is it
     * deleted.
     */
    private void dropNotes() {
        if (file == null) {
            return;
        }
        notesDropped = true;
        FileChannel record = notes;
        notes = null;
        try {
            if (record == null) {
                record = DataFiles.open(JobLogs.notesOf(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            }
            record.truncate(0);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(JobLogs.notesOf(file));
        } finally {
            closeQuietly(record);
        }
    }

    /**
     * The record of a log rewritten as head, marker and tail: the notes wholly in the head or in the tail, at
     * their new places, and the marker's line (from {@code head + 1}, after its leading newline).
     */
    private void recordNotesOfTruncated(int markerLength) {
        long tailFrom = received - ringLength;
        StringBuilder lines = new StringBuilder(LogNotes.header());
        boolean markerDone = false;
        for (long[] n : noteAt) {
            if (n[0] + n[1] <= head) {
                lines.append(n[0]).append(' ').append(n[1]).append('\n');
                continue;
            }
            if (!markerDone) {
                lines.append(head + 1).append(' ').append(markerLength - 1).append('\n');
                markerDone = true;
            }
            if (n[0] >= tailFrom) {
                lines.append(head + markerLength + n[0] - tailFrom).append(' ').append(n[1]).append('\n');
            }
        }
        if (!markerDone) {
            lines.append(head + 1).append(' ').append(markerLength - 1).append('\n');
        }
        Path record = JobLogs.notesOf(file);
        try (FileChannel out = DataFiles.open(record, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            try {
                writeFully(out, ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.US_ASCII)));
            } catch (IOException | RuntimeException e) {
                out.truncate(0); // not known, as dropNotes
            }
        } catch (IOException | RuntimeException e) {
            // left empty by the open, or as dropNotes made it before: not known
        }
    }

    private static void closeQuietly(FileChannel c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // nothing was buffered
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException | RuntimeException e) {
            // the record stays as it was: behind, never ahead of the log (see note)
        }
    }

    synchronized boolean truncated() {
        return truncated || ring != null;
    }

    /** The first I/O error, or null. */
    synchronized IOException error() {
        return error;
    }

    @Override
    public synchronized void close() {
        throughInterrupt(this::closeNow);
    }

    private void closeNow() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (channel == null) {
                return;
            }
            try (channel) {
                if (ring != null && error == null) {
                    try {
                        writeTail();
                    } catch (IOException e) {
                        // The tail did not make it: the log ends at whatever the rewrite left, so it gets
                        // the cut line below like any log that could not be written to its end (review19 R6).
                        keep(e);
                    }
                }
                if (error != null) {
                    // Its notes' places after the cut are not kept: the log reads as one without a record.
                    dropNotes();
                    markCut();
                }
            } catch (IOException e) {
                keep(e);
            }
        } finally {
            closeQuietly(notes);
            notes = null;
            if (ring != null) {
                // Not written (an I/O error): the bytes past the cap are lost, as the outcome says.
                truncated = true;
                ring = null;
            }
            TAIL_ROOM.addAndGet(tailRoom);
            tailRoom = 0;
        }
    }

    /**
     * The log could not be written to its end (its disk filled up after it was opened, disk18 D4): ends it
     * with a {@code [buildhook] log cut here: …} line, so that its reader knows the output goes on past it
     * and why, rather than finding it stop mid-line. On a disk still full, the last {@link #CUT_ROOM} bytes
     * written are given up first to make room for the line (a file system frees whole blocks); when even
     * that fails, the log stays as it is, and the outcome's {@code log incomplete} says it.
     */
    private void markCut() {
        try {
            long size = channel.size();
            if (writeCutLine(size, size)) {
                return;
            }
            long cut = Math.max(0, size - CUT_ROOM);
            channel.truncate(cut);
            writeCutLine(cut, size);
        } catch (IOException | RuntimeException e) {
            // The outcome's "log incomplete" still says why.
        }
    }

    /** Writes the cut line at {@code at}; {@code written} is how much of the output had reached the file. */
    private boolean writeCutLine(long at, long written) {
        String line = "\n" + NOTE_PREFIX + "log cut here: it could not be written further ("
                + IoProblems.describe(error) + "); " + Math.max(0, received - at) + " bytes of output are not in"
                + " this log" + (at < written ? " (" + (written - at) + " bytes written before were given up to make"
                        + " room for this line)" : "") + ". The command ran on; its outcome is recorded with the job\n";
        ByteBuffer bytes = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
        try {
            long position = at;
            while (bytes.hasRemaining()) {
                position += channel.write(bytes, position);
            }
            channel.truncate(position);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Where the truncated log of {@code file} is written before it is renamed over it ({@link JobLogs#rewriteOf}). */
    static Path rewriteOf(Path file) {
        return JobLogs.rewriteOf(file);
    }

    private void writeTail() throws IOException {
        long dropped = received - head - ringLength;
        String shortened = tailShortened();
        String marker = "\n" + NOTE_PREFIX + "log truncated: " + dropped + " bytes dropped here (log cap "
                + cap + " bytes; the first " + head + " and the last " + ringLength + " bytes are kept"
                + (shortened == null ? "" : "; " + shortened) + ")\n";
        ByteBuffer markerBytes = ByteBuffer.wrap(marker.getBytes(StandardCharsets.UTF_8));
        int markerLength = markerBytes.remaining();
        // The record goes first and comes back after: never one of the old log's places read in the new one.
        boolean recorded = !notesDropped;
        dropNotes();
        // Rewriting in place changed bytes under a reader of the live file: a 'logs -f' then went on at its
        // offset in the new content and printed a line glued from two (tryout11 F1).
        if (file != null && replaceWithTruncated(markerBytes)) {
            if (recorded) {
                recordNotesOfTruncated(markerLength);
            }
            return;
        }
        channel.truncate(head);
        channel.position(head);
        writeFully(markerBytes.rewind());
        writeRing(channel);
        if (recorded) {
            recordNotesOfTruncated(markerLength);
        }
        truncated = true;
        ring = null;
    }

    /** Writes head, marker and tail beside the log and renames it over; false (nothing changed) if it cannot. */
    private boolean replaceWithTruncated(ByteBuffer marker) {
        Path temp = rewriteOf(file);
        try {
            try (FileChannel out = DataFiles.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer headBytes = ByteBuffer.allocate((int) head);
                while (headBytes.hasRemaining()) {
                    if (channel.read(headBytes, headBytes.position()) < 0) {
                        break;
                    }
                }
                writeFully(out, headBytes.flip());
                writeFully(out, marker);
                writeRing(out);
            }
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            truncated = true;
            ring = null;
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException | SecurityException ignored) {
                // the in-place rewrite below still gives the log its tail
            }
            return false;
        }
    }

    private void writeRing(FileChannel out) throws IOException {
        int firstPart = Math.min(ringLength, ring.length - ringStart);
        writeFully(out, ByteBuffer.wrap(ring, ringStart, firstPart));
        writeFully(out, ByteBuffer.wrap(ring, 0, ringLength - firstPart));
    }

    private void toFile(byte[] bytes, int offset, int length) {
        if (channel == null || error != null) {
            return;
        }
        try {
            writeFully(ByteBuffer.wrap(bytes, offset, length));
            inFile += length;
        } catch (IOException e) {
            keep(e);
        }
    }

    /** What is in the file after the head becomes the start of the tail (its last bytes, if the ring is smaller). */
    private void startRing() {
        long wanted = cap - head;
        long[] granted = new long[1];
        TAIL_ROOM.getAndUpdate(room -> room - (granted[0] = Math.min(wanted, Math.max(MIN_RING, room))));
        ring = allocateRing(granted[0]);
        tailRoom = ring.length;
        TAIL_ROOM.addAndGet(granted[0] - ring.length);
        if (ring.length < wanted) {
            ringWanted = wanted;
            ringGot = ring.length;
        }
        ringStart = 0;
        ringLength = 0;
        if (channel == null || error != null || inFile <= head || ring.length == 0) {
            return;
        }
        try {
            long position = Math.max(head, inFile - ring.length);
            ByteBuffer buffer = ByteBuffer.wrap(ring, 0, (int) (inFile - position));
            while (buffer.hasRemaining()) {
                int read = channel.read(chunk(buffer), position);
                if (read < 0) {
                    break;
                }
                buffer.position(buffer.position() + read);
                position += read;
            }
            ringLength = buffer.position();
        } catch (IOException e) {
            keep(e);
        }
    }

    /**
     * The tail's buffer: {@code wanted} bytes (what {@link #TAIL_ROOM} granted), or as much less as the
     * heap can give. A cap is the operator's choice (up to 1 GiB) and every running job past it holds
     * one: {@code runner.threads} such buffers may not fit the JVM's heap. Without this the
     * OutOfMemoryError ended the output pump, and the job blocked on its full pipe (tryout12 F1).
     */
    static byte[] allocateRing(long wanted) {
        long size = wanted;
        while (true) {
            try {
                return new byte[(int) size];
            } catch (OutOfMemoryError e) {
                // A failed allocation of one large array leaves the heap as it was: try half.
            }
            if (size <= MIN_RING) {
                return new byte[0];
            }
            size = Math.max(MIN_RING, size / 2);
        }
    }

    /** When the heap could not hold the tail the cap asked for: what was kept instead, in words; else null. */
    synchronized String tailShortened() {
        if (ringWanted == 0) {
            return null;
        }
        return "tail shortened to " + ringGot + " bytes: the server's memory (the JVM's -Xmx) could not hold the "
                + ringWanted + " bytes runner.log-max-bytes asks for (the tails of all jobs together take at most"
                + " half of it)";
    }

    private void toRing(byte[] bytes, int offset, int length) {
        int size = ring.length;
        if (size == 0) {
            return;
        }
        if (length >= size) {
            System.arraycopy(bytes, offset + length - size, ring, 0, size);
            ringStart = 0;
            ringLength = size;
            return;
        }
        int end = (ringStart + ringLength) % size;
        int firstPart = Math.min(length, size - end);
        System.arraycopy(bytes, offset, ring, end, firstPart);
        System.arraycopy(bytes, offset + firstPart, ring, 0, length - firstPart);
        int overflow = ringLength + length - size;
        if (overflow > 0) {
            ringStart = (ringStart + overflow) % size;
            ringLength = size;
        } else {
            ringLength += length;
        }
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        writeFully(channel, buffer);
    }

    /**
     * At most {@link #IO_CHUNK} bytes of {@code buffer} from its position, sharing its content: the
     * JDK copies a heap buffer through a temporary direct buffer of the same size, and one of a tail's
     * size (up to the cap) could exceed the JVM's direct memory, itself bounded by -Xmx.
     */
    private static ByteBuffer chunk(ByteBuffer buffer) {
        return buffer.slice(buffer.position(), Math.min(buffer.remaining(), IO_CHUNK));
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ByteBuffer part = chunk(buffer);
            int written = out.write(part);
            buffer.position(buffer.position() + written);
        }
    }

    private void keep(IOException e) {
        if (error == null) {
            error = e;
        }
    }
}
