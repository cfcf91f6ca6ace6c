package org.buildhook.runner.exec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one attempt runs.
 *
 * @param jobId   the job's id; the only input to the log file's name
 * @param attempt the attempt number, from 1
 * @param argv    the command as rendered, one element per argument
 * @param env     variables added to (and overriding) the inherited environment
 * @param workdir the working directory, or {@code null} for the launcher's default
 * @param stdin   bytes written to the process's standard input, or {@code null} for none
 * @param timeout how long before the process tree is terminated
 */
public record JobRequest(
        String jobId,
        int attempt,
        List<String> argv,
        Map<String, String> env,
        Path workdir,
        byte[] stdin,
        Duration timeout) {

    public JobRequest {
        Objects.requireNonNull(jobId, "jobId");
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        Objects.requireNonNull(timeout, "timeout");
    }
}
