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
 *
 * <p>The process is created by {@link #spawnNow}, on the thread that starts the attempt, not by the thread that
 * runs {@code execute}: that one only waits for it ({@link #launch}), then pumps its streams and waits for its
 * exit. A hand-off to another thread before the {@code exec} was a scheduling wait on the path from a delivery to
 * its command's start that no guarantee needs (docs/BENCHMARKS.md, twenty-eighth and twenty-ninth passes).
 */
final class ExactArgvExecutor extends DefaultExecutor {

    private final List<String> argv;
    private final Path workdir;
    private final boolean newSession;
    private final ProcessEncoding encoding;
    private final StartGate gate;
    /** The attempt whose program this starts: a running attempt for {@link Orphans} from then on. */
    private final ProcessDestroyer owner;
    /** What {@link #spawnNow} created, or what kept it from creating it. */
    private final java.util.concurrent.CompletableFuture<Process> spawned = new java.util.concurrent.CompletableFuture<>();
    /** Held by {@link #spawnNow} while it creates the process, and by {@link #abandon} while it gives it up. */
    private final Object creation = new Object();
    /** Whether the attempt gave its process up before {@link #spawnNow} created it: none is. Guarded by creation. */
    private boolean abandoned;

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
        // Commons Exec's execute first looks whether its working directory exists; it defaults to ".", the JVM's own
        // current folder, which a server started by another user from a folder it cannot search (sudo -u buildhook
        // from /root) cannot stat: every job thread's execute then failed after spawnNow had created the process
        // (locks39 F5b). The process's own folder is the job's (launch ignores this one; StartCheck and the spawn
        // check the job's); "/" is a folder every user can look at.
        setWorkingDirectory(new java.io.File("/"));
    }

    /**
     * Creates the process on the calling thread, asking the gate first; {@code execute}, on another thread, takes it
     * (or what kept it from being created: the gate's refusal, a stop before the start, the exec's error) as its
     * launch. Called once, after {@code execute} was handed to its thread, so that a thread that cannot be had leaves
     * nothing created.
     *
     * @param environment the whole environment of the program
     */
    void spawnNow(Map<String, String> environment) {
        synchronized (creation) {
            if (abandoned) {
                return; // the job thread gave the attempt up already (abandon): nothing to create
            }
            try {
                spawned.complete(gate.pass(() -> Orphans.spawn(owner, () -> spawnInCgroup(environment))));
            } catch (IOException | RuntimeException | Error e) {
                // Thrown where execute would have thrown it before: its caller says what it came to.
                spawned.completeExceptionally(e);
            }
        }
    }

    /**
     * The attempt will not start after {@code why}, thrown before the process was created: {@link #spawnNow} creates
     * none, and {@link #launch} throws {@code why} (the attempt then ends {@code FAILED_TO_START} with it). For a
     * failure on the thread that starts the attempt, between the job thread's hand-off and {@link #spawnNow}: without
     * it the job thread waited in {@link #launch} for a process nobody would create, for ever (review38 F5).
     */
    void refuse(RuntimeException why) {
        abandon(why);
    }

    /**
     * Gives the process up after {@code execute} failed on the job thread before the attempt was handed the process
     * ({@code ProcessDestroyer.add}): typically before {@link #launch} took it, in Commons Exec's look at its working
     * directory, run first. {@link #spawnNow} creates none from now on; one it created already, which nobody pumps,
     * adds to the attempt's tree or would ever end, is returned for the attempt to end (review38 F5). Waits for a
     * creation under way, as {@link #launch} would.
     *
     * @return the process {@link #spawnNow} created; null when it created none
     */
    Process abandon(Throwable why) {
        synchronized (creation) {
            abandoned = true;
            spawned.completeExceptionally(why); // nothing when it is done already
        }
        return spawned.isCompletedExceptionally() ? null : spawned.join();
    }

    /** The process {@link #spawnNow} created, once it has; or what it threw, thrown here as it was there. */
    @Override
    protected Process launch(CommandLine command, Map<String, String> environment, Path ignored) throws IOException {
        try {
            // Not interruptible: a process created meanwhile is never left without the thread that waits for it.
            return spawned.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }

    /**
     * The process, created in its attempt's cgroup where the node makes them ({@link AttemptCgroups}): made just
     * before, the process moved into it right after its creation (with whatever it forked meanwhile).
     */
    private Process spawnInCgroup(Map<String, String> environment) throws IOException {
        java.nio.file.Path cgroup = owner instanceof Attempt attempt ? attempt.cgroupForStart() : null;
        Process process = spawn(environment);
        AttemptCgroups.adopt(cgroup, process.pid());
        return process;
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
