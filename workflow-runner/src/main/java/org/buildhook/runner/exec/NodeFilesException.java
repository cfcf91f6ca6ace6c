package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.buildhook.core.IoProblems;
import org.buildhook.runner.RunnerException;

/**
 * A file that this node writes for an attempt before its command starts — the payload file, the
 * attempt's log file (or its folder), buildhook's own default working directory — could not be
 * written: a disk full, a file system remounted read-only, wrong permissions, a file where a folder
 * must be. That is the node's fault, not the job's: nothing was started, and the engine puts the job
 * back in the queue without counting the attempt against its retries, and starts no more jobs on this
 * node until {@link #folder()} can be written again (tryout17 F3).
 *
 * <p>A command that cannot be executed (a program the rules name is missing) or that fails is never
 * this: that is the job's own outcome ({@link JobOutcome.Result#FAILED_TO_START}, {@code FAILED}).
 */
public final class NodeFilesException extends RunnerException {

    private static final long serialVersionUID = 1L;

    private final transient Path folder;
    private final String problem;
    private final long bytes;
    private final transient Path file;
    private final boolean writesFiles;

    /**
     * A file written into {@code folder} failed; which one is not said to the probe.
     *
     * @param what   what was written, with its path ({@code "the payload file /data/payloads/01X.json"})
     * @param folder the folder that must be writable for it (probed until it is); not null
     * @param bytes  how many bytes the write needed (0 when not known): a probe must fit at least as many
     * @param cause  the file system's error; not null
     */
    public NodeFilesException(String what, Path folder, long bytes, IOException cause) {
        this(what, folder, null, true, bytes, cause);
    }

    /**
     * As {@link #NodeFilesException(String, Path, long, IOException)}, naming the file whose write failed:
     * the probe asks to write that file too when it exists (review18 R6), and the node picks jobs again only
     * once both take writes.
     *
     * @param file the file whose write failed (in {@code folder}), or null
     */
    public NodeFilesException(String what, Path folder, Path file, long bytes, IOException cause) {
        this(what, folder, file, true, bytes, cause);
    }

    private NodeFilesException(String what, Path folder, Path file, boolean writesFiles, long bytes,
            IOException cause) {
        super("cannot write " + what + ": " + NodeFolders.reason(Objects.requireNonNull(folder, "folder"),
                Objects.requireNonNull(cause, "cause")), cause);
        this.folder = folder;
        this.problem = NodeFolders.reason(folder, cause);
        this.bytes = Math.max(0, bytes);
        this.file = file;
        this.writesFiles = writesFiles;
        if (what == null || what.isBlank()) {
            throw new IllegalArgumentException("what was written must be said");
        }
    }

    /**
     * A folder this node only makes and never writes into (buildhook's own default working directory,
     * the jobs' shared cwd) could not be made: the probe only makes it (review18 R11).
     *
     * @param what   what it is, with its path ({@code "the jobs' working directory /data/work"})
     * @param folder that folder; not null
     * @param cause  the file system's error; not null
     */
    public static NodeFilesException folderNotMade(String what, Path folder, IOException cause) {
        return new NodeFilesException(what, folder, null, false, 0, cause);
    }

    /** The folder that must be writable again before this node starts jobs. */
    public Path folder() {
        return folder;
    }

    /** The file system's error in words ({@code "/data/payloads/01X.json: No space left on device"}). */
    public String problem() {
        return problem;
    }

    /** How many bytes the failed write needed; 0 when not known. */
    public long bytes() {
        return bytes;
    }

    /** The file whose write failed, when said; the probe asks to write it too. */
    public java.util.Optional<Path> file() {
        return java.util.Optional.ofNullable(file);
    }

    /** Whether the node writes files into {@link #folder()} (false: it only makes it, and the probe only makes it). */
    public boolean writesFiles() {
        return writesFiles;
    }
}
