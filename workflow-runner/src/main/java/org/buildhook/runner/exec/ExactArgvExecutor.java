package org.buildhook.runner.exec;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteStreamHandler;
import org.apache.commons.exec.ProcessDestroyer;

/**
 * A Commons Exec executor that starts the process with the exact argv it was given, in a session
 * of its own when asked.
 *
 * <p>Commons Exec 1.5.0's {@code CommandLine} trims every argument ({@code CommandLine.Argument}
 * calls {@code String.trim()}, even with {@code handleQuoting=false}) and rewrites backslashes in
 * the executable, so {@code " "} or {@code "message\n"} would not arrive unchanged. Everything
 * else (stream pumping, waiting, exit values, the process destroyer hook) stays Commons Exec's;
 * only {@link #launch} is replaced. The {@code CommandLine} passed to {@code execute} then only
 * names the command in messages.
 *
 * <p>How {@link #launch} starts the process:
 * <ul>
 * <li>in a new session, where {@link NativeSpawn#available()}: {@link NativeSpawn} ({@code posix_spawn}
 *     with {@code POSIX_SPAWN_SETSID}, one exec);
 * <li>in a new session otherwise: a {@link ProcessBuilder} on {@code /usr/bin/setsid --wait --
 *     <argv>} (setsid stops reading options at {@code --}; the argv follows it unchanged);
 * <li>without: a {@link ProcessBuilder} on the argv.
 * </ul>
 *
 * <p>stderr goes into the stdout pipe: both end in the same log anyway, this way in the order they
 * were written, and one pump per job reads them ({@link PooledStreamHandler}).
 */
final class ExactArgvExecutor extends DefaultExecutor {

    private final List<String> argv;
    private final Path workdir;
    private final boolean newSession;
    private final ProcessEncoding encoding;
    private final StartGate gate;
    /** The attempt whose program this starts: a running attempt for {@link Orphans} from then on. */
    private final ProcessDestroyer owner;

    /**
     * @param argv       the program as {@link StartCheck} resolved it, then its arguments
     * @param newSession whether the program leads a session of its own (its pid is the session id)
     * @param encoding   how this JVM encodes arguments and paths ({@link StartCheck} checked them)
     * @param gate       asked just before the process is created ({@link StartGate#pass}); refused, none is
     */
    // 1.5.0 gives subclasses only this deprecated constructor (the builder's is package-private);
    // subclassing is the documented way to replace launch(), see the class comment.
    @SuppressWarnings("deprecation")
    ExactArgvExecutor(List<String> argv, Path workdir, boolean newSession, ProcessEncoding encoding,
            ExecuteStreamHandler streams, ProcessDestroyer destroyer, StartGate gate) {
        super();
        this.gate = java.util.Objects.requireNonNull(gate, "gate");
        this.owner = destroyer;
        this.argv = List.copyOf(argv);
        this.workdir = workdir;
        this.newSession = newSession;
        this.encoding = encoding;
        setStreamHandler(streams);
        setProcessDestroyer(destroyer);
        setExitValues(null); // every exit code is an outcome, not an exception
    }

    @Override
    protected Process launch(CommandLine command, Map<String, String> environment, Path ignored) throws IOException {
        return gate.pass(() -> Orphans.spawn(owner, () -> spawn(environment)));
    }

    private Process spawn(Map<String, String> environment) throws IOException {
        if (newSession && NativeSpawn.available()) {
            return NativeSpawn.start(argv, environment, workdir, encoding);
        }
        List<String> started = argv;
        if (newSession) {
            started = new ArrayList<>(argv.size() + 3);
            started.addAll(List.of(LauncherConfig.SETSID, "--wait", "--"));
            started.addAll(argv);
        }
        ProcessBuilder builder = new ProcessBuilder(started).directory(workdir.toFile()).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(environment);
        return builder.start();
    }

    @Override
    protected Process launch(CommandLine command, Map<String, String> environment, File ignored) throws IOException {
        return launch(command, environment, workdir);
    }
}
