package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.core.DataFiles;
import org.buildhook.core.IoProblems;
import org.buildhook.runner.exec.NodeFilesException;
import org.buildhook.runner.rules.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node can write the files it writes for an attempt before the command starts (the
 * payload file, the log, its own default working directory), as the attempts found (tryout17 F3).
 * The first attempt that cannot ({@link #failed}) makes the node stop picking jobs, with one WARN;
 * {@link #recheck}, run every polling interval, writes a probe file into each folder that failed
 * and, once every one of them takes it, lets the node pick again, with one INFO. Nothing is looked at
 * while the folders are writable: the attempts themselves are the check.
 */
final class NodeFilesWatch {

    private static final Logger LOG = LoggerFactory.getLogger(NodeFilesWatch.class);
    /** The least a probe writes: more than a delivery's payload usually takes, so that a nearly full disk fails it. */
    static final int PROBE_BYTES = 64 * 1024;
    static final String PROBE_FILE = ".buildhook-write-probe";

    private final String node;
    private final Clock clock;
    private final Duration every;
    private final Runnable pause;
    private final Runnable resume;
    /** The folders that could not be written, by folder, oldest first; guarded by this. */
    private final Map<Path, Fault> faults = new LinkedHashMap<>();
    private volatile String problem;

    /** A folder that could not be written: since when, why, and how much the write that failed needed. */
    private record Fault(Path folder, String problem, long bytes, Instant since) {
    }

    /**
     * @param every  how often {@link #recheck} runs (said in the WARN)
     * @param pause  stops this node's picking of jobs; run once when the first folder fails (under this
     *               watch's lock: it must be quick and must not call back)
     * @param resume lets it pick again; run once when the last failed folder is writable again (likewise)
     */
    NodeFilesWatch(String node, Clock clock, Duration every, Runnable pause, Runnable resume) {
        this.node = node;
        this.clock = clock;
        this.every = every;
        this.pause = pause;
        this.resume = resume;
    }

    /** A watch that only keeps count, for a task run without an engine (tests). */
    static NodeFilesWatch detached(String node) {
        return new NodeFilesWatch(node, Clock.systemUTC(), Duration.ofSeconds(5), () -> {
        }, () -> {
        });
    }

    /** Whether a folder this node must write is known not to take writes now: it then starts no job. */
    boolean unwritable() {
        return problem != null;
    }

    /**
     * Why this node starts no jobs now, for {@code /healthz}: {@code jobs do not start on this node: it
     * cannot write <folder> (<error>)}; empty while it can write every folder it needs.
     */
    Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** An attempt could not write {@code e}'s folder: the node stops picking (said once). */
    void failed(NodeFilesException e) {
        boolean first;
        synchronized (this) {
            first = faults.isEmpty();
            faults.putIfAbsent(e.folder(), new Fault(e.folder(), e.problem(), e.bytes(), clock.instant()));
            Fault kept = faults.get(e.folder());
            if (kept.bytes() < e.bytes()) {
                faults.put(e.folder(), new Fault(kept.folder(), kept.problem(), e.bytes(), kept.since()));
            }
            problem = describe(faults.values().iterator().next());
            if (first) {
                // Under the lock: a recheck that found every folder writable just now resumes before this.
                pause.run();
            }
        }
        if (first) {
            LOG.warn("node {} cannot write {} ({}): it starts no job until it can. Deliveries are still stored while"
                    + " the store can write; the jobs wait in the queue with their retries untouched, for another node"
                    + " (PostgreSQL) or for this one. Free space there, or make it writable for this user (a read-only"
                    + " remount, its owner or mode, a file where the folder must be); this node looks again every {}",
                    node, e.folder(), e.problem(), Durations.describe(every));
        } else {
            LOG.debug("node {} cannot write {} either: {}", node, e.folder(), e.problem());
        }
    }

    /** Writes a probe into each folder that failed; once all take it, the node picks jobs again (said once). */
    void recheck() {
        List<Fault> looked;
        synchronized (this) {
            if (faults.isEmpty()) {
                return;
            }
            looked = List.copyOf(faults.values());
        }
        Fault oldest = looked.get(0);
        boolean allWritable = true;
        for (Fault fault : looked) {
            try {
                probe(fault.folder(), fault.bytes());
                synchronized (this) {
                    faults.remove(fault.folder(), fault);
                }
            } catch (IOException | RuntimeException e) {
                allWritable = false;
                LOG.debug("node {}: {} still cannot be written: {}", node, fault.folder(), e.toString());
            }
        }
        synchronized (this) {
            if (!allWritable || !faults.isEmpty()) {
                problem = faults.isEmpty() ? problem : describe(faults.values().iterator().next());
                return;
            }
            problem = null;
            resume.run();
        }
        LOG.info("node {} can write {} again (it could not for {}): it starts jobs again", node,
                looked.size() == 1 ? oldest.folder() : looked.stream().map(Fault::folder).toList(),
                Durations.describe(Duration.between(oldest.since(), clock.instant()).isNegative() ? Duration.ZERO
                        : Duration.between(oldest.since(), clock.instant())));
    }

    private static String describe(Fault fault) {
        return "jobs do not start on this node: it cannot write " + fault.folder() + " (" + fault.problem() + ")";
    }

    /**
     * Makes {@code folder} as an attempt would, and writes and deletes a file of at least
     * {@link #PROBE_BYTES} (or {@code bytes}, what the write that failed needed) in it.
     */
    static void probe(Path folder, long bytes) throws IOException {
        DataFiles.createDirectories(folder);
        Path file = folder.resolve(PROBE_FILE);
        long left = Math.max(PROBE_BYTES, bytes);
        ByteBuffer zeros = ByteBuffer.allocate(PROBE_BYTES);
        try (FileChannel channel = DataFiles.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (left > 0) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), left));
                while (zeros.hasRemaining()) {
                    left -= channel.write(zeros);
                }
            }
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.debug("the probe file {} could not be deleted: {}", file, IoProblems.describe(e));
            }
        }
    }
}
