package org.buildhook.runner.exec;

import org.buildhook.core.IoProblems;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ProcessDestroyer;

/**
 * One running attempt: runs the Commons Exec executor on a job thread, and ends the process tree
 * on timeout, cancel or shutdown.
 *
 * <p>It is also the executor's {@link ProcessDestroyer}: that is the hook through which Commons
 * Exec hands over the {@link Process} it started, which the tree kill needs (its own watchdog
 * only destroys the direct child). A stop asked for before the process is known is carried out
 * as soon as it is. Leftovers of a program that exited by itself are looked for when its
 * {@link PooledStreamHandler} is stopped, on the job thread, right after the exit.
 *
 * <p>The lock only guards the state: whoever moves the attempt to "ending the tree" (the job
 * thread, the timer, a cancel) claims the termination under it, then looks at {@code /proc} and
 * sends the signals outside it, so nobody else waits on that lock for a pass over the machine.
 */
final class Attempt implements RunningJob, ProcessDestroyer, PooledStreamHandler.Ending {

    private final Clock clock;
    private final Instant started;
    private final Path logFile;
    private final CappedLog log;
    private final Duration grace;
    private final boolean ownSession;
    private final ScheduledExecutorService scheduler;
    private final Consumer<Attempt> onDone;
    private final AttemptMarker marker;
    private final CompletableFuture<JobOutcome> outcome = new CompletableFuture<>();
    private final CompletableFuture<ProcessIdentity> identity = new CompletableFuture<>();
    private final CompletableFuture<Decision> decided = new CompletableFuture<>();

    private final Object lock = new Object();
    private Process process;                               // guarded by lock
    private ProcessTree tree;                              // guarded by lock
    private boolean exitedByItself;                        // guarded by lock
    private JobOutcome.Result stopReason;                  // guarded by lock
    private Duration stopGrace;                            // guarded by lock
    private String stopDetail;                             // guarded by lock
    private CompletableFuture<ProcessTree.Termination> termination; // guarded by lock
    private ScheduledFuture<?> timeout;                    // guarded by lock
    /** The program's identity as {@link ProcessTree#running} was told it; null before the start or when unknown. */
    private volatile ProcessIdentity program;
    /** When the program's exit was first seen ({@link #programExited}); null before. */
    private volatile Instant exitSeen;
    /** The attempt's cgroup ({@link AttemptCgroups}), made just before its program's creation; null when none. */
    private volatile Path cgroup;

    Attempt(Clock clock, Instant started, Path logFile, CappedLog log, Duration grace, boolean ownSession,
            AttemptMarker marker, ScheduledExecutorService scheduler, Consumer<Attempt> onDone) {
        this.ownSession = ownSession;
        this.marker = marker;
        this.clock = clock;
        this.started = started;
        this.logFile = logFile;
        this.log = log;
        this.grace = grace;
        this.scheduler = scheduler;
        this.onDone = onDone;
    }

    CappedLog log() {
        return log;
    }

    /**
     * Makes the attempt's cgroup ({@link AttemptCgroups#create}), just before its program is created; its tree and its
     * end take it from then on.
     *
     * @return the cgroup the program is to be moved into; null when the attempt has none
     */
    Path cgroupForStart() {
        Path made = AttemptCgroups.create(marker);
        cgroup = made;
        return made;
    }

    /** The job's id (as an orphan's note names the jobs that ran when it started, {@link Orphans}). */
    @Override
    public String toString() {
        if (marker == null) {
            return "an attempt";
        }
        String value = marker.value();
        return value.substring(0, value.lastIndexOf('/'));
    }

    @Override
    public CompletableFuture<JobOutcome> outcome() {
        return outcome;
    }

    @Override
    public void cancel() {
        stop(JobOutcome.Result.CANCELLED, "cancelled");
    }

    @Override
    public void cancel(String why) {
        stop(JobOutcome.Result.CANCELLED, why);
    }

    @Override
    public void kill(String why) {
        stop(JobOutcome.Result.CANCELLED, why, Duration.ZERO);
    }

    @Override
    public CompletableFuture<ProcessIdentity> process() {
        return identity;
    }

