package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.buildhook.core.DataFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attempts a graceful stop of this node cut short but could not record as interrupted (the store could not be
 * reached: a partition, a hung server, SQLite's lock held by another process), kept in a file of the node's data
 * folder ({@value #FILE_NAME}, one {@code <node id> <job id> <attempt>} line each) so that the next start of the node
 * says that it stopped before the attempt ended, not that it died, as it does of an attempt nobody recorded after a
 * {@code kill -9} (tryout20 F2). Only this node reads it: another node taking the job over cannot know, and says
 * what it sees; the death such a record counts is taken back by this node's next start (review21 R3). Best effort: a file that cannot be written or read leaves the words of a death, and is said at DEBUG.
 * <p>
 * A stop also notes, as it begins, the attempts it is about to cut short ({@code <node id> <job id> <attempt> begun}):
 * a stop ended by {@code SIGKILL} before it could record them (the stop timeout of systemd or of the container engine,
 * 10 s by default for {@code podman stop}, shorter than the stop) is not a death either, and is not counted among the
 * deaths in a row that end a job ({@code runner.deaths-in-a-row}; review21 R1). An attempt the stop then records is no
 * longer running at the next start, so its line is never used.
 *
 * <p>An attempt whose outcome the node knew (its command had exited by itself, timed out, or been cancelled by
 * this node) but could not record before it stopped is noted with that outcome (tryout21 F3):
 * {@code <node id> <job id> <attempt> <result> <exit code or -> <end, epoch milliseconds, or -> [<log file>]}, the
 * log file last (it may hold spaces); the next start records it. The file begins with the line {@value #HEADER};
 * lines starting with {@code #} are comments, and lines of three or four words (as written before the outcome was
 * kept) are read as before. An outcome that cannot be read is left out (the line then counts as a plain cut short).
 *
 * <p>An attempt the stop cut short is noted with the time its process tree was killed, {@code <node id> <job id>
 * <attempt> STOPPED - <end, epoch milliseconds>}, which the next start records as the attempt's end instead of its
 * own time (tryout22 F5). An attempt whose command this node had killed by self-fencing (no heartbeat could be
 * written for half the dead-node limit) before a stop that could not record it is noted {@code <node id> <job id>
 * <attempt> FENCED - <end, epoch milliseconds, or -> <why>}, the fencing's own words last (they hold spaces): the next
 * start records those words, not that the node was gone (outcome21). Both are of format 2: a reader of the lines
 * above takes them for a plain cut short, as an unreadable outcome.
 *
 * <p>The node id is written percent-encoded ({@link #word(String)}: a space is {@code %20}, {@code %} is {@code %25}),
 * so that an accepted id holding a space (deprecated) stays one word (review37 F3: {@code node a 01J… 1 begun} was
 * read as five words, its stop taken for a death and an outcome it knew lost). Lines written before, with the raw id,
 * are still read: a line that begins with this node's own raw id and a space is taken as its own. The keys this
 * class answers ({@link #noted}, {@link #outcomesToRecord}) hold the encoded id: {@link #nodeOf} decodes it.
 *
 * <p>Room is kept for the notes (tryout43 F1: a graceful stop while SQLite's disk was full wrote a file of 0 bytes,
 * said "Kept in stops-not-recorded", and the next start ran the deploy again): {@link #keepRoom} keeps a file of
 * real, incompressible blocks beside it ({@value #RESERVE_NAME}, {@link #room()} bytes) in the data folder, the folder
 * most often on the very disk the store fills. A note whose write fails for want of space (no space left, a disk
 * quota) frees a part of it ({@link #CHUNK} bytes or twice the note, whichever is more: what the file system and the
 * store's retried commit take meanwhile leaves the rest for the stop's later notes) and is written again; the whole
 * file goes when the note file itself could not be made (no inode left). A write is forced to disk (the file, and the
 * folder when it made the file) before it counts as kept, and a part written by a failed try is cut off first. Freeing
 * a file's blocks frees room on every file system, copy-on-write ones (btrfs) included, where writing over blocks
 * kept in the note file itself would need new ones. A note that cannot be written even so (a read-only file system,
 * an input/output error, the room used up by something else) is said by {@link Note#problem}, for the stop's words:
 * never "kept" unless it is on disk. Both files are {@code 0640} whatever the umask ({@link DataFiles}, tryout43 F2).
 */
final class StopsNotRecorded {

    private static final Logger LOG = LoggerFactory.getLogger(StopsNotRecorded.class);

    /** The file's name in the data folder. */
    static final String FILE_NAME = "stops-not-recorded";
    /** The name, in the data folder, of the file whose blocks are kept for the notes ({@link #keepRoom}). */
    static final String RESERVE_NAME = FILE_NAME + ".reserve";
    /** The name, in the data folder, of the file written whole before it replaces the notes ({@link #rewrite}). */
    static final String NEXT_NAME = FILE_NAME + ".next";
    /** The least room kept for the notes, in bytes: 512 KiB. */
    static final long LEAST_ROOM = 512 * 1024;
    /**
     * The room kept for one attempt's notes, in bytes, besides its node id: its {@code begun} line and its longest
     * other line, an outcome with its log file's path (at most {@code PATH_MAX}, 4096 bytes; a self-fencing's words
     * are shorter), with the job id, the attempt, the result, the exit code and the end (about 100 bytes).
     */
    static final long ROOM_PER_ATTEMPT = 4096 + 2 * 128;
    /** The room kept besides the attempts' notes, in bytes: the file system's own blocks, and what else takes room. */
    static final long ROOM_BESIDE = 256 * 1024;
    /** The least part of the kept room freed for a note that found no space, in bytes: 64 KiB. */
    static final long CHUNK = 64 * 1024;
    /**
     * How a note's bytes go into its file: all of {@code bytes} from position {@code at}. A seam for the tests' one
     * injected failure, a disk full until room is freed, which unit tests cannot make without mounting one.
     */
    @FunctionalInterface
    interface Disk {

        /** The file system's own writes. */
        Disk REAL = (channel, bytes, at) -> {
            long next = at;
            while (bytes.hasRemaining()) {
                next += channel.write(bytes, next);
            }
        };

        /** Writes all of {@code bytes} into {@code channel} from position {@code at}. */
        void write(java.nio.channels.FileChannel channel, java.nio.ByteBuffer bytes, long at) throws IOException;
    }

    /** One note written, or room kept, at a time, by any instance: the data folder is one node's. */
    private static final Object WRITES = new Object();

    /**
     * A note as the stop asked for it.
     *
     * @param lines   the lines it holds, each ending with a line break
     * @param problem {@code null} once they are on disk (written and forced); else why they could not be written,
     *                in the file system's words ({@code /data/stops-not-recorded: Read-only file system})
     */
    record Note(String lines, String problem) {

        /** Whether the lines are on disk. */
        boolean kept() {
            return problem == null;
        }
    }
    /** The last word of a line noted as a stop began. */
    private static final String BEGUN = "begun";

    /** The file's first line: its format's version. */
    static final String HEADER = "# buildhook stops-not-recorded 2: <node, percent-encoded> <job> <attempt>"
            + " [begun | <result> <exit|-> <end ms|-> [<log>] | STOPPED - <end ms> | FENCED - <end ms|-> <why>]";
    /** The result word of an attempt this node's stop cut short, with when its process tree was killed. */
    private static final String STOPPED = "STOPPED";
    /** The result word of an attempt this node's self-fencing had killed before the stop. */
    private static final String FENCED = "FENCED";

    /**
     * What an attempt had come to before its node stopped without recording it.
     *
     * @param result   {@code SUCCEEDED}, {@code FAILED}, {@code TIMED_OUT} or {@code CANCELLED}
     * @param exitCode the command's exit code, {@code null} when it has none (a timeout, a cancel)
     * @param ended    when the command ended, or {@code null} when unknown
     * @param logFile  the attempt's log file, or {@code null}
     */
    record Known(org.buildhook.runner.exec.JobOutcome.Result result, Integer exitCode, java.time.Instant ended,
            Path logFile) {
    }

    /**
     * How an attempt without an outcome of its own ended before its node stopped without recording it: cut short by the
     * stop, or killed by the node's self-fencing.
     *
     * @param ended  when its process tree was killed, or {@code null} when unknown
     * @param fenced the self-fencing's words (why the node killed it), or {@code null} when the stop cut it short
     */
    record Cut(java.time.Instant ended, String fenced) {
    }

    /** {@code <node id> <job id> <attempt>} to how a stop or a fencing ended it, read at the start or noted since. */
    private final Map<String, Cut> cuts = new ConcurrentHashMap<>();

    /** {@code <node id> <job id> <attempt>} to the outcome its stop knew and could not record, read at the start. */
    private final Map<String, Known> outcomes = new ConcurrentHashMap<>();
    /** The keys of {@link #outcomes} the start has yet to record. */
    private final Set<String> pending = ConcurrentHashMap.newKeySet();

    private final Path file;
    /** The file whose blocks are kept for the notes, beside {@link #file}; {@code null} with no file. */
    private final Path reserve;
    /** The room kept for the notes, in bytes ({@link #roomFor}). */
    private final long room;
    /** How the notes are written: {@link Disk#REAL} but in tests. */
    private volatile Disk disk = Disk.REAL;
    /** Whether a note freed kept room in this run: not kept again before the next start (the stop's notes come). */
    private volatile boolean roomUsed;
    /** Whether the last {@link #keepRoom} could not keep it all, said once until it can. */
    private volatile boolean roomShort;
    /** This node's id as its lines and keys hold it: {@link #word(String)}. */
    private final String node;
    /** This node's id as configured, which lines written before the id was encoded begin with. */
    private final String rawNode;
    /**
     * {@code <node id> <job id> <attempt>} of the file's lines, read at the start, of whichever node id wrote them: the
     * data folder is one node's at a time (its lock), and the default {@code runner.node-id}, {@code <hostname>-<pid>},
     * is another at every start (review21 R6: only this start's own id was taken, so a node with the default id never
     * found what its last stop had noted).
     */
    private final Set<String> known = ConcurrentHashMap.newKeySet();
    /** {@code <node id> <job id> <attempt>} of the {@code begun} lines, read at the start: a stop began under them. */
    private final Set<String> begun = ConcurrentHashMap.newKeySet();
    /** {@code <job id> <attempt>} of the {@code begun} lines this engine's own stop wrote, on disk. */
    private final Set<String> begunKept = ConcurrentHashMap.newKeySet();
    /** Whether the file was deleted after the start's sweep: only once, never what this engine's own stop writes. */
    private final java.util.concurrent.atomic.AtomicBoolean swept = new java.util.concurrent.atomic.AtomicBoolean();
    /** Whether this engine noted an attempt its stop could not record ({@link #add}), on disk or not: {@link #holdsUnrecorded}. */
    private volatile boolean notedHere;

    /**
     * @param file where the record is kept ({@code <data-dir>/stops-not-recorded}), or {@code null} for none
     * @param node this node's {@code runner.node-id}, which its own lines name
     */
    StopsNotRecorded(Path file, String node) {
        this(file, node, 1);
    }

    /**
     * @param file    where the record is kept ({@code <data-dir>/stops-not-recorded}), or {@code null} for none
     * @param node    this node's {@code runner.node-id}, which its own lines name
     * @param threads the most attempts this node runs at once ({@code runner.threads}, 1 to 1000), which the room
     *                kept for the notes is for ({@link #roomFor})
     */
    StopsNotRecorded(Path file, String node, int threads) {
        this.file = file;
        this.reserve = file == null ? null : file.resolveSibling(RESERVE_NAME);
        this.node = word(node);
        this.rawNode = node;
        this.room = roomFor(this.node, threads);
        if (file == null || !Files.exists(file)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                read(line.strip());
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read {}: {}", file, e.toString());
        }
    }

    /** Takes one line of the file, if it can be read. */
    private void read(String line) {
        if (line.startsWith("#")) {
            return;
        }
        line = encoded(line);
        String[] parts = line.split(" ", 7);
        if (line.startsWith("#") || parts.length < 3) {
            return;
        }
        String key = parts[0] + " " + parts[1] + " " + parts[2];
        if (parts.length == 4 && parts[3].equals(BEGUN)) {
            begun.add(key);
            return;
        }
        if (parts.length >= 6 && (parts[3].equals(STOPPED) || parts[3].equals(FENCED))) {
            try {
                boolean fenced = parts[3].equals(FENCED);
                cuts.put(key, new Cut(instant(parts[5]), fenced
                        ? (parts.length == 7 && !parts[6].isEmpty() ? parts[6] : "killed by its own node") : null));
            } catch (RuntimeException e) {
                LOG.debug("cannot read the end in {} of the line '{}': {}", file, line, e.toString());
            }
        } else if (parts.length >= 6) {
            try {
                outcomes.put(key, new Known(org.buildhook.runner.exec.JobOutcome.Result.valueOf(parts[3]),
                        parts[4].equals("-") ? null : Integer.valueOf(parts[4]),
                        instant(parts[5]), parts.length == 7 && !parts[6].isEmpty() ? Path.of(parts[6]) : null));
                pending.add(key);
            } catch (RuntimeException e) {
                LOG.debug("cannot read the outcome in {} of the line '{}': {}", file, line, e.toString());
            }
        }
        known.add(key);
    }

    /** {@code line} (stripped, no comment) with its node id as this class's keys hold it ({@link #word(String)}). */
    private String encoded(String line) {
        if (!rawNode.equals(node) && line.startsWith(rawNode + " ")) {
            // Written before the id was encoded, by this very id: its words are after the id.
            return node + line.substring(rawNode.length());
        }
        int space = line.indexOf(' ');
        return space > 0 ? word(decoded(line.substring(0, space))) + line.substring(space) : line;
    }

    /** {@code <node id> <job id> <attempt>} of a line of the file, as {@link #read} keys it; empty for none. */
    private String keyOf(String line) {
        String stripped = line.strip();
        if (stripped.isEmpty() || stripped.startsWith("#")) {
            return "";
        }
        String[] parts = encoded(stripped).split(" ", 4);
        return parts.length < 3 ? "" : parts[0] + " " + parts[1] + " " + parts[2];
    }

    /**
     * A node id as a line holds it: one word, each {@code %}, space, control or invisible character percent-encoded
     * (its UTF-8 bytes as {@code %XX}); an id of letters, digits, {@code -}, {@code _} and {@code .} is as it is.
     */
    static String word(String nodeId) {
        StringBuilder out = new StringBuilder(nodeId.length());
        for (int i = 0; i < nodeId.length(); i = nodeId.offsetByCodePoints(i, 1)) {
            int c = nodeId.codePointAt(i);
            if (c == '%' || Character.isWhitespace(c) || Character.isSpaceChar(c) || Character.isISOControl(c)
                    || Character.getType(c) == Character.FORMAT) {
                for (byte b : new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8)) {
                    out.append('%').append(String.format("%02X", b & 0xFF));
                }
            } else {
                out.appendCodePoint(c);
            }
        }
        return out.toString();
    }

    /**
     * The node id a line's first word names ({@link #word(String)} undone); a word that is not percent-encoding (a raw
     * id holding a {@code %} of another node, written before the id was encoded) is the id as it is.
     */
    static String decoded(String word) {
        if (word.indexOf('%') < 0) {
            return word;
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            if (c != '%') {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
                continue;
            }
            if (i + 2 >= word.length() || Character.digit(word.charAt(i + 1), 16) < 0
                    || Character.digit(word.charAt(i + 2), 16) < 0) {
                return word;
            }
            bytes.write(Integer.parseInt(word.substring(i + 1, i + 3), 16));
            i += 2;
        }
        java.nio.charset.CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder();
        try {
            return strict.decode(java.nio.ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return word;
        }
    }

    /** The node id of a key of {@link #noted} or {@link #outcomesToRecord} ({@code <node id> <job id> <attempt>}). */
    static String nodeOf(String key) {
        return decoded(key.substring(0, key.indexOf(' ')));
    }

    /** A time as a line holds it: epoch milliseconds, {@code -} for none. */
    private static String word(java.time.Instant at) {
        return at == null ? "-" : Long.toString(at.toEpochMilli());
    }

    /** A time of a line ({@link #word}); throws {@link NumberFormatException} for another word. */
    private static java.time.Instant instant(String word) {
        return word.equals("-") ? null : java.time.Instant.ofEpochMilli(Long.parseLong(word));
    }

    /** Writes the notes with {@code disk} from now on (tests); returns this. */
    StopsNotRecorded writingWith(Disk disk) {
        this.disk = java.util.Objects.requireNonNull(disk, "disk");
        return this;
    }

    /** The room kept for the notes, in bytes ({@link #roomFor}). */
    long room() {
        return room;
    }

    /** What another data folder's file says of one attempt ({@link #notedIn}). */
    enum Noted {
        /** Its node's stop noted the attempt (cut short, begun under, fenced, or with its outcome). */
        NOTED,
        /** The file is not there, or does not name the attempt. */
        NOT_NOTED,
        /** The folder or the file cannot be read by this node (another owner, its mode): not known. */
        UNKNOWN
    }

    /**
     * Whether the file of another node's data folder {@code folder} notes attempt {@code attempt} of {@code jobId} of
     * node {@code node}: read as that node's next start reads it, never written or deleted (that start still records
     * it). For a node of the same host that finds {@code node}'s JVM gone (tryout47 F2): a noted attempt is that node's
     * stop's, which it has the dead-node limit to start and record, not a death to take over at once.
     *
     * @param folder the other node's data folder, absolute ({@code storage.data-dir} as its claim recorded it)
     */
    static Noted notedIn(Path folder, String node, String jobId, int attempt) {
        Path other = folder.resolve(FILE_NAME);
        if (Files.notExists(other)) {
            return Files.isDirectory(folder) && Files.isReadable(folder) ? Noted.NOT_NOTED : Noted.UNKNOWN;
        }
        if (!Files.isReadable(other)) {
            return Noted.UNKNOWN;
        }
        return new StopsNotRecorded(other, node).notes(node, jobId, attempt) ? Noted.NOTED : Noted.NOT_NOTED;
    }

    /** The data folder this node's notes are kept in, absolute; empty when none is kept (tests). */
    java.util.Optional<Path> folder() {
        return file == null ? java.util.Optional.empty()
                : java.util.Optional.of(file.toAbsolutePath().normalize().getParent());
    }

    /** None kept: for engines without a data folder of their own (tests). */
    static StopsNotRecorded none(String node) {
        return new StopsNotRecorded(null, node);
    }

    /**
     * Notes that this node's stop cut attempt {@code attempt} of {@code jobId} short without recording it.
     *
     * @return the note, and whether it is on disk
     */
    Note add(String jobId, int attempt) {
        return add(jobId, attempt, (Known) null);
    }

    /**
     * Notes that attempt {@code attempt} of {@code jobId} ended as {@code cut} says (cut short by this node's stop, or
     * killed by its self-fencing, its process tree gone at {@code cut.ended()}) and that this node stops without having
     * recorded it.
     *
     * @return the note, and whether it is on disk
     */
    Note add(String jobId, int attempt, Cut cut) {
        notedHere = true;
        String key = node + " " + jobId + " " + attempt;
        known.add(key);
        cuts.put(key, cut);
        String line = key + " " + (cut.fenced() == null ? STOPPED : FENCED) + " - " + word(cut.ended())
                + (cut.fenced() == null ? "" : " " + cut.fenced());
        return append(line.replace('\n', ' ') + "\n", "job " + jobId + " attempt " + attempt + " was "
                + (cut.fenced() == null ? "cut short by this stop" : "killed by this node's self-fencing"));
    }

    /**
     * Notes that this node stops without having recorded attempt {@code attempt} of {@code jobId}, which had come to
     * {@code outcome} ({@code null}: cut short by the stop, no outcome known), for the next start to record it.
     *
     * @return the note, and whether it is on disk
     */
    Note add(String jobId, int attempt, Known outcome) {
        notedHere = true;
        String key = node + " " + jobId + " " + attempt;
        known.add(key);
        String line = outcome == null ? key : line(key, outcome);
        return append(line.replace('\n', ' ') + "\n", "job " + jobId + " attempt " + attempt
                + " was cut short by this stop" + (outcome == null ? "" : " or had ended unrecorded"));
    }

    /**
     * Notes, as this node's stop begins, the attempts it may cut short ({@code attempts}: job id to attempt number),
     * so that the next start does not take them for deaths if the stop is killed before it records them. In one
     * write, before the grace period. One that cannot be written is said at WARN: a stop then killed before it
     * records those attempts is taken for deaths of this node.
     */
    void begun(Map<String, Integer> attempts) {
        if (attempts.isEmpty()) {
            return;
        }
        StringBuilder lines = new StringBuilder();
        attempts.forEach((jobId, attempt) -> lines.append(node).append(' ').append(jobId).append(' ').append(attempt)
                .append(' ').append(BEGUN).append('\n'));
        Note note = append(lines.toString(), "a stop began under attempts " + attempts);
        if (note.kept()) {
            attempts.forEach((jobId, attempt) -> begunKept.add(jobId + " " + attempt));
        } else {
            LOG.warn("cannot note in {} the attempts this stop may cut short ({}): {}; if the stop is killed before it"
                    + " records them, the next start counts them as deaths of node {} (runner.deaths-in-a-row)", file,
                    attempts, note.problem(), rawNode);
        }
    }

    /**
     * Whether this node's own stop noted, as it began, that it may cut attempt {@code attempt} of {@code jobId} short,
     * and that note is on disk: the next start takes the attempt for a stop, not a death, though no later note of it
     * could be written.
     */
    boolean begunKept(String jobId, int attempt) {
        return begunKept.contains(jobId + " " + attempt);
    }

    /** Where the notes are kept ({@code <data-dir>/stops-not-recorded}), or {@code null} for none. */
    Path file() {
        return file;
    }

    /**
     * The room kept for the notes of a node: the notes of {@code threads} attempts at their longest (two lines each:
     * {@code begun}, then its outcome, cut or fencing; {@link #ROOM_PER_ATTEMPT} and the node id twice) and
     * {@link #ROOM_BESIDE}; at least {@link #LEAST_ROOM}. With the default {@code runner.threads} (4), 512 KiB; with
     * 1000, about 4.4 MiB.
     *
     * @param nodeWord this node's id as its lines hold it ({@link #word(String)})
     * @param threads  the most attempts the node runs at once, 1 or more
     */
    static long roomFor(String nodeWord, int threads) {
        long perAttempt = ROOM_PER_ATTEMPT + 2L * nodeWord.getBytes(StandardCharsets.UTF_8).length;
        return Math.max(LEAST_ROOM, Math.max(1, threads) * perAttempt + ROOM_BESIDE);
    }

    /**
     * Keeps {@link #room()} bytes of real blocks in {@value #RESERVE_NAME} beside the file, for the notes of a stop that
     * finds the disk full: makes it, or grows it back (deleted by hand, cut by a stop's notes before this start), with
     * incompressible bytes (a compressing file system keeps no blocks for zeros), forced to disk. Not while less than
     * twice the missing room is free (the store, short of room itself, comes first: tried again at the next call), nor
     * after a note of this run took of it. Said once at WARN while it cannot be kept whole; cheap when it is (one look
     * at its size): called at the start and every heartbeat interval.
     */
    void keepRoom() {
        if (reserve == null || roomUsed) {
            return;
        }
        synchronized (WRITES) {
            long have;
            try {
                have = Files.exists(reserve) ? Files.size(reserve) : 0;
            } catch (IOException | RuntimeException e) {
                have = 0;
            }
            if (have >= room || roomUsed) {
                roomShort = false;
                return;
            }
            String problem;
            // Through an interrupt, as a note (append): the stop interrupts the heartbeat's thread, which may be here,
            // and the channel closed under it left the room short, said at WARN as "an input/output error" (review45).
            boolean interrupted = Thread.interrupted();
            try {
                long free = Files.getFileStore(reserve.toAbsolutePath().getParent()).getUsableSpace();
                if (free < 2 * (room - have)) {
                    problem = "only " + free + " bytes are free";
                } else {
                    boolean made = have == 0 && !Files.exists(reserve);
                    for (int interrupts = 0;; interrupts++) {
                        try {
                            grow(made);
                            break;
                        } catch (java.nio.channels.ClosedByInterruptException e) {
                            interrupted |= Thread.interrupted();
                            if (interrupts >= INTERRUPTS_WRITTEN_THROUGH) {
                                throw new IOException(interruptedTooOften(reserve), e);
                            }
                        }
                    }
                    roomShort = false;
                    return;
                }
            } catch (IOException | RuntimeException e) {
                problem = e instanceof IOException io ? org.buildhook.core.IoProblems.describe(io) : e.toString();
            } finally {
                if (interrupted || Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!roomShort) {
                roomShort = true;
                LOG.warn("cannot keep {} bytes of room in {} for what a stop must note in {} when the store cannot"
                        + " record it ({}): a stop during a full disk may then lose the outcome of a command that ran,"
                        + " which runs again at the next start; tried again every heartbeat interval", room, reserve,
                        FILE_NAME, problem);
            }
        }
    }

    /**
     * Writes the kept room from the size it has up to {@link #room()}, and forces it to disk, and the folder when
     * {@code made} (the file was not there before the first try).
     */
    private void grow(boolean made) throws IOException {
        byte[] noise = new byte[(int) CHUNK];
        new java.util.SplittableRandom().nextBytes(noise);
        try (java.nio.channels.FileChannel channel = DataFiles.open(reserve, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            long at = channel.size();
            while (at < room) {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(noise, 0, (int) Math.min(CHUNK, room - at));
                while (buffer.hasRemaining()) {
                    at += channel.write(buffer, at);
                }
            }
            channel.force(true);
        }
        if (made) {
            forceFolder();
        }
    }

    /**
     * Frees kept room for a note of {@code bytes} that found no space: {@link #CHUNK} or twice the note, whichever is
     * more, cut off the end of {@value #RESERVE_NAME} (all of it when {@code whole}: the note file could not be made,
     * which may want an inode). Returns whether any was freed.
     */
    private boolean freeRoom(long bytes, boolean whole) {
        roomUsed = true;
        try {
            if (!Files.exists(reserve)) {
                return false;
            }
            long size = Files.size(reserve);
            long keep = whole ? 0 : Math.max(0, size - Math.max(CHUNK, 2 * bytes));
            if (keep == 0) {
                Files.delete(reserve);
                forceFolder();
            } else {
                // Not a FileChannel: an interrupt of the stop's thread would close it under the cut, and the note be
                // given up for no space though room was kept (review45). RandomAccessFile's own calls are not
                // interruptible.
                try (java.io.RandomAccessFile cut = new java.io.RandomAccessFile(reserve.toFile(), "rw")) {
                    cut.setLength(keep);
                    cut.getFD().sync(); // commits the file system's journal: the blocks are free now (ext4, XFS)
                }
            }
            LOG.info("the disk of {} had no room for a note of this stop: freed {} bytes of the room kept for it in {}",
                    file, size - keep, reserve);
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot free the room kept in {}: {}", reserve, e.toString());
            return false;
        }
    }

    /** Whether a write failed for want of space: no space left on the device, or a disk quota reached. */
    static boolean noSpace(IOException e) {
        String message = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return message.contains("no space left") || message.contains("quota exceeded");
    }

    /** How many times a note is tried again after an interrupt closed its file under it, before it is given up. */
    private static final int INTERRUPTS_WRITTEN_THROUGH = 8;

    /**
     * One note at a time: the jobs' threads of a stop note their attempts at once, and two that both found no file
     * each wrote the header (tryout25 F9). A write that finds no space frees kept room and is tried again, until it is
     * on disk or no kept room is left ({@link #freeRoom}).
     *
     * <p>Written through an interrupt of the calling thread, which keeps it: db-scheduler's stop interrupts the jobs'
     * threads once its own bound is over, which a busy machine reaches while a job's thread still waits for a hung
     * store, and a {@link java.nio.channels.FileChannel} closes itself under an interrupted thread
     * ({@link java.nio.channels.ClosedByInterruptException}). The note was lost then: the next start counted the cut
     * attempt as cut by a stop that was killed, or ran again a command whose exit the note was to keep (CI of
     * 1d30da4f).
     */
    private Note append(String lines, String what) {
        if (file == null) {
            return new Note(lines, null);
        }
        synchronized (WRITES) {
            boolean interrupted = Thread.interrupted();
            try {
                IOException failed;
                long[] from = {-1};
                int interrupts = 0;
                for (;;) {
                    try {
                        write(lines, from);
                        return new Note(lines, null);
                    } catch (java.nio.channels.ClosedByInterruptException e) {
                        // Interrupted during the write: its file is closed; the same note again, from where it began.
                        interrupted |= Thread.interrupted();
                        failed = e;
                        if (++interrupts <= INTERRUPTS_WRITTEN_THROUGH) {
                            continue;
                        }
                        break;
                    } catch (IOException e) {
                        failed = e;
                    } catch (RuntimeException e) {
                        failed = new IOException(e.toString(), e);
                    }
                    interrupted |= Thread.interrupted();
                    if (!noSpace(failed) || !freeRoom(lines.getBytes(StandardCharsets.UTF_8).length
                            + HEADER.length(), !Files.exists(file))) {
                        break;
                    }
                }
                String problem = failed instanceof java.nio.channels.ClosedByInterruptException
                        ? interruptedTooOften(file) : org.buildhook.core.IoProblems.describe(failed);
                LOG.debug("cannot note in {} that {}: {}", file, what, problem);
                return new Note(lines, problem);
            } finally {
                if (interrupted || Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * A write given up after an interrupt closed its file under it {@value #INTERRUPTS_WRITTEN_THROUGH} times and once
     * more, in the words of a note's problem: the file system's "an input/output error" said nothing of it (review45).
     */
    private static String interruptedTooOften(Path file) {
        return file + ": the write was interrupted " + (INTERRUPTS_WRITTEN_THROUGH + 1) + " times (the thread writing"
                + " it was interrupted again at each try: the stop of the node, or of the JVM, ending its threads)";
    }

    /**
     * Appends {@code lines} to the file (after the header in an empty one, as a stop on a full disk left: tryout43 F1)
     * and forces them to disk, and the folder when it made the file. A failed write leaves nothing of itself: what it
     * wrote is cut off, so that a try after it does not begin in the middle of a line.
     *
     * @param from the file's size when this note's first try began, {@code -1} before it; set by the first try. A try
     *             after one whose file an interrupt closed (nothing could be cut off then) cuts the file back to it
     *             first.
     */
    private void write(String lines, long[] from) throws IOException {
        // A try after one that may have made the file (empty when it began) forces the folder too.
        boolean made = !Files.exists(file) || from[0] == 0;
        try (java.nio.channels.FileChannel channel = DataFiles.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE)) {
            if (from[0] < 0) {
                from[0] = channel.size();
            } else if (channel.size() > from[0]) {
                channel.truncate(from[0]);
            }
            long size = channel.size();
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(((size == 0 ? HEADER + "\n" : "") + lines)
                    .getBytes(StandardCharsets.UTF_8));
            try {
                disk.write(channel, buffer, size);
                channel.force(true);
            } catch (IOException | RuntimeException e) {
                try {
                    channel.truncate(size);
                } catch (IOException | RuntimeException cut) {
                    e.addSuppressed(cut);
                }
                throw e;
            }
        }
        if (made) {
            forceFolder();
        }
    }

    /** Forces the data folder's entries to disk (a file made or deleted there); a file system that cannot, as it is. */
    private void forceFolder() {
        Path folder = file.toAbsolutePath().getParent();
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(folder,
                StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot force the entries of {} to disk: {}", folder, e.toString());
        }
    }

    /**
     * Whether the last stop of node {@code node} in this data folder had begun under attempt {@code attempt} of
     * {@code jobId} (noted as it began, read at this start): its end, if nobody recorded it, was that stop's, not a
     * death.
     */
    boolean begunUnder(String node, String jobId, int attempt) {
        return begun.contains(word(node) + " " + jobId + " " + attempt);
    }

    /** The outcome the last stop of node {@code node} knew of {@code attempt} of {@code jobId} and could not record. */
    java.util.Optional<Known> outcome(String node, String jobId, int attempt) {
        return java.util.Optional.ofNullable(outcomes.get(word(node) + " " + jobId + " " + attempt));
    }

    /**
     * How the last stop of node {@code node} in this data folder (or this engine's own stop) noted that attempt
     * {@code attempt} of {@code jobId} ended, when it noted more than that it cut it short.
     */
    java.util.Optional<Cut> cut(String node, String jobId, int attempt) {
        return java.util.Optional.ofNullable(cuts.get(word(node) + " " + jobId + " " + attempt));
    }

    /**
     * Whether the last stop of node {@code node} in this data folder noted attempt {@code attempt} of {@code jobId} in
     * any way {@link #noted} lists (cut short, begun under, fenced, or with an outcome).
     */
    boolean notes(String node, String jobId, int attempt) {
        String key = word(node) + " " + jobId + " " + attempt;
        return known.contains(key) || begun.contains(key);
    }

    /**
     * {@code <node id> <job id> <attempt>} of every attempt the last stop in this data folder noted, read at the
     * start: cut short, begun under, fenced, or with an outcome.
     */
    Set<String> noted() {
        Set<String> all = new java.util.HashSet<>(known);
        all.addAll(begun);
        return all;
    }

    /** The outcomes read at the start and not yet {@link #taken}, by {@code <node id> <job id> <attempt>}. */
    Map<String, Known> outcomesToRecord() {
        Map<String, Known> left = new java.util.HashMap<>(outcomes);
        left.keySet().retainAll(pending);
        return left;
    }

    /** Whether any outcome read at the start is yet to be recorded: without a copy, for every re-run's pick. */
    boolean anyToRecord() {
        return !pending.isEmpty();
    }

    /** The outcome read at the start for {@code key} ({@code <node id> <job id> <attempt>}), while not yet {@link #taken}. */
    java.util.Optional<Known> toRecord(String key) {
        return pending.contains(key) ? java.util.Optional.ofNullable(outcomes.get(key)) : java.util.Optional.empty();
    }

    /**
     * The outcome of {@code key} ({@code <node id> <job id> <attempt>}) was recorded, or found too late: not again. Its
     * lines leave the file when the start's sweep had kept them there ({@link #swept}), and the file goes once nothing
     * else is in it; a line this engine's own stop wrote since stays.
     */
    void taken(String key) {
        if (pending.remove(key) && file != null && swept.get()) {
            rewrite(k -> !k.equals(key), "the outcome of " + key + " is recorded");
        }
    }

    /**
     * As this node stops: every outcome read at the start and not yet recorded is in the file for the next start, as
     * the start's sweep left it ({@link #swept}); one missing (the file deleted by hand since, or replaced) is noted
     * again, with its own node id. A stop never drops an outcome the store has not taken (review55a F1).
     */
    void keepPending() {
        if (file == null || pending.isEmpty()) {
            return;
        }
        synchronized (WRITES) {
            Set<String> there = new java.util.HashSet<>();
            try {
                if (Files.exists(file)) {
                    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                        String[] parts = encoded(line.strip()).split(" ", 5);
                        if (parts.length == 5 && !parts[0].startsWith("#") && !parts[3].equals(STOPPED)
                                && !parts[3].equals(FENCED)) {
                            there.add(parts[0] + " " + parts[1] + " " + parts[2]); // an outcome's line
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("cannot read {}: {}", file, e.toString());
            }
            StringBuilder lines = new StringBuilder();
            for (String key : pending) {
                Known outcome = outcomes.get(key);
                if (outcome != null && !there.contains(key)) {
                    lines.append(line(key, outcome)).append('\n');
                }
            }
            if (lines.length() == 0) {
                return;
            }
            Note note = append(lines.toString(), "outcomes read at the start are still to be recorded");
            if (!note.kept()) {
                LOG.warn("cannot note again in {} the outcomes this node read there at its start and the store has"
                        + " not recorded yet ({}): the next start runs their commands again", file, note.problem());
            }
        }
    }

    /**
     * Whether this data folder keeps what the store has not recorded of an attempt, for the next start of its node and
     * for a node of this host that reads it there ({@link LeftoverSweep}'s {@code leftToItsStop}): a line of the file
     * other than a {@code begun} one (an outcome, a cut short, a fencing; a stop whose records went through leaves only
     * its {@code begun} lines), an outcome read at the start and not recorded since, or a note this engine's stop made,
     * even one it could not write (the attempt's {@code begun} line then speaks for it). The node's claim of its id,
     * which names this folder, is kept past its stop while this holds (review57a F1); a file that cannot be read
     * counts as holding something.
     */
    boolean holdsUnrecorded() {
        if (file == null) {
            return false;
        }
        if (notedHere || !pending.isEmpty()) {
            return true;
        }
        synchronized (WRITES) {
            try {
                if (!Files.exists(file)) {
                    return false;
                }
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String stripped = line.strip();
                    if (keyOf(stripped).isEmpty()) {
                        continue;
                    }
                    String[] parts = encoded(stripped).split(" ", 5);
                    if (parts.length != 4 || !parts[3].equals(BEGUN)) {
                        return true;
                    }
                }
                return false;
            } catch (IOException | RuntimeException e) {
                LOG.debug("cannot read {}: {}", file, e.toString());
                return true;
            }
        }
    }

    /** The line of an outcome: {@code <key> <result> <exit code or -> <end, epoch milliseconds, or -> [<log file>]}. */
    private static String line(String key, Known outcome) {
        return (key + " " + outcome.result().name() + " " + (outcome.exitCode() == null ? "-" : outcome.exitCode())
                + " " + word(outcome.ended()) + (outcome.logFile() == null ? "" : " " + outcome.logFile()))
                .replace('\n', ' ');
    }

    /**
     * Whether the last stop of node {@code node} in this data folder (or this engine's own stop) cut attempt
     * {@code attempt} of {@code jobId} short without recording it.
     */
    boolean contains(String node, String jobId, int attempt) {
        return known.contains(word(node) + " " + jobId + " " + attempt);
    }

    /**
     * Whether the last stop of node {@code node} in this data folder cut an attempt of {@code jobId} short without
     * recording it, or had begun under one when it was killed.
     */
    boolean containsJob(String node, String jobId) {
        String prefix = word(node) + " " + jobId + " ";
        return known.stream().anyMatch(k -> k.startsWith(prefix)) || begun.stream().anyMatch(k -> k.startsWith(prefix));
    }

    /**
     * Once the start's sweep has recorded what it could of the file: the lines of the outcomes it could not record (the
     * store refused them: a trigger, a constraint, the role's privileges) stay, with the other lines of their attempts,
     * until the store records them ({@link #taken}), through any number of restarts; the rest of the file goes, and
     * the file with it when nothing is left (what it said stays known to this engine, for a job run again later).
     * Deleted whole, it left such an outcome in this engine's memory only: a second start before the store took it
     * ran the command again (review55a F1). Only after the first sweep: a line this engine's own stop writes later is
     * for the next start.
     */
    void swept() {
        if (file == null || !swept.compareAndSet(false, true)) {
            return;
        }
        rewrite(pending::contains, "the start's sweep is done");
    }

    /**
     * Writes the file again with the lines whose key {@code keep} accepts (and its header), through a file beside it
     * ({@value #NEXT_NAME}) moved over it, so that a crash leaves the old file or the new one, whole; deletes it when
     * none is left. Under {@link #WRITES}, as every note: none written meanwhile is lost. Written through an interrupt
     * of the calling thread (the stop interrupts the sweep's), as a note is ({@link #append}). One that cannot be written
     * (a full disk) leaves the file as it was: read again at the next start, whose records then find what is recorded.
     */
    private void rewrite(java.util.function.Predicate<String> keep, String why) {
        synchronized (WRITES) {
            boolean interrupted = Thread.interrupted();
            Path next = file.resolveSibling(NEXT_NAME);
            try {
                if (!Files.exists(file)) {
                    return;
                }
                StringBuilder kept = new StringBuilder();
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String key = keyOf(line);
                    if (!key.isEmpty() && keep.test(key)) {
                        kept.append(line.strip()).append('\n');
                    }
                }
                if (kept.length() == 0) {
                    Files.deleteIfExists(file);
                    return;
                }
                byte[] bytes = (HEADER + "\n" + kept).getBytes(StandardCharsets.UTF_8);
                for (int interrupts = 0;; interrupts++) {
                    try (java.nio.channels.FileChannel channel = DataFiles.open(next, StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                        disk.write(channel, java.nio.ByteBuffer.wrap(bytes), 0);
                        channel.force(true);
                        break;
                    } catch (java.nio.channels.ClosedByInterruptException e) {
                        interrupted |= Thread.interrupted();
                        if (interrupts >= INTERRUPTS_WRITTEN_THROUGH) {
                            throw new IOException(interruptedTooOften(next), e);
                        }
                    }
                }
                Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                forceFolder();
            } catch (IOException | RuntimeException e) {
                LOG.debug("cannot write {} again ({}); it stays as it was: {}", file, why, e.toString());
                try {
                    Files.deleteIfExists(next);
                } catch (IOException | RuntimeException gone) {
                    LOG.debug("cannot delete {}: {}", next, gone.toString());
                }
            } finally {
                if (interrupted || Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
