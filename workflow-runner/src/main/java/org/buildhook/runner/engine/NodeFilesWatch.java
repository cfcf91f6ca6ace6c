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
import org.buildhook.runner.exec.NodeFolders;
import org.buildhook.runner.rules.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node can write the files it writes for an attempt before the command starts (the
 * payload file, the log, its own default working directory), as the attempts found (tryout17 F3).
 * The first attempt that cannot ({@link #failed}) makes the node stop picking jobs, with one WARN;
 * {@link #recheck}, run every polling interval, writes a probe file into each folder that failed
 * and, once every one of them takes it, lets the node pick again, with one INFO. The engine's start
 * probes the payload folder and {@code runner.log-dir} the same way ({@link #lookAtStart}), so that a node
 * that cannot write them is paused from its start (final18 F1); after that nothing is looked at while the
 * folders are writable: the attempts themselves are the check.
 *
 * <p>The probe does what the failed write did ({@link NodeFolders#probe}): it makes the folder, writes a
 * file of its own there (a unique name, deleted at once; never into buildhook's own default working
 * directory, the jobs' shared cwd, which an attempt only makes) and asks to write the very file that failed
 * when there is one. A probe that passed where the real write still fails would resume the node only to
 * pause it again at the next attempt, with a new {@code INTERRUPTED} attempt every polling interval
 * (review18 R6).
 *
 * <p>A folder of one job (its log folder, {@code <log-dir>/<job-id>}, left by a run as another user)
 * pauses the whole node too, not only that job (review18 R5): the node cannot tell it from a log folder
 * that no job can write, a job put back alone would be picked again by this node at once (on SQLite the only
 * one) and the loop would be back, and a pause is said once, with the folder, on {@code /healthz}, the
 * status page and the gauge, where a job skipped over and over is not.
 */
final class NodeFilesWatch {

    private static final Logger LOG = LoggerFactory.getLogger(NodeFilesWatch.class);

    private final String node;
    private final Clock clock;
    private final Duration every;
    private final Runnable pause;
    private final Runnable resume;
    /** The folders that could not be written, by folder, oldest first; guarded by this. */
    private final Map<Path, Fault> faults = new LinkedHashMap<>();
    private volatile String problem;

    /**
     * A folder that could not be written: since when, why, how much the write that failed needed, the file
     * it wrote (or null) and whether files are written there (false: only made, the jobs' shared cwd).
     */
    private record Fault(Path folder, String problem, long bytes, Path file, boolean writesFiles, Instant since) {
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
        failed(e, e.folder().toString());
    }

    /** As {@link #failed(NodeFilesException)}; the WARN names the folder as {@code named} ({@code "runner.log-dir /x"}). */
    private void failed(NodeFilesException e, String named) {
        boolean first;
        synchronized (this) {
            first = faults.isEmpty();
            faults.putIfAbsent(e.folder(), new Fault(e.folder(), e.problem(), e.bytes(), e.file().orElse(null),
                    e.writesFiles(), clock.instant()));
            Fault kept = faults.get(e.folder());
            if (kept.bytes() < e.bytes() || (kept.file() == null && e.file().isPresent())
                    || (!kept.writesFiles() && e.writesFiles())) {
                faults.put(e.folder(), new Fault(kept.folder(), kept.problem(), Math.max(kept.bytes(), e.bytes()),
                        e.file().orElse(kept.file()), kept.writesFiles() || e.writesFiles(), kept.since()));
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
                    + " remount, its owner or mode, a file where the folder must be){}; this node looks again every {}",
                    node, named, e.problem(), e.file().map(NodeFilesWatch::fileAdvice).orElse(""),
                    Durations.describe(every));
        } else {
            LOG.debug("node {} cannot write {} either: {}", node, e.folder(), e.problem());
        }
    }

    /**
     * At the engine's start, before it picks anything: probes each of {@code folders} as {@link #recheck}
     * would, and a folder that fails pauses the node from the start, as the first attempt that could not
     * write it would (one WARN; {@link #problem} for {@code /healthz}, the status page's banner and the
     * gauge), so that an unwritable folder is said at once, not after the first job (final18 F1).
     */
    void lookAtStart(List<NodeFolders.Folder> folders) {
        for (NodeFolders.Folder folder : folders) {
            try {
                folder.probe();
            } catch (NodeFilesException e) {
                failed(e, folder.what() + " " + folder.path());
            } catch (RuntimeException e) {
                LOG.debug("node {}: {} could not be looked at: {}", node, folder.path(), e.toString());
            }
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
                NodeFolders.probe(fault.folder(), fault.writesFiles(), fault.bytes(), fault.file());
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
        return "jobs do not start on this node: it cannot write " + fault.folder() + " (" + fault.problem() + ")"
                + (fault.file() == null ? "" : fileAdvice(fault.file()));
    }

    /**
     * What to do when one file in a writable folder is what cannot be written (a payload file of another
     * owner, made immutable, or a folder where the file goes): the node stays paused until that file is
     * fixed, also once its job is cancelled or run elsewhere, since the probe asks for that very file
     * (review19 R5, tryout20 F1).
     */
    private static String fileAdvice(Path file) {
        return ". If only the file " + file + " is wrong, delete it or make it writable (chattr -i, its owner or"
                + " mode); cancelling its job does not resume this node";
    }

}