    @Override
    public CompletableFuture<Decision> decided() {
        return decided;
    }

    void armTimeout(Duration after) {
        ScheduledFuture<?> task = scheduler.schedule(
                () -> stop(JobOutcome.Result.TIMED_OUT, "timed out after " + describe(after)),
                after.toNanos(), TimeUnit.NANOSECONDS);
        synchronized (lock) {
            timeout = task;
        }
    }

    /** Ends the attempt's process tree; the first reason given wins. */
    void stop(JobOutcome.Result reason, String detail) {
        stop(reason, detail, grace);
    }

    /** As {@link #stop(JobOutcome.Result, String)}, with {@code within} between SIGTERM and SIGKILL. */
    private void stop(JobOutcome.Result reason, String detail, Duration within) {
        Claim claimed;
        synchronized (lock) {
            // A program that has already exited by itself keeps its own outcome.
            if (stopReason != null || exitedByItself || outcome.isDone()
                    || (process != null && !process.isAlive())) {
                return;
            }
            stopReason = reason;
            stopDetail = detail;
            stopGrace = within;
            claimed = claimTermination();
        }
        carryOut(claimed);
    }

    /**
     * What one thread has to do after claiming the termination under the lock; {@code reason} is the stop's, or
     * null after the program exited by itself.
     */
    private record Claim(ProcessTree tree, Duration grace, CompletableFuture<ProcessTree.Termination> termination,
            JobOutcome.Result reason) {
    }

    /**
     * Claims ending the tree unless that is already claimed or there is no process yet; under the
     * lock. The caller then calls {@link #carryOut} outside it.
     */
    private Claim claimTermination() {
        if (tree == null || termination != null) {
            return null;
        }
        termination = new CompletableFuture<>();
        return new Claim(tree, stopGrace == null ? grace : stopGrace, termination, stopReason);
    }

    /**
     * What the attempt has come to when processes of it are about to be signalled: timed out when the
     * timeout's signals reach its program; its own exit when the program had exited by itself (then only
     * what it left is signalled, whatever the stop was for); null for a cancel, a kill or a shutdown of a
     * program still running (those are run again, or remembered by the store), or while the exit code
     * cannot be read.
     */
    private Decision decision(JobOutcome.Result reason, boolean rootSignalled) {
        if (rootSignalled) {
            return reason == JobOutcome.Result.TIMED_OUT ? new Decision(JobOutcome.Result.TIMED_OUT, null, logFile)
                    : null;
        }
        synchronized (lock) {
            if (process == null || process.isAlive()) {
                return null;
            }
            int code = process.exitValue();
            return new Decision(code == 0 ? JobOutcome.Result.SUCCEEDED : JobOutcome.Result.FAILED, code, logFile);
        }
    }

    /** Looks for the members and signals them; never under the lock. */
    private void carryOut(Claim claim) {
        if (claim == null) {
            return;
        }
        try {
            claim.tree().terminate(claim.grace(), scheduler, rootSignalled -> {
                Decision decision = decision(claim.reason(), rootSignalled);
                if (decision != null) {
                    decided.complete(decision);
                }
            }).whenComplete((ended, error) -> {
                if (error == null) {
                    claim.termination().complete(ended);
                } else {
                    claim.termination().completeExceptionally(error);
                }
            });
        } catch (RuntimeException e) {
            claim.termination().completeExceptionally(e);
        }
    }

