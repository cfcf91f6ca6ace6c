package org.buildhook.servlet;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.buildhook.runner.store.JobAttempt;

/**
 * Whether an ended attempt's log was cut at its cap ({@code runner.log-max-bytes}), and how many bytes of
 * the job's output were dropped: shown as {@code logTruncated} / {@code logDroppedBytes} on the attempt in
 * the admin API, {@code buildhook job show} and the job's page (tryout24 F2).
 *
 * <p>Read from the log file's own {@code [buildhook] log truncated: N bytes dropped here …} line (written by
 * the runner's {@code CappedLog} when the attempt ends, right after the kept head, which is at most 8 KiB),
 * not from the store: one read of at most 8.5 KiB per attempt shown, and no schema change. It is therefore
 * known only where the file is: an attempt still running (its log is rewritten when it ends), one whose log is
 * on another node of a cluster, or whose log was deleted, gives {@code null} ("not known here").
 *
 * @param truncated    whether the log was cut
 * @param droppedBytes how many bytes of output were dropped between the kept head and tail (0 when not cut)
 */
record LogCut(boolean truncated, long droppedBytes) {

    /** A log kept whole. */
    static final LogCut WHOLE = new LogCut(false, 0);

    /**
     * How the attempt's log was kept, or {@code null} when that is not known on this node: the attempt has not
     * ended (no stored log path yet), or its log file is not here (another node's disk, removed) or cannot be read.
     */
    static LogCut of(JobAttempt attempt) {
        if (!attempt.ended() || attempt.logPath() == null) {
            return null;
        }
        try (FileChannel log = FileChannel.open(Path.of(attempt.logPath()), StandardOpenOption.READ)) {
            JobLogSender.Truncation t = JobLogSender.Truncation.find(log);
            return t == null ? WHOLE : new LogCut(true, t.dropped());
        } catch (IOException | InvalidPathException e) {
            return null;
        }
    }

    /** The words for an operator: {@code "log truncated: N bytes dropped (runner.log-max-bytes)"}. */
    String describe() {
        return "log truncated: " + droppedBytes + " bytes dropped (runner.log-max-bytes)";
    }
}
