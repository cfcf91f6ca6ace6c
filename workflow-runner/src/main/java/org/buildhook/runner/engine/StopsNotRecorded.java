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
 */
final class StopsNotRecorded {

    private static final Logger LOG = LoggerFactory.getLogger(StopsNotRecorded.class);

    /** The file's name in the data folder. */
    static final String FILE_NAME = "stops-not-recorded";

    private final Path file;
    private final String node;
    /** {@code <job id> <attempt>} of this node's lines, read at the start. */
    private final Set<String> known = ConcurrentHashMap.newKeySet();
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
                String[] parts = line.strip().split(" ");
                if (parts.length == 3 && parts[0].equals(node)) {
                    known.add(parts[1] + " " + parts[2]);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read {}: {}", file, e.toString());
        }
    }

    /** None kept: for engines without a data folder of their own (tests). */
    static StopsNotRecorded none(String node) {
        return new StopsNotRecorded(null, node);
    }

    /** Notes that this node's stop cut attempt {@code attempt} of {@code jobId} short without recording it. */
    void add(String jobId, int attempt) {
        known.add(jobId + " " + attempt);
        if (file == null) {
            return;
        }
        try {
            Files.writeString(file, node + " " + jobId + " " + attempt + "\n", StandardCharsets.UTF_8,
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