    /**
     * Runs the command to its end on the calling (job) thread: the executor's launch waits for the process that
     * {@link ExactArgvExecutor#spawnNow} creates on the thread that started the attempt.
     */
    void run(DefaultExecutor executor, CommandLine command, Map<String, String> environment) {
        Integer exitCode = null;
        String failure = null;
        String heldOpen = null;
        try {
            exitCode = executor.execute(command, environment);
        } catch (StoppedBeforeStart e) {
            // Stopped (cancelled, killed, timed out, the launcher closed) before its process was created: none is.
            log.note("not started: " + e.getMessage());
            finish(null, null, null);
            return;
        } catch (StartGate.Refused e) {
            // Its node may no longer start it (StartGate): nothing was created, and the log says why in the record's
            // words, not as a failure of the command's.
            log.note(e.getMessage());
            finish(null, e.getMessage(), null);
            return;
        } catch (IOException e) {
            Process started;
            synchronized (lock) {
                started = process;
            }
            if (started == null) {
                failure = "could not start " + command.getExecutable() + ": " + IoProblems.describe(e)
                        + endUnseen(executor, e);
            } else {
                // Typically the pumps outlived their stop timeout (a process outside the tree
                // holds the output open): the program's own exit code is still known. The
                // timeout bounds this wait should the program somehow still be running.
                exitCode = started.onExit().join().exitValue();
                // Said in the outcome, with what held the output: it was dropped, and the operator was not told
                // that a process outside the job had kept it open (escape27 F1).
                heldOpen = heldOpen(e);
            }
        } catch (RuntimeException e) {
            failure = "could not start " + command.getExecutable() + ": " + e + endUnseen(executor, e);
        }
        if (failure != null) {
            log.note("failed to start: " + failure);
        }
        finish(exitCode, failure, heldOpen);
    }

