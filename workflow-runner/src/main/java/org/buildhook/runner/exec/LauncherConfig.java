package org.buildhook.runner.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link CommonsExecLauncher} runs jobs. Start from {@link #defaults(Path)} and change what
 * differs with the {@code with…} methods.
 *
 * @param logDirectory    where the attempt logs go ({@code <dir>/<jobId>/attempt-<n>.log})
 * @param logCapBytes     the most one attempt's log keeps (head + tail); default 10 MiB
 * @param killGrace       time between SIGTERM and SIGKILL; default 10 s
 * @param defaultWorkdir  the working directory when a job names none; default the server's
 *                        current directory
 * @param baseEnvironment what every job inherits before its own variables; default the
 *                        server's variables on {@link JobEnvironment}'s allow-list
 * @param newSession      whether to start each job in its own session, so that processes that
 *                        escape the tree (double fork) are still found and killed: with glibc's
 *                        {@code posix_spawn} where it can ({@link NativeSpawn}), else through
 *                        {@value #SETSID}; default true where either can
 * @param makesDefaultWorkdir whether {@code defaultWorkdir} is buildhook's own folder
 *                        ({@code <data-dir>/work}), made by the launcher whenever a job needs it and it
 *                        is missing; false for a folder the operator named, which must exist
 */
public record LauncherConfig(
        Path logDirectory,
        long logCapBytes,
        Duration killGrace,
        Path defaultWorkdir,
        Map<String, String> baseEnvironment,
        boolean newSession,
        boolean makesDefaultWorkdir) {

    /**
     * The program that starts a job in a new session when {@link NativeSpawn} cannot; the job's
     * argv follows it unchanged.
     */
    public static final String SETSID = "/usr/bin/setsid";

    public static final long DEFAULT_LOG_CAP = 10L * 1024 * 1024;
    /** The largest log cap: 1 GiB. */
    public static final long MAX_LOG_CAP = 1L << 30;
    public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(10);

    public LauncherConfig {
        logDirectory = Objects.requireNonNull(logDirectory, "logDirectory").toAbsolutePath().normalize();
        if (logCapBytes < 1024 || logCapBytes > MAX_LOG_CAP) {
            throw new IllegalArgumentException("log cap must be between 1 KiB and 1 GiB, was " + logCapBytes);
        }
        Objects.requireNonNull(killGrace, "killGrace");
        if (killGrace.isNegative()) {
            throw new IllegalArgumentException("kill grace period must not be negative, was " + killGrace);
        }
        defaultWorkdir = Objects.requireNonNull(defaultWorkdir, "defaultWorkdir").toAbsolutePath().normalize();
        baseEnvironment = Map.copyOf(baseEnvironment);
        if (newSession && !Files.isExecutable(Path.of(SETSID)) && !NativeSpawn.available()) {
            throw new IllegalArgumentException(SETSID + " not found, and posix_spawn cannot start a session here ("
                    + NativeSpawn.description() + "): install util-linux or turn newSession off");
        }
    }

    /** The defaults, with the given log directory. */
    public static LauncherConfig defaults(Path logDirectory) {
        return new LauncherConfig(logDirectory, DEFAULT_LOG_CAP, DEFAULT_KILL_GRACE, Path.of(""),
                JobEnvironment.inherited(System.getenv(), java.util.List.of(), java.util.Set.of()),
                Files.isExecutable(Path.of(SETSID)) || NativeSpawn.available(), false);
    }

    public LauncherConfig withLogCapBytes(long bytes) {
        return new LauncherConfig(logDirectory, bytes, killGrace, defaultWorkdir, baseEnvironment, newSession,
                makesDefaultWorkdir);
    }

    public LauncherConfig withKillGrace(Duration grace) {
        return new LauncherConfig(logDirectory, logCapBytes, grace, defaultWorkdir, baseEnvironment, newSession,
                makesDefaultWorkdir);
    }

    /** Jobs that name no working directory run in {@code workdir}, which must exist (an operator's folder). */
    public LauncherConfig withDefaultWorkdir(Path workdir) {
        return new LauncherConfig(logDirectory, logCapBytes, killGrace, workdir, baseEnvironment, newSession, false);
    }

    /**
     * Jobs that name no working directory run in {@code workdir}, buildhook's own folder, which the
     * launcher makes whenever a job needs it and it is missing (not made yet, or removed by a job since).
     */
    public LauncherConfig withOwnDefaultWorkdir(Path workdir) {
        return new LauncherConfig(logDirectory, logCapBytes, killGrace, workdir, baseEnvironment, newSession, true);
    }

    public LauncherConfig withBaseEnvironment(Map<String, String> environment) {
        return new LauncherConfig(logDirectory, logCapBytes, killGrace, defaultWorkdir, environment, newSession,
                makesDefaultWorkdir);
    }

    public LauncherConfig withNewSession(boolean enabled) {
        return new LauncherConfig(logDirectory, logCapBytes, killGrace, defaultWorkdir, baseEnvironment, enabled,
                makesDefaultWorkdir);
    }
}
