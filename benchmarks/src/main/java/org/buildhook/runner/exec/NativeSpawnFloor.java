package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The launcher's native launch ({@link NativeSpawn}: {@code posix_spawn} with
 * {@code POSIX_SPAWN_SETSID}) for {@code ProcessFloor}'s {@code --native} mode. It lives in the
 * launcher's package, in the benchmarks jar, so that the launch stays package-private in
 * workflow-runner rather than becoming API for one benchmark.
 */
public final class NativeSpawnFloor {

    private NativeSpawnFloor() {
    }

    /** Whether the native launch can be used here, and if not why (the launcher's own decision). */
    public static String unavailableReason() {
        return NativeSpawn.available() ? null : NativeSpawn.description();
    }

    /**
     * Starts {@code argv} (an absolute program path first) as the launcher does: a new session,
     * stdout and stderr on one pipe, the given environment only.
     */
    public static Process start(List<String> argv, Map<String, String> environment, Path workdir) throws IOException {
        return NativeSpawn.start(argv, environment, workdir.toAbsolutePath(), ProcessEncoding.current());
    }
}