    /**
     * After {@code execute} failed before the process was handed over ({@link ExactArgvExecutor#abandon}): the process
     * {@link ExactArgvExecutor#spawnNow} had created all the same, on the thread that started the attempt, is made
     * this attempt's ({@link #add}: its tree, its pid) and ended at once with what it started (SIGKILL), then reaped,
     * before the attempt's outcome says it could not start: before, it ran on, its output not read, in no tree, never
     * ended (review38 F5: perf37 creates the process before the job thread takes it over).
     *
     * @return what the outcome adds to its failure: empty when no process was created
     */
    private String endUnseen(DefaultExecutor executor, Throwable why) {
        synchronized (lock) {
            if (process != null) {
                return ""; // handed over: its tree is ended as the attempt finishes
            }
        }
        if (!(executor instanceof ExactArgvExecutor exact)) {
            return "";
        }
        Process unseen = exact.abandon(why);
        if (unseen == null) {
            return "";
        }
        add(unseen);
        stop(JobOutcome.Result.FAILED_TO_START, "its start failed", Duration.ZERO);
        try {
            unseen.getOutputStream().close();
            unseen.getInputStream().close();
        } catch (IOException e) {
            log.note("could not close the pipes of process " + unseen.pid() + ": " + IoProblems.describe(e));
        }
        boolean interrupted = false;
        while (true) {
            try {
                unseen.waitFor(); // reaped: gone from the process table once the outcome is known
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return "; the process created for it (pid " + unseen.pid() + ") was ended";
    }

    /**
     * What the outcome says when the output could not be finished: the stream handler's words, and, when the
     * output was still open, what held it: {@code "the job's output was still open 2s after it exited, still held
     * by 4242 sleep, not ended; its output after that is not in the log"}.
     */
    private String heldOpen(IOException e) {
        String said = e.getMessage() == null ? e.toString() : e.getMessage();
        if (!(e.getCause() instanceof java.util.concurrent.TimeoutException)) {
            return said;
        }
        ProcessTree looked;
        synchronized (lock) {
            looked = tree;
        }
        java.util.List<String> holders = looked == null ? java.util.List.of() : looked.pipeHolders();
        return said + (holders.isEmpty()
                ? ", by a process buildhook cannot see (another user's, or one in another PID namespace)"
                : ", still held by " + String.join(", ", holders) + ", not ended")
                + "; its output after that is not in the log";
    }

    /**
     * The gate the launcher asks just before it creates the process: {@code outer} (its node's), then the attempt's
     * own. A stop asked of the attempt before that (a cancel, a kill for fencing, its timeout, the launcher's close)
     * keeps the process from being created at all, instead of creating it, its first lines running, and killing it
     * as it is {@link #add added} (prestart27 P2). The look is under the attempt's lock, the creation after it, not
     * under it: a stop either came before the look (nothing is created) or after it, and then ends the process as it
     * is {@link #add added}, as it ends a running one. A stop never waits for a creation, which can hang (an exec of a
     * program on a hard-mounted NFS share): it held the fencing thread, and so the other jobs' fencing (review29).
     *
     * @param outer the node's gate ({@link StartGate#OPEN} for none)
     * @return the gate to give the executor
     */
    StartGate gate(StartGate outer) {
        java.util.Objects.requireNonNull(outer, "outer");
        return new StartGate() {
            @Override
            public <T> T pass(Spawn<T> spawn) throws IOException {
                return outer.pass(() -> {
                    synchronized (lock) {
                        if (stopReason != null) {
                            throw new StoppedBeforeStart(stopDetail);
                        }
                    }
                    // Not under the lock: an exec can hang (a hard-mounted NFS share), and a stop must not wait for
                    // it (the fencing thread ends the node's jobs one after the other: review29).
                    return spawn.create();
                });
            }
        };
    }

    /** The attempt was stopped before its process was created ({@link #gate}); the message is the stop's detail. */
    private static final class StoppedBeforeStart extends IOException {
        private static final long serialVersionUID = 1L;

        StoppedBeforeStart(String detail) {
            super(detail);
        }
    }

    /** Completes an attempt that never got a process. */
    void refuse(String message) {
        log.note("failed to start: " + message);
        finish(null, message, null);
    }

    private void finish(Integer exitCode, String failure, String heldOpen) {
        Claim claimed;
        CompletableFuture<ProcessTree.Termination> ending;
        JobOutcome.Result reason;
        String detail;
        boolean created;
        synchronized (lock) {
            if (timeout != null) {
                timeout.cancel(false);
            }
            // Leftovers are ended here at the latest (normally already, when the program exited).
            exitedByItself = stopReason == null;
            claimed = claimTermination();
            ending = termination;
            reason = stopReason;
            detail = stopDetail;
            created = process != null;
        }
        carryOut(claimed);
        identity.complete(null);
        ProcessTree.Termination ended = ending == null ? null : ending.exceptionally(e -> {
            log.note("could not end the process tree: " + e);
            return null;
        }).join();
        // Its orphans were ended with it, when it was the last attempt that could own them (Orphans).
        Orphans.ended(this);
        // Its cgroup, empty by now unless its tree was never handed over (then what is in it is ended here), removed.
        AttemptCgroups.end(cgroup);
        ProcessTree.notRunning(program);
        JobOutcome.Result result;
        String message;
        boolean notStarted = false;
        if (failure != null) {
            result = JobOutcome.Result.FAILED_TO_START;
            message = failure;
            exitCode = null;
        } else if (reason != null && !created) {
            // Stopped before its process was created (gate): nothing ran, nothing was killed; the log said so.
            result = reason;
            message = detail + JobOutcome.NOT_STARTED;
            exitCode = null;
            notStarted = true;
        } else if (reason != null && !(exitCode != null && ended != null && !ended.rootSignalled())) {
            result = reason;
            message = detail + "; process tree terminated" + (ended != null && ended.killed()
                    ? (ended.signalled() > 0 && stopGraceOrDefault().isZero() ? " (SIGKILL)"
                            : " (SIGKILL after the " + describe(stopGraceOrDefault()) + " grace period)") : "")
                    + (ended == null ? "" : ended.describeEscaped() + ended.describeLeft());
            exitCode = null;
            // The log says what ended the command, as the store does: the command's own output stops
            // mid-way, and without this its reader would not know it was killed.
            log.note("killed: " + message);
        } else {
            // Exited by itself, also when a stop came as it exited, before the stop's signals (tryout22 F6): a
            // cancel, a supersede, a timeout or a shutdown that found the program gone ended only what it left.
            result = exitCode == 0 ? JobOutcome.Result.SUCCEEDED : JobOutcome.Result.FAILED;
            message = "exited with " + exitCode;
            if (ended != null && ended.signalled() > 0) {
                message += "; " + ended.signalled() + " leftover process(es) terminated" + ended.describeEscaped();
            }
            if (ended != null) {
                message += ended.describeLeft();
            }
        }
        if (heldOpen != null && failure == null) {
            message += "; " + heldOpen;
        }
        log.close();
        IOException logError = log.error();
        if (logError != null) {
            message += "; log incomplete: " + IoProblems.describe(logError);
        }
        String shortened = log.tailShortened();
        if (shortened != null) {
            message += "; log " + shortened;
        }
        // Off the launcher's running list before the outcome is known: whoever the outcome wakes (the job thread's
        // record of the end, a stop's wait, a test) never finds an ended attempt still counted as running.
        onDone.accept(this);
        outcome.complete(new JobOutcome(result, exitCode, started, clock.instant(), message, logFile,
                log.truncated(), notStarted));
    }

    @Override
    public boolean add(Process started) {
        ProcessTree startedTree = new ProcessTree(started.toHandle(), ownSession, marker, pipesOf(started), this,
                cgroup);
        ProcessIdentity id = ProcessIdentity.of(started.pid());
        if (id != null && ownSession) {
            // Through setsid the pid is the session's id, though setsid may not have run yet.
            id = new ProcessIdentity(id.pid(), id.pid(), id.startTicks());
        }
        if (id != null) {
            startedTree.rootStarted(id.startTicks());
        }
        Claim claimed = null;
        synchronized (lock) {
            process = started;
            tree = startedTree;
            if (stopReason != null) {
                claimed = claimTermination();
            }
        }
        // Before the outcome can be asked for: the identity is the one registered and taken back in finish.
        ProcessTree.running(id);
        program = id;
        carryOut(claimed);
        identity.complete(id);
        return true;
    }

    /**
     * The attempt's pipes ({@link JobPipes}): named by this JVM when it made them ({@link NativeProcess}); else read
     * from the program's descriptors 0 and 1 now, just after the start, before it could well have changed them.
     * Those are the program's only if it was still that process after the read: one that had exited by then was
     * reaped at once (the JDK does), and its pid may belong to another process since, whose pipes the tree kill would
     * take for the job's and whose holders it would end (another job's command, a pipeline of the host). Its
     * handle knows its start time ({@link ProcessHandle#isAlive()} compares it), so a program gone by then gives
     * none: what it left is still found by its session and its marker.
     */
    static java.util.Set<String> pipesOf(Process started) {
        if (started instanceof NativeProcess spawned) {
            return spawned.pipes();
        }
        java.util.Set<String> pipes = new java.util.LinkedHashSet<>(2);
        for (int fd = 0; fd <= 1; fd++) {
            String pipe = JobPipes.pipeOf(started.pid(), fd);
            if (pipe != null) {
                pipes.add(pipe);
            }
        }
        // After the read: alive now, the same process all along (a pid is not reused while its process lives).
        return started.toHandle().isAlive() ? pipes : java.util.Set.of();
    }

    /**
     * The program has exited (called by the stream handler, on the job thread): whatever it left
     * running goes too, else it would hold the output pipes open and the attempt would not end.
     */
    @Override
    public void programExited() {
        if (exitSeen == null) {
            exitSeen = clock.instant(); // before the leftovers' end and the output's wait (review50b R6)
        }
        Claim claimed;
        synchronized (lock) {
            if (stopReason != null) {
                return;
            }
            exitedByItself = true;
            claimed = claimTermination();
        }
        carryOut(claimed);
    }

    @Override
    public Instant exitSeen() {
        return exitSeen;
    }

    /** The end of the tree's termination, claimed by then (the program exited, or was stopped); done if none is. */
    @Override
    public CompletableFuture<?> treeEnded() {
        synchronized (lock) {
            return termination != null ? termination : CompletableFuture.completedFuture(null);
        }
    }

    /** Whether some process of the host still holds one of the attempt's pipes (a full pass over {@code /proc}). */
    @Override
    public boolean outputHeld() {
        ProcessTree looked;
        synchronized (lock) {
            looked = tree;
        }
        return looked != null && !looked.pipeHolders().isEmpty();
    }

    @Override
    public boolean remove(Process finished) {
        return true;
    }

    @Override
    public int size() {
        synchronized (lock) {
            return process == null || !process.isAlive() ? 0 : 1;
        }
    }

    private Duration stopGraceOrDefault() {
        synchronized (lock) {
            return stopGrace == null ? grace : stopGrace;
        }
    }

    static String describe(Duration duration) {
        return org.buildhook.runner.rules.Durations.describe(duration);
    }
}
