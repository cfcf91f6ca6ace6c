package org.buildhook.runner.exec;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The environment variable that names the attempt a process belongs to:
 * {@code BUILDHOOK_ATTEMPT=<jobId>/<attempt>}. The launcher sets it on every attempt, and every
 * descendant inherits it — also one that left the job's session with {@code setsid} or was
 * re-parented to init — so a process is known to be the attempt's by reading its
 * {@code /proc/<pid>/environ} (the environment it was started with). Job ids are unique, so a
 * marker never names two attempts.
 *
 * <p>What it cannot find: a process that was started with an environment without it
 * ({@code env -i}, an {@code execve} with a fresh environment) <em>and</em> left the job's session;
 * or one of another user, whose environment this server may not read.
 */
public final class AttemptMarker {

    /** The name of the variable. */
    public static final String VARIABLE = "BUILDHOOK_ATTEMPT";

    private final String value;
    private final byte[] entry;

    private AttemptMarker(String value) {
        this.value = value;
        this.entry = (VARIABLE + "=" + value).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The marker of attempt {@code attempt} (from 1) of job {@code jobId}.
     *
     * @throws IllegalArgumentException if the job id is blank or holds a NUL, or attempt is below 1
     */
    public static AttemptMarker of(String jobId, int attempt) {
        Objects.requireNonNull(jobId, "jobId");
        if (jobId.isBlank() || jobId.indexOf('\0') >= 0 || attempt < 1) {
            throw new IllegalArgumentException("no marker for job '" + jobId + "' attempt " + attempt);
        }
        return new AttemptMarker(jobId + "/" + attempt);
    }

    /** {@code <jobId>/<attempt>}: the variable's value. */
    public String value() {
        return value;
    }

    /**
     * Whether process {@code pid} was started with this marker in its environment. False when it
     * is gone or its environment cannot be read (another user's process, no {@code /proc}).
     */
    public boolean isCarriedBy(long pid) {
        // Read into a buffer that fits a usual environment and grows for a larger one: readAllBytes allocated
        // 8 KiB and more, and asked the size and the position first, for every process a look reads
        // (docs/BENCHMARKS.md, "Twenty-sixth pass").
        ProcStat.Whole environ = ProcStat.readWhole("/proc/" + pid + "/environ", ENVIRON_BUFFER);
        return environ != null && contains(environ.bytes(), environ.length(), entry);
    }

    /** The first buffer for a process's environment: a job's is about 1 KiB. */
    static final int ENVIRON_BUFFER = 2048;

    /** Whether {@code environ} (NUL-separated {@code NAME=value} entries) holds exactly {@code entry}. */
    static boolean contains(byte[] environ, byte[] entry) {
        return contains(environ, environ.length, entry);
    }

    /** As {@link #contains(byte[], byte[])}, for the first {@code length} bytes of {@code environ}. */
    static boolean contains(byte[] environ, int length, byte[] entry) {
        int start = 0;
        while (start < length) {
            int end = start;
            while (end < length && environ[end] != 0) {
                end++;
            }
            if (end - start == entry.length && Arrays.equals(environ, start, end, entry, 0, entry.length)) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }

    @Override
    public String toString() {
        return VARIABLE + "=" + value;
    }
}
