package org.buildhook.runner.exec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

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
 * @param secrets further values to mask in the attempt's log ({@link LogMask}), besides the values of the
 *                secret-named variables of {@code env} and of the inherited environment, which are always masked:
 *                what buildhook knows to be secret in {@code argv} or in other variables (a URL's password, an
 *                {@code Authorization} header's credential); empty for none
 * @param secretsCoverEnv whether {@code secrets} holds every value to mask of {@code env}'s secret-named variables
 *                already ({@link SecretNames#valuesIn}): the engine's requests, whose secrets were worked out from the
 *                job's own variables on the same start, so that {@link #maskedIn} does not judge their names again
 *                (perf38); the variables buildhook adds ({@code BUILDHOOK_RESOURCE_…}, the payload's path) hold no
 *                secret, whatever a resource's name (perf38 F4). When false it adds them itself
 */
public record JobRequest(
        String jobId,
        int attempt,
        List<String> argv,
        Map<String, String> env,
        Path workdir,
        byte[] stdin,
        Duration timeout,
        Set<String> secrets,
        boolean secretsCoverEnv) {

    public JobRequest {
        Objects.requireNonNull(jobId, "jobId");
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        Objects.requireNonNull(timeout, "timeout");
        secrets = Set.copyOf(secrets);
    }

    /** A request whose {@code secrets} are further values, besides its variables' ({@link #secretsCoverEnv()} false). */
    public JobRequest(String jobId, int attempt, List<String> argv, Map<String, String> env, Path workdir,
            byte[] stdin, Duration timeout, Set<String> secrets) {
        this(jobId, attempt, argv, env, workdir, stdin, timeout, secrets, false);
    }

    /** A request with no further secret values than its variables' ({@link #secrets()} empty). */
    public JobRequest(String jobId, int attempt, List<String> argv, Map<String, String> env, Path workdir,
            byte[] stdin, Duration timeout) {
        this(jobId, attempt, argv, env, workdir, stdin, timeout, Set.of());
    }

    /**
     * Every value masked in the attempt's log: {@link #secrets()}, the values of {@code env}'s secret-named variables
     * ({@link SecretNames}) and {@code inheritedSecrets}, those of the inherited environment.
     */
    Set<String> maskedIn(Set<String> inheritedSecrets) {
        Set<String> named = secretsCoverEnv ? Set.of() : SecretNames.valuesIn(env);
        if (named.isEmpty() && secrets.isEmpty() && inheritedSecrets.isEmpty()) {
            return Set.of();
        }
        Set<String> all = new java.util.HashSet<>(named);
        all.addAll(secrets);
        all.addAll(inheritedSecrets);
        return all;
    }
}
