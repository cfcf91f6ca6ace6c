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

    /**
     * @param what   what was written, with its path ({@code "the payload file /data/payloads/01X.json"})
     * @param folder the folder that must be writable for it (probed until it is); not null
     * @param bytes  how many bytes the write needed (0 when not known): a probe must fit at least as many
     * @param cause  the file system's error; not null
     */
    public NodeFilesException(String what, Path folder, long bytes, IOException cause) {
        super("cannot write " + what + ": " + IoProblems.describe(Objects.requireNonNull(cause, "cause")), cause);
        this.folder = Objects.requireNonNull(folder, "folder");
        this.problem = IoProblems.describe(cause);
        this.bytes = Math.max(0, bytes);
        if (what == null || what.isBlank()) {
            throw new IllegalArgumentException("what was written must be said");
        }
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
}
