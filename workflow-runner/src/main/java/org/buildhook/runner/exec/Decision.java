package org.buildhook.runner.exec;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What an attempt came to while its process tree is still being ended: its timeout fired, or its
 * program exited by itself and left processes that must be ended first. The attempt's outcome is
 * that, whatever happens next; a node that dies before the tree is gone must not make it run again
 * (found by a try-out: a job that had timed out, or had exited 0 leaving a process that ignored
 * SIGTERM, ran a second time when its server was killed during the kill grace period).
 *
 * @param result   {@link JobOutcome.Result#TIMED_OUT}, {@link JobOutcome.Result#SUCCEEDED} or
 *                 {@link JobOutcome.Result#FAILED}
 * @param exitCode the program's exit code; {@code null} for a timeout
 * @param logFile  the attempt's log file
 */
public record Decision(JobOutcome.Result result, Integer exitCode, Path logFile) {

    public Decision {
        Objects.requireNonNull(result, "result");
    }
}
