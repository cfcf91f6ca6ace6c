package org.buildhook.runner.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.commons.exec.CommandLine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs job attempts as child processes with Apache Commons Exec, never through a shell.
 *
 * <p>The argv is passed as it was rendered: each element becomes exactly one argument, with no
 * quoting, splitting or substitution. The program is resolved on the PATH of the job's own
 * environment (the base environment plus the request's variables) and checked before launch.
 * stdout and stderr go, as raw bytes, to one capped log file per attempt ({@link JobLogs}). On
 * timeout, {@link RunningJob#cancel()} and {@link #close()} the whole process tree gets SIGTERM,
 * then SIGKILL after the grace period; leftovers of a job that exited by itself are ended too.
 *
 * <p>Thread pools are injected: {@code jobThreads} holds one thread per running attempt for its
 * whole life (size it to the concurrency limit or leave it unbounded), {@code scheduler} runs the
 * timeouts and the short kill steps, {@code outputThreads} copies each attempt's output to its log
 * and writes its stdin (one or two tasks per running attempt), so that no thread is started per
 * job once the pools are warm.
 */
public final class CommonsExecLauncher implements JobLauncher, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CommonsExecLauncher.class);

    private final LauncherConfig config;
    private final JobLogs logs;
    private final Clock clock;
    private final ExecutorService jobThreads;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService outputThreads;
    private final boolean ownsThreads;
    /** How long an attempt's output may stay open after its tree was ended (a process that escaped it). */
    private final Duration pipeWait;
    private final Set<Attempt> running = ConcurrentHashMap.newKeySet();
    private final ProcessEncoding encoding = ProcessEncoding.current();
    /**
     * What every job's log masks of the environment every job inherits: its secret-named variables' values and the
     * secret parts of its credential-shaped values (a URL's password).
     */
    private final Set<String> inheritedSecrets;
    private volatile boolean closed;
    /** The periodic {@link Orphans#reapAll}, while this JVM is a child subreaper; null otherwise. */
    private final java.util.concurrent.ScheduledFuture<?> reaper;
    private final java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * A launcher on the given clock and thread pools, which stay the caller's to shut down, and
     * its own output threads ({@code buildhook-job-output-<n>}, daemons), shut down by
     * {@link #close()}.
     */
    public CommonsExecLauncher(LauncherConfig config, Clock clock, ExecutorService jobThreads,
            ScheduledExecutorService scheduler) {
        this(config, clock, jobThreads, scheduler, outputThreads(), false);
    }

    /**
     * A launcher on the given clock and thread pools.
     *
     * @param outputThreads copies the output and writes the stdin of the attempts: it must never
     *                      leave a task waiting while attempts run (two per attempt at most: leave
     *                      it unbounded or size it to twice the concurrency limit). The launcher
     *                      takes it over and shuts it down in {@link #close()}, once every attempt
     *                      has ended: only then is no task of it still needed.
     */
    public CommonsExecLauncher(LauncherConfig config, Clock clock, ExecutorService jobThreads,
            ScheduledExecutorService scheduler, ExecutorService outputThreads) {
        this(config, clock, jobThreads, scheduler, outputThreads, false);
    }

    private CommonsExecLauncher(LauncherConfig config, Clock clock, ExecutorService jobThreads,
            ScheduledExecutorService scheduler, ExecutorService outputThreads, boolean ownsThreads) {
        this.config = Objects.requireNonNull(config, "config");
        this.logs = new JobLogs(config.logDirectory());
        this.clock = Objects.requireNonNull(clock, "clock");
        this.jobThreads = Objects.requireNonNull(jobThreads, "jobThreads");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.outputThreads = Objects.requireNonNull(outputThreads, "outputThreads");
        this.ownsThreads = ownsThreads;
        // Worked out once: Duration.multipliedBy goes through BigDecimal.
        this.pipeWait = config.killGrace().multipliedBy(2).plusSeconds(15);
        // As a rule's env is (JobTask, Redaction.hiddenIn): the secret-named variables' values and the secret part of
        // each credential-shaped value, a URL's password (tryout47b F13: HTTPS_PROXY=http://ci:PASSWORD@proxy, the
        // docs' own inherit-env example, was printed in clear where the same URL in a rule's env was masked).
        this.inheritedSecrets = Set.copyOf(org.buildhook.runner.store.Redaction.hiddenIn(List.of(),
                config.baseEnvironment()));
        NativeSpawn.launcherOpened();
        Orphans.decide();
        AttemptCgroups.decide();
        // Orphans that exit by themselves, with no attempt ending to reap them, are zombies until reaped here.
        this.reaper = Orphans.active() ? scheduler.scheduleWithFixedDelay(Orphans::reapAllNow, REAP_EVERY.toMillis(),
                REAP_EVERY.toMillis(), TimeUnit.MILLISECONDS) : null;
    }

    /** How often, while this JVM is a child subreaper, exited orphans are reaped ({@link Orphans#reapAll}). */
    static final Duration REAP_EVERY = Duration.ofSeconds(10);

    /**
     * Whether this JVM is a child subreaper that ends and reaps the processes jobs leave behind: asked with
     * {@code -Dbuildhook.subreaper=on} ({@code bin/buildhook} passes it; the WAR does not) and turned on (Linux with
     * {@code /proc}, {@code prctl} allowed). Then every process orphaned under this JVM, also as a container's PID 1,
     * is reaped by it: those a job's end killed at once, those that exit by themselves within {@link #REAP_EVERY}
     * (10 s). Decided once per class loader, by the first launcher.
     *
     * @return true while this launcher reaps orphans; false when the property is absent or off, or it could not be
     *         turned on (the log said why)
     */
    public boolean reapsOrphans() {
        return reaper != null;
    }

    private static ExecutorService outputThreads() {
        return Executors.newCachedThreadPool(new JobThreadFactory("buildhook-job-output", true));
    }

    /**
     * A launcher on the system clock with its own daemon threads ({@code buildhook-job-<n>},
     * {@code buildhook-job-timer-<n>}, {@code buildhook-job-output-<n>}), shut down by
     * {@link #close()}.
     */
    public static CommonsExecLauncher create(LauncherConfig config) {
        return new CommonsExecLauncher(config, Clock.systemUTC(),
                Executors.newCachedThreadPool(new JobThreadFactory("buildhook-job", true)),
                timer(), outputThreads(), true);
    }

    /**
     * One thread for the timeouts and kill steps. A cancelled timeout leaves its queue at once: with
     * the default policy every finished job's timeout (10 minutes unless the rule says otherwise)
     * would stay queued, holding its attempt, until it was due.
     */
    private static ScheduledExecutorService timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                new JobThreadFactory("buildhook-job-timer", true));
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    @Override
    public Duration killGrace() {
        return config.killGrace();
    }

    /**
     * {@code runner.log-dir}. Not buildhook's own default working directory: only the jobs of rules without a
     * workdir need it, and the application says at start when it cannot be made; the first such job pauses
     * the node then.
     */
    @Override
    public List<NodeFolders.Folder> nodeFolders() {
        return List.of(new NodeFolders.Folder("runner.log-dir", config.logDirectory(), true));
    }

    /** Where the logs go; the store and the admin API find an attempt's log with it. */
    public JobLogs logs() {
        return logs;
    }

    /**
     * Ends the attempt {@code FAILED_TO_START} without starting anything, its log saying why.
     *
     * @throws IllegalArgumentException as {@link #start}
     */
    @Override
    public RunningJob refuse(JobRequest request, String why) {
        Attempt attempt = attemptOf(request);
        attempt.refuse(why);
        return attempt;
    }

    private Attempt attemptOf(JobRequest request) {
        Path logFile = logs.pathFor(request.jobId(), request.attempt());
        logs.markNotesRecorded(); // before the log: the record of its notes is made at the first note only
        return new Attempt(clock, clock.instant(), logFile, CappedLog.open(logFile, config.logCapBytes()),
                config.killGrace(), config.newSession(), marker(request), scheduler, running::remove);
    }

    /**
     * Why the just opened, still empty, {@code logFile} has no room for the command's output, or null: its
     * disk is already full (files19 D4b). An empty file takes no block, so the log opens on a full disk, and
     * the command then ran with nothing in its log ({@code log incomplete}) when {@code runner.log-dir} is on
     * another disk than the payloads, whose write would have paused the node first. Looked at without
     * writing while the disk has {@link NodeFolders#PROBE_BYTES} free (one {@code statvfs}); below that, the
     * probe a paused node writes to resume ({@link NodeFolders#probe}) decides, so the two agree (a root
     * server may write into a disk's reserved blocks, which the free count leaves out); so does it for a disk
     * whose free space cannot be read.
     */
    static java.io.IOException noRoomFor(Path logFile) {
        Path folder = logFile.getParent();
        // File.getUsableSpace is the statvfs alone; Files.getFileStore first read and searched the whole
        // /proc/self/mountinfo, at every job (docs/BENCHMARKS.md, "Twentieth pass: the job's bookkeeping"). It
        // answers 0 for a disk it cannot look at, which the probe then decides.
        if (folder.toFile().getUsableSpace() >= NodeFolders.PROBE_BYTES) {
            return null;
        }
        try {
            NodeFolders.probe(folder, true, 0, null);
            return null;
        } catch (java.io.IOException e) {
            return e;
        }
    }

    /** Deletes the log of an attempt that does not start, when it is still empty; a failure leaves it. */
    private static void deleteEmpty(Path logFile) {
        try {
            if (Files.size(logFile) == 0) {
                Files.delete(logFile);
            }
        } catch (java.io.IOException | RuntimeException e) {
            // left as it is: an empty file
        }
    }

    /**
     * Starts the attempt.
     *
     * @throws IllegalArgumentException if the job id could not safely name a log folder or the
     *                                  attempt number is below 1; everything else that stops the
     *                                  command from starting is a {@code FAILED_TO_START} outcome
     * @throws NodeFilesException       when the attempt's log file, or buildhook's own default working
     *                                  directory, cannot be created: nothing was started
     */
    @Override
    public RunningJob start(JobRequest request) {
        return start(request, StartGate.OPEN);
    }

    /**
     * Starts the attempt, asking {@code gate} on the calling thread just before the process is created ({@code
     * posix_spawn} or {@link ProcessBuilder#start()}), which happens before this returns: refused, the attempt ends
     * {@code FAILED_TO_START} with the refusal's words, its log saying them too, and nothing was created. An attempt
     * stopped before that moment (timed out, the launcher closed) is not created either: it ends with its stop's
     * outcome, {@code "<why>; its command was not started"}. The wait for the process's exit and its output are a
     * job thread's ({@code jobThreads}).
     *
     * @throws IllegalArgumentException as {@link #start(JobRequest)}
     * @throws NodeFilesException       as {@link #start(JobRequest)}
     */
    @Override
    public RunningJob start(JobRequest request, StartGate gate) {
        Objects.requireNonNull(gate, "gate");
        // A relative workdir is taken from the default one, not from wherever the server runs.
        Path workdir = request.workdir() == null ? config.defaultWorkdir()
                : config.defaultWorkdir().resolve(request.workdir()).normalize();
        if (request.workdir() == null && config.makesDefaultWorkdir()) {
            // Before the log is made: nothing is left behind by an attempt that does not start.
            ownWorkdir(workdir);
        }
        Attempt attempt = attemptOf(request);
        Path logFile = logs.pathFor(request.jobId(), request.attempt());
        java.io.IOException unopened = attempt.log().error();
        java.io.IOException noRoom = unopened == null ? noRoomFor(logFile) : null;
        if (unopened != null || noRoom != null) {
            // Never a command without its log (tryout17 F3): the node cannot write its own files, which is
            // not the job's fault; a log that fills up once open still lets the command run ("log incomplete").
            attempt.log().close();
            if (noRoom != null) {
                deleteEmpty(logFile);
            }
            throw new NodeFilesException("the log file " + logFile, logFile.getParent(), 0,
                    unopened != null ? unopened : noRoom);
        }
        if (closed) {
            attempt.refuse("the launcher is shut down");
            return attempt;
        }
        if (request.timeout().isNegative() || request.timeout().isZero()) {
            attempt.refuse("the timeout must be positive, was " + Attempt.describe(request.timeout()));
            return attempt;
        }
        StartCheck.Checked checked;
        try {
            checked = StartCheck.check(request.argv(), config.baseEnvironment(), withMarker(request), workdir,
                    encoding);
        } catch (StartCheck.Refused e) {
            attempt.refuse(e.getMessage());
            return attempt;
        }
        for (String line : checked.leftOut()) {
            attempt.log().note(line);
        }
        running.add(attempt);
        if (closed) {
            // close() may have taken its list of running attempts before this one joined it.
            running.remove(attempt);
            attempt.refuse("the launcher is shut down");
            return attempt;
        }
        ExactArgvExecutor executor = executor(request, checked, attempt, gate);
        // Only names the command in messages: ExactArgvExecutor starts the exact argv.
        CommandLine command = new CommandLine(checked.executable().toFile());
        // Armed first, so that a job ending at once never leaves a timer behind.
        try {
            attempt.armTimeout(request.timeout());
            jobThreads.execute(() -> attempt.run(executor, command, checked.environment()));
        } catch (RejectedExecutionException e) {
            running.remove(attempt);
            attempt.refuse("no thread to run the job: " + e.getMessage());
            return attempt;
        }
        // Created here, on the caller's thread, while the job thread is being woken: it only waits for the process,
        // pumps its streams and waits for its exit. Created there, the exec waited for that thread to be scheduled
        // (docs/BENCHMARKS.md, twenty-ninth pass). The gate knows the attempt first: its node's stop can reach it
        // before the creation, as it did once start had returned.
        try {
            gate.attempt(attempt);
        } catch (RuntimeException e) {
            // Nothing created: the job thread, waiting for the process, ends the attempt FAILED_TO_START with this
            // instead of waiting for ever (review38 F5). A fault of the gate's, not of the job's: said whole, once.
            LOG.warn("job {}: its node's start gate failed before its command was created; the attempt ends as one"
                    + " that could not start", request.jobId(), e);
            executor.refuse(e);
            return attempt;
        }
        executor.spawnNow(checked.environment());
        return attempt;
    }

    /** The attempt's marker; the log's name has already refused a job id or attempt it could not carry. */
    private static AttemptMarker marker(JobRequest request) {
        return AttemptMarker.of(request.jobId(), request.attempt());
    }

    /** The request's variables, and the marker every process of the attempt inherits (not overridable). */
    private static java.util.Map<String, String> withMarker(JobRequest request) {
        java.util.Map<String, String> env = new java.util.HashMap<>(request.env());
        env.put(AttemptMarker.VARIABLE, marker(request).value());
        String store = AttemptMarker.servedStore();
        if (store != null) {
            env.put(AttemptMarker.STORE_VARIABLE, store); // whose attempt: a restored copy's shares the number
        }
        String server = AttemptMarker.server();
        if (server != null) {
            env.put(AttemptMarker.SERVER_VARIABLE, server); // which JVM: a copy tells a crashed original (tryout58 F1)
        }
        return env;
    }

    private ExactArgvExecutor executor(JobRequest request, StartCheck.Checked checked, Attempt attempt,
            StartGate gate) {
        @SuppressWarnings("resource") // closed by the attempt once the process tree is gone
        CappedLog log = attempt.log();
        // The stop timeout bounds the wait for a pipe held open by a process that escaped the
        // tree kill; one held once the tree is gone is given up sooner (PooledStreamHandler.DRAIN).
        // A job with no secret values writes to its log directly (LogMask.over).
        PooledStreamHandler streams = new PooledStreamHandler(outputThreads,
                LogMask.over(log, request.maskedIn(inheritedSecrets)), request.stdin(), pipeWait, attempt);
        return new ExactArgvExecutor(argv(checked.executable(), request.argv()), checked.workdir(),
                config.newSession(), encoding, streams, attempt, attempt.gate(gate));
    }

    /** The program as resolved, then the rest of the argv untouched. */
    private static List<String> argv(Path executable, List<String> requested) {
        List<String> argv = new ArrayList<>(requested.size());
        argv.add(executable.toString());
        argv.addAll(requested.subList(1, requested.size()));
        return argv;
    }

    /**
     * Stops accepting jobs, ends every running process tree (SIGTERM, then SIGKILL after the grace
     * period) and waits for their outcomes, then shuts down the output threads. The job threads
     * and the scheduler are shut down only if this launcher made them ({@link #create}).
     */
    @Override
    public void close() {
        closed = true;
        List<CompletableFuture<JobOutcome>> outcomes = new ArrayList<>();
        for (Attempt attempt : List.copyOf(running)) {
            attempt.stop(JobOutcome.Result.CANCELLED, "cancelled: the server is shutting down");
            outcomes.add(attempt.outcome());
        }
        Duration wait = config.killGrace().multipliedBy(3).plusSeconds(30);
        try {
            CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
                    .get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{} job(s) still ending after {}; giving up waiting", running.size(), Attempt.describe(wait));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.warn("a job ended abnormally while shutting down", e);
        }
        // Waiting pumps are interrupted. One blocked on a pipe that a process outside the tree still holds
        // open was already woken when its attempt gave up the output (its pipe is read through a channel,
        // NativeProcess.PipeInput); without posix_spawn (the JDK's pipes) it ends with that process.
        outputThreads.shutdownNow();
        if (reaper != null) {
            reaper.cancel(false);
            Orphans.reapAll();
        }
        if (ownsThreads) {
            jobThreads.shutdownNow();
            scheduler.shutdownNow();
        }
        if (released.compareAndSet(false, true)) {
            NativeSpawn.launcherClosed(); // the last one lets go of JNA's binding (a WAR undeployed)
        }
    }

    /** Tasks waiting in the timer (timeouts, kill steps), when it is a {@link ScheduledThreadPoolExecutor}; for tests. */
    int timerTasksQueued() {
        return scheduler instanceof ScheduledThreadPoolExecutor timer ? timer.getQueue().size() : -1;
    }

    /** The attempts running now (being started, or started and not ended), in no order; for tests. */
    List<RunningJob> attempts() {
        return List.copyOf(running);
    }

    /** Attempts running now, for metrics and tests. */
    public int runningCount() {
        return running.size();
    }


    /**
     * Makes buildhook's own default working directory ({@code <data-dir>/work}) when it is missing: not
     * made yet when the engine started a job put back by the last stop, or removed since by a job that
     * cleaned up after itself (review14 F11). A folder the operator named is never made.
     */
    private static void ownWorkdir(Path workdir) {
        if (java.nio.file.Files.isDirectory(workdir)) {
            return;
        }
        try {
            org.buildhook.core.DataFiles.createDirectories(workdir);
        } catch (java.io.IOException e) {
            // buildhook's own folder in its data folder: the node's fault, not the job's (tryout17 F3).
            throw NodeFilesException.folderNotMade("the jobs' working directory " + workdir, workdir, e);
        }
    }

}
