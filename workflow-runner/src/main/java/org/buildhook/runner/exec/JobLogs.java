package org.buildhook.runner.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the log of one attempt lives: {@code <directory>/<jobId>/attempt-<n>.log}.
 *
 * <p>The path is made from the job id and the attempt number only, never from payload values,
 * and the job id must match {@code [A-Za-z0-9_-]{1,64}}, so no input can name a file outside
 * the log directory.
 */
public final class JobLogs {

    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final Path directory;

    public JobLogs(Path directory) {
        this.directory = Objects.requireNonNull(directory, "directory").toAbsolutePath().normalize();
    }

    /** The log directory, absolute and normalised. */
    public Path directory() {
        return directory;
    }

    /**
     * Where the truncated log of attempt log {@code log} is written before it is renamed over it
     * ({@code .attempt-N.log.rewrite} beside it): a stop in the middle of that leaves it behind, for
     * whoever deletes the log (retention) to delete too.
     */
    public static Path rewriteOf(Path log) {
        return log.resolveSibling("." + log.getFileName() + ".rewrite");
    }

    /**
     * The record of buildhook's own notes in attempt log {@code log} ({@code .attempt-N.log.notes} beside it: where
     * each {@code [buildhook] } line the launcher wrote is, read by {@link LogNotes}); whoever deletes the log deletes
     * it too.
     */
    public static Path notesOf(Path log) {
        return log.resolveSibling("." + log.getFileName() + ".notes");
    }

    /**
     * The file in a log directory that says its logs have records of their notes ({@link #notesOf}):
     * {@code .buildhook-notes-recorded}, made by the first log a build that keeps them writes there. A log in that
     * directory changed at or after the file's own modification time, and with no record beside it, has no notes; one
     * changed before it was written by an older build (before 2026-12-03), whose notes nothing records.
     *
     * @param logDirectory the log directory ({@code runner.log-dir})
     * @return the file's path (which may be missing)
     */
    public static Path notesRecordedMarkOf(Path logDirectory) {
        return logDirectory.resolve(".buildhook-notes-recorded");
    }

    /** The log directories marked by this class loader ({@link #markNotesRecorded}): one look each. */
    private static final java.util.Set<Path> MARKED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Makes {@link #notesRecordedMarkOf} in {@code logDirectory} if it is missing, once per directory and class
     * loader, before the first log written there: so every log this build writes is changed after the mark.
     * <p>Never throws: a mark that cannot be made (the directory missing or not writable) is tried again by the next
     * log, and meanwhile the logs read as ones without a record (their notes as lines like any other).
     */
    void markNotesRecorded() {
        if (MARKED.contains(directory)) {
            return;
        }
        try {
            org.buildhook.core.DataFiles.createIfMissing(notesRecordedMarkOf(directory));
            MARKED.add(directory);
        } catch (java.io.IOException | RuntimeException e) {
            // tried again by the next log
        }
    }

    /**
     * The log file of one attempt.
     *
     * @throws IllegalArgumentException if the job id is not {@code [A-Za-z0-9_-]{1,64}} or the
     *                                  attempt is below 1
     */
    public Path pathFor(String jobId, int attempt) {
        requireValidJobId(jobId);
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1, was " + attempt);
        }
        Path file = directory.resolve(jobId).resolve("attempt-" + attempt + ".log").normalize();
        if (!file.startsWith(directory)) {
            // Unreachable with the pattern above; kept so a future change to it cannot escape.
            throw new IllegalArgumentException("log path escapes the log directory: " + file);
        }
        return file;
    }

    /**
     * The log file of attempt {@code attempt} of job {@code jobId} as a node reads or deletes it, given
     * the path the store recorded when it ended ({@code job_attempts.log_path}, absolute, made by
     * {@link #pathFor} of the log directory in force then).
     *
     * <p>With {@code here} (the log directory in force now, {@code runner.log-dir}): always
     * {@code here.pathFor(jobId, attempt)}, whatever was recorded. The recorded path names the folder of
     * the installation that ran the attempt: a data folder moved since keeps the file under the new
     * folder's log directory by the same name, and a restored copy of a store must read (and its
     * retention delete) its own copy, never the original installation's file; and a path in the
     * database can point anywhere, so none is ever used as it is. Without {@code here} (a store opened
     * without a log directory): the recorded path, only when it is named as buildhook names that very
     * attempt's log ({@code <folder>/<jobId>/attempt-<attempt>.log}).
     *
     * @param here     the log directory in force, or null when none is known
     * @param jobId    the job's id, from the store; one that could not name a folder gives null
     * @param attempt  the attempt's number, from the store; below 1 gives null
     * @param recorded the recorded path, or null
     * @return the file to read or delete (which may be missing), or null when there is none to look at
     */
    public static Path ofAttempt(JobLogs here, String jobId, int attempt, String recorded) {
        if (jobId == null || !JOB_ID.matcher(jobId).matches() || attempt < 1) {
            return null;
        }
        if (here != null) {
            return here.pathFor(jobId, attempt);
        }
        if (recorded == null) {
            return null;
        }
        Path file;
        try {
            file = Path.of(recorded).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
        Path folder = file.getParent();
        boolean named = file.isAbsolute() && file.getFileName().toString().equals("attempt-" + attempt + ".log")
                && folder != null && folder.getFileName() != null && folder.getFileName().toString().equals(jobId);
        return named ? file : null;
    }

    /**
     * The log file a node <em>reads</em> for an attempt: {@link #ofAttempt} with {@code here}, unless that file is
     * missing and the recorded path, named as buildhook names that very attempt's log
     * ({@code <folder>/<jobId>/attempt-<attempt>.log}), is a regular file: then that one. So a moved data folder or
     * a restored copy reads its own copy first, and an installation whose {@code runner.log-dir} was changed
     * without moving the older logs still reads them where they were written (as it did before 2026-12-02:
     * review26 R8). Deleting (retention) uses {@link #ofAttempt} alone: never a file outside the log directory
     * in force.
     *
     * @param here     the log directory in force, or null when none is known
     * @param jobId    the job's id, from the store; one that could not name a folder gives null
     * @param attempt  the attempt's number, from the store; below 1 gives null
     * @param recorded the recorded path, or null
     * @return the file to read (which may be missing), or null when there is none to look at
     */
    public static Path toRead(JobLogs here, String jobId, int attempt, String recorded) {
        Path own = ofAttempt(here, jobId, attempt, recorded);
        if (here == null || own == null || Files.exists(own)) {
            return own;
        }
        Path written = ofAttempt(null, jobId, attempt, recorded);
        return written != null && Files.isRegularFile(written, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? written
                : own;
    }

    /** Returns the id unchanged, or throws if it could not safely name a folder. */
    public static String requireValidJobId(String jobId) {
        if (jobId == null || !JOB_ID.matcher(jobId).matches()) {
            throw new IllegalArgumentException("invalid job id " + describe(jobId)
                    + ": expected 1 to 64 characters from [A-Za-z0-9_-]");
        }
        return jobId;
    }

    private static String describe(String jobId) {
        if (jobId == null) {
            return "null";
        }
        String shown = jobId.length() > 80 ? jobId.substring(0, 80) + "…" : jobId;
        return '"' + shown.replaceAll("\\p{Cntrl}", "?") + '"';
    }
}
