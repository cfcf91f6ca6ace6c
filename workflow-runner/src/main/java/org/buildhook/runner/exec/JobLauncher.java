package org.buildhook.runner.exec;

/**
 * Starts one attempt of a job as a child process (never through a shell) and reports how it
 * ended. Implementations must be thread-safe. Injected so that tests and the engine can swap it.
 */
public interface JobLauncher {

    /**
     * Starts the attempt. Never throws for a command that cannot start: that is reported as an
     * outcome of {@link JobOutcome.Result#FAILED_TO_START} with a clear message.
     *
     * @throws NodeFilesException when this node cannot write what the attempt needs before its command
     *         starts (its log file): the node's fault, not the job's; nothing was started
     */
    RunningJob start(JobRequest request);

    /**
     * As {@link #start(JobRequest)}, asking {@code gate} at the last moment before the attempt's process is created
     * whether it may still be ({@link StartGate#pass}). Refused, nothing is created and the attempt ends {@link
     * JobOutcome.Result#FAILED_TO_START} with the refusal's words as its message (and in its log). By default the gate
     * is asked once, before {@link #start(JobRequest)}: enough for a launcher that creates its process before
     * {@code start} returns; one that creates it later (on a thread of its own) asks it there.
     *
     * @throws NodeFilesException as {@link #start(JobRequest)}
     */
    default RunningJob start(JobRequest request, StartGate gate) {
        try {
            return gate.pass(() -> start(request));
        } catch (StartGate.Refused e) {
            return refuse(request, e.getMessage());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // start(JobRequest) throws none
        }
    }

    /**
     * Ends the attempt {@link JobOutcome.Result#FAILED_TO_START} without starting anything, for a
     * reason of the job's found before the launch: its log says why, as for any attempt that could not
     * start. Not for a file this node cannot write (its payload file): that is the node's fault, and the
     * engine puts the job back instead ({@link NodeFilesException}).
     */
    RunningJob refuse(JobRequest request, String why);

    /**
     * The folders this launcher writes into (or makes) before a command starts, which the engine probes at
     * its start so that a node that cannot write them is paused from the start (final18 F1), not from its
     * first job. None by default.
     */
    default java.util.List<NodeFolders.Folder> nodeFolders() {
        return java.util.List.of();
    }

    /**
     * How long an attempt's process tree may take to end after SIGTERM before it gets SIGKILL ({@code
     * runner.kill-grace}): what a stop waits for, after its grace period, for a job that ignores SIGTERM.
     * Zero by default (a launcher that kills at once).
     *
     * @return the kill grace, never negative
     */
    default java.time.Duration killGrace() {
        return java.time.Duration.ZERO;
    }
}
