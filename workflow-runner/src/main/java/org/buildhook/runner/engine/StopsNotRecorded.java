package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attempts a graceful stop of this node cut short but could not record as interrupted (the store could not be
 * reached: a partition, a hung server, SQLite's lock held by another process), kept in a file of the node's data
 * folder ({@value #FILE_NAME}, one {@code <node id> <job id> <attempt>} line each) so that the next start of the node
 * says that it stopped before the attempt ended, not that it died, as it does of an attempt nobody recorded after a
 * {@code kill -9} (tryout20 F2). Only this node reads it: another node taking the job over cannot know, and says
 * what it sees. Best effort: a file that cannot be written or read leaves the words of a death, and is said at DEBUG.
 *
 * <p>An attempt whose outcome the node knew (its command had exited by itself, timed out, or been cancelled by
 * this node) but could not record before it stopped is noted with that outcome (tryout21 F3):
 * {@code <node id> <job id> <attempt> <result> <exit code or -> <end, epoch milliseconds, or -> [<log file>]}, the
 * log file last (it may hold spaces). The file begins with the line {@value #HEADER}; lines starting with {@code #}
 * are comments, and a line of three words (as written before the outcome was kept) is read as before: an attempt cut
 * short, with no outcome known. A line that cannot be read is skipped.
 */
final class StopsNotRecorded {

    private static final Logger LOG = LoggerFactory.getLogger(StopsNotRecorded.class);

    /** The file's name in the data folder. */
    static final String FILE_NAME = "stops-not-recorded";

    /** The file's first line: its format's version. */
    static final String HEADER = "# buildhook stops-not-recorded 2: <node> <job> <attempt>"
            + " [<result> <exit|-> <end ms|-> [<log>]]";

    /**
     * What an attempt had come to before its node stopped without recording it.
     *
     * @param result  {@code SUCCEEDED}, {@code FAILED}, {@code TIMED_OUT} or {@code CANCELLED}
     * @param exitCode the command's exit code, {@code null} when it has none (a timeout, a cancel)
     * @param ended   when the command ended, or {@code null} when unknown
     * @param logFile the attempt's log file, or {@code null}
     */
    record Known(org.buildhook.runner.exec.JobOutcome.Result result, Integer exitCode, java.time.Instant ended,
            Path logFile) {
    }

    private final Path file;
    private final String node;
    /** {@code <job id> <attempt>} of this node's lines, read at the start. */
    private final Set<String> known = ConcurrentHashMap.newKeySet();
    /** {@code <job id> <attempt>} to the outcome this node knew of it, read at the start; not yet recorded. */
    private final java.util.Map<String, Known> outcomes = new ConcurrentHashMap<>();
    /** The keys of {@link #outcomes} the start has yet to record. */
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    /** Whether the file was deleted after the start's sweep: only once, never what this engine's own stop writes. */
    private final java.util.concurrent.atomic.AtomicBoolean swept = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * @param file where the record is kept ({@code <data-dir>/stops-not-recorded}), or {@code null} for none
     * @param node this node's {@code runner.node-id}: only its own lines are taken
     */
    StopsNotRecorded(Path file, String node) {
        this.file = file;
        this.node = node;
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

    /** Takes one line of the file, if it is this node's and can be read. */
    private void read(String line) {
        String[] parts = line.split(" ", 7);
        if (line.startsWith("#") || parts.length < 3 || !parts[0].equals(node)) {
            return;
        }
        String key = parts[1] + " " + parts[2];
        if (parts.length >= 6) {
            try {
                outcomes.put(key, new Known(org.buildhook.runner.exec.JobOutcome.Result.valueOf(parts[3]),
                        parts[4].equals("-") ? null : Integer.valueOf(parts[4]),
                        parts[5].equals("-") ? null : java.time.Instant.ofEpochMilli(Long.parseLong(parts[5])),
                        parts.length == 7 && !parts[6].isEmpty() ? Path.of(parts[6]) : null));
                pending.add(key);
            } catch (RuntimeException e) {
                LOG.debug("cannot read the outcome in {} of the line '{}': {}", file, line, e.toString());
            }
        }
        known.add(key);
    }

    /** None kept: for engines without a data folder of their own (tests). */
    static StopsNotRecorded none(String node) {
        return new StopsNotRecorded(null, node);
    }

    /** Notes that this node's stop cut attempt {@code attempt} of {@code jobId} short without recording it. */
    void add(String jobId, int attempt) {
        add(jobId, attempt, null);
    }

    /**
     * Notes that this node stops without having recorded attempt {@code attempt} of {@code jobId}, which had come to
     * {@code outcome} ({@code null}: cut short by the stop, no outcome known), for the next start to record it.
     */
    void add(String jobId, int attempt, Known outcome) {
        known.add(jobId + " " + attempt);
        if (file == null) {
            return;
        }
        String line = node + " " + jobId + " " + attempt + (outcome == null ? ""
                : " " + outcome.result().name() + " " + (outcome.exitCode() == null ? "-" : outcome.exitCode()) + " "
                        + (outcome.ended() == null ? "-" : outcome.ended().toEpochMilli())
                        + (outcome.logFile() == null ? "" : " " + outcome.logFile()));
        try {
            String header = Files.exists(file) ? "" : HEADER + "\n";
            Files.writeString(file, header + line.replace('\n', ' ') + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot note in {} that job {} attempt {} was cut short by this stop: {}", file, jobId, attempt,
                    e.toString());
        }
    }

    /** Whether this node's last stop cut attempt {@code attempt} of {@code jobId} short without recording it. */
    boolean contains(String jobId, int attempt) {
        return known.contains(jobId + " " + attempt);
    }

    /** The outcome this node's last stop knew of {@code attempt} of {@code jobId} and could not record, if any. */
    java.util.Optional<Known> outcome(String jobId, int attempt) {
        return java.util.Optional.ofNullable(outcomes.get(jobId + " " + attempt));
    }

    /** The outcomes noted by this node's last stop and not yet taken by {@link #taken}, by {@code <job> <attempt>}. */
    java.util.Map<String, Known> outcomesToRecord() {
        java.util.Map<String, Known> left = new java.util.HashMap<>(outcomes);
        left.keySet().retainAll(pending);
        return left;
    }

    /** The outcome of {@code key} ({@code <job> <attempt>}) was recorded, or found too late to be: not again. */
    void taken(String key) {
        pending.remove(key);
    }

    /** Whether this node's last stop cut an attempt of {@code jobId} short without recording it. */
    boolean containsJob(String jobId) {
        String prefix = jobId + " ";
        return known.stream().anyMatch(k -> k.startsWith(prefix));
    }

    /**
     * Once the start's sweep has recorded every attempt of this host's dead nodes: the file is no longer needed
     * (what it said stays known to this engine, for a job run again later). Only after the first sweep: a line this
     * engine's own stop writes later is for the next start.
     */
    void swept() {
        if (file == null || !swept.compareAndSet(false, true)) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot delete {}: {}", file, e.toString());
        }
    }
}
