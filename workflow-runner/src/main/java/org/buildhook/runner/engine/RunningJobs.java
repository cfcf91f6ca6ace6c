package org.buildhook.runner.engine;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.buildhook.runner.exec.RunningJob;
import org.buildhook.runner.exec.StartGate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attempts running on this node, so that a shutdown can wait for them, then kill them, and
 * self-fencing can kill them; and the executions this node is handling (from the pick to their
 * completion, including waiting for the store to record an outcome), which dead-execution
 * revival must never hand to this node again.
 */
final class RunningJobs {

    private static final Logger LOG = LoggerFactory.getLogger(RunningJobs.class);

    private final Map<String, RunningJob> running = new ConcurrentHashMap<>();
    /** The attempt each of {@link #running} runs for, to note them when a stop begins. */
    private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
    private final Set<String> stoppedByShutdown = ConcurrentHashMap.newKeySet();
    private final Map<String, String> fenced = new ConcurrentHashMap<>();
    private final Set<String> executing = ConcurrentHashMap.newKeySet();
    /** The jobs of {@link #executing} whose command has ended here ({@link #remove}), until their thread leaves. */
    private final Set<String> commandEnded = ConcurrentHashMap.newKeySet();
    /** Why every command of this node is fenced ({@link #fenceAll}), or null. */
    private volatile String fencingAll;
    /** Why every command of this node is stopped: {@link #stop}'s grace period is over; or null. */
    private volatile String stoppedFor;
    /** What this node's stop could not record, by job id ({@link #notRecorded}): what a log follow it ends says. */
    private final Map<String, EndNotRecorded> notRecorded = new ConcurrentHashMap<>();
    /** The commands {@link #stop} cancelled (each once). */
    private final Set<String> cancelledForStop = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private volatile boolean graceOver;
    private volatile boolean hurried;
    /** The stop's wait ended by {@link #hurry} before its grace period was over (a second stop signal). */
    private volatile boolean graceCutShort;
    /**
     * Held (read) by each {@link Launch#pass} from its look at the notes to the creation of its process; taken
     * (write) by {@link #fenceAll} after its note, so that it waits for the creations under way (review26 R6).
     */
    private final ReentrantReadWriteLock creations = new ReentrantReadWriteLock();
    /** The launches under way: from {@link #launching} until their command is added, or they end without one. */
    private final Map<String, Launch> starting = new ConcurrentHashMap<>();
    /**
     * Longest wait of {@link #fenceAll} for the process creations under way ({@code posix_spawn}, which returns once
     * the command is exec'd): far beyond one (milliseconds); only a hung {@code exec} outlasts it.
     */
    static final Duration CREATIONS_WAIT = Duration.ofMinutes(1);

    /**
     * Marks the job's execution as handled by this node, first waiting while another thread of this
     * node still handles it. Only a pick released or revived under a thread that had not yet started
     * its attempt leads to a second execution of one job on one node; the first then ends without
     * running the command ({@link org.buildhook.runner.store.ExecutionLedger#LOST_PICK}), but until
     * it has left it may still hold, and then free, the job's concurrency slot or shared resources,
     * which are held per job. One job is handled by one thread of a node at a time.
     *
     * @throws InterruptedException if interrupted while waiting (the engine is stopping); then the
     *                              job is not entered
     */
    void enter(String jobId) throws InterruptedException {
        synchronized (executing) {
            boolean said = false;
            while (!executing.add(jobId)) {
                if (!said) {
                    said = true;
                    LOG.info("job {}: picked again while"
                            + " another thread of this node still handles it; waits until that one is done", jobId);
                }
                executing.wait();
            }
        }
    }

    void leave(String jobId) {
        synchronized (executing) {
            commandEnded.remove(jobId);
            executing.remove(jobId);
            executing.notifyAll();
        }
    }

    /** Whether this node is handling the job's execution now (its command may be running or ended). */
    boolean isExecuting(String jobId) {
        return executing.contains(jobId);
    }

    /**
     * Kills the job's running command at once, because this node may lose its lease on it;
     * {@code why} becomes the attempt's message. Returns false when no command of it runs here or
     * it was already fenced.
     */
    boolean fence(String jobId, String why) {
        RunningJob job = running.get(jobId);
        if (job == null || fenced.putIfAbsent(jobId, why) != null) {
            return false;
        }
        job.kill(why);
        return true;
    }

    /**
     * The outcome of the job's command if it has already ended here (its processes gone) while its thread still
     * handles it (it waits for the store to record that end), else null.
     */
    org.buildhook.runner.exec.JobOutcome endedWith(String jobId) {
        java.util.concurrent.CompletableFuture<org.buildhook.runner.exec.JobOutcome> outcome = outcome(jobId);
        return outcome == null ? null : outcome.getNow(null);
    }

    /**
     * The outcome to come of the job's command running here (completed once its processes are gone), or null when no
     * command of it runs here.
     */
    java.util.concurrent.CompletableFuture<org.buildhook.runner.exec.JobOutcome> outcome(String jobId) {
        RunningJob job = running.get(jobId);
        return job == null ? null : job.outcome();
    }

    /** The number of the attempt the job's command runs for here, or null when not known. */
    Integer attempt(String jobId) {
        return attempts.get(jobId);
    }

    /** The jobs whose commands run on this node now. */
    java.util.Set<String> runningJobIds() {
        return java.util.Set.copyOf(running.keySet());
    }

    /** Why the job's command was fenced, or null when it was not (or that was forgotten: {@link #wasFenced}). */
    String fencedFor(String jobId) {
        return fenced.get(jobId);
    }

    /** Why the job's command was fenced, or null when it was not; forgets it. */
    String wasFenced(String jobId) {
        return fenced.remove(jobId);
    }

    void add(String jobId, RunningJob job) {
        running.put(jobId, job);
        Launch launch = starting.remove(jobId); // after the put: a look finds it in one of the two
        fenceIfAllAre(jobId, job, launch);
    }

    /** As {@link #add(String, RunningJob)}, with the number of the attempt the command runs for. */
    void add(String jobId, int attempt, RunningJob job) {
        attempts.put(jobId, attempt);
        add(jobId, job);
    }

    /**
     * A launch of the job's command begins: until its command is {@link #add added} (or it ends without one,
     * {@link #launched}), the node's looks count it, and its {@link Launch} is the gate its launcher asks just before
     * the process is created. {@code words} makes the job's record of a launch refused: given the fencing's reason
     * ({@link #fenceAll}), or null when the node is stopping.
     */
    Launch launching(String jobId, Function<String, String> words) {
        return launching(jobId, 0, words, LeaseLook.NONE);
    }

    /**
     * As {@link #launching(String, Function)}, for attempt {@code attempt} (1 and up; 0 when not known, then a stop
     * that begins before its command is added does not note it: {@link #beginStop}); {@code lease} is asked too, under the same lock, after the fencing and
     * the stop: whether the job's execution is still this node's (chaos33 F2), just before its process is created and
     * just after.
     */
    Launch launching(String jobId, int attempt, Function<String, String> words, LeaseLook lease) {
        Launch launch = new Launch(jobId, attempt, words, lease);
        starting.put(jobId, launch);
        return launch;
    }

    /**
     * A launch's looks at the lease its command runs under (chaos33 F2, RELIABILITY bug 10): a node whose job thread
     * did not go on for long between the record of the attempt's start and the process's creation (a paused JVM) may
     * find the job taken over by another node meanwhile. Each look returns null while the lease is surely this node's,
     * else why not, in the words of the attempt's record.
     */
    interface LeaseLook {
        /** Never finds the lease gone: where no other node takes a job over (a SQLite store). */
        LeaseLook NONE = new LeaseLook() {
            @Override
            public String beforeCreation() {
                return null;
            }

            @Override
            public String afterCreation() {
                return null;
            }
        };

        /** Just before the exec: why the command must not be created, or null. */
        String beforeCreation();

        /** Just after the exec: why the command just created must be killed at once, or null. */
        String afterCreation();

        /**
         * Whether {@link #afterCreation} would ask the store now (the job's thread went on late): then the command
         * just created is held stopped while it asks ({@link org.buildhook.runner.exec.CreatedProcessHold}).
         */
        default boolean wouldAsk() {
            return false;
        }
    }

    /** Kills the command of a launch whose lease was found gone just after its creation ({@link Launch}), once. */
    private void fenceLate(String jobId, String why) {
        if (fence(jobId, why)) {
            LOG.warn("job {}: {}", jobId, why);
        }
    }

    /** The launch is over: its command was added, or it ended without one. */
    void launched(Launch launch) {
        starting.remove(launch.jobId, launch);
    }

    /**
     * One launch's gate (review26 R6): its command is not created once this node's id was taken over ({@link
     * #fenceAll}) or its stop began ({@link #stop}), nor once its lease is not surely this node's any more ({@link
     * LeaseLook}; one found gone just after the creation has its command killed as it is added). The look at those
     * notes and the process's creation are one step for
     * {@link #fenceAll}, which waits for the creations under way: a command created was created before it, and is
     * fenced as any running one; one not created yet never is. A stop does not wait: one created as it began is one
     * of the commands it waits for and then ends.
     */
    final class Launch implements StartGate {
        private final String jobId;
        /** The number of the attempt it starts, or 0 when not known. */
        private final int number;
        private final Function<String, String> words;
        private final LeaseLook lease;
        private volatile String refused;
        /** Whether its process was created; written before {@link #creations} is let go. */
        private volatile boolean created;
        /** Why its command, just created, must be killed ({@link LeaseLook#afterCreation}), or null; before created. */
        private volatile String late;
        /** The attempt being started, once its launcher has told it ({@link #attempt}): a stop reaches it so. */
        private volatile RunningJob attempt;

        private Launch(String jobId, int number, Function<String, String> words, LeaseLook lease) {
            this.jobId = jobId;
            this.number = number;
            this.words = words;
            this.lease = lease;
        }

        /**
         * Why the command must not start now, in the words of the job's record, or null while it may. Besides the
         * node's notes, asks its {@link LeaseLook}, which may ask the store.
         */
        String refusal() {
            String fencing = fencingAll;
            if (fencing != null) {
                return words.apply(fencing);
            }
            if (stopping) {
                return words.apply(null);
            }
            String gone = lease.beforeCreation();
            return gone == null ? null : words.apply(gone);
        }

        /**
         * The launcher creates the command before its start returns (perf37 F4), so before it is {@link #add added}: a
         * stop's end of grace cancels it here, and the attempt's own look before the exec keeps it from being created
         * (review28 R5), as it did when the command was added first. Noted before the stop's note is read; {@link #stop}
         * notes, then reads the attempts: one of the two sees the other.
         */
        @Override
        public void attempt(RunningJob job) {
            attempt = job;
            String stop = stoppedFor;
            if (stop != null) {
                cancelForStop(jobId, job, stop);
            }
        }

        /** Why {@link #pass} refused to create the command, or null when it did not (yet). */
        String refused() {
            return refused;
        }

        @Override
        public <T> T pass(Spawn<T> spawn) throws IOException {
            creations.readLock().lock();
            try {
                String why = refusal();
                if (why != null) {
                    refused = why;
                    throw new Refused(why);
                }
                T process = spawn.create();
                // Asked again once created: a pause between the look above and the exec (chaos33 F2) is not seen by
                // it. Noted before created, which the add reads after its put (as the fencing notes: review26 R1).
                // While the store is asked, the command is held stopped (tryout34 F0: it ran for that round trip beside
                // the other node's attempt); let go if it may run, else it stays stopped until its kill.
                long held = lease.wouldAsk() ? org.buildhook.runner.exec.CreatedProcessHold.hold(process) : 0;
                late = lease.afterCreation();
                if (late == null) {
                    org.buildhook.runner.exec.CreatedProcessHold.release(held);
                }
                created = true;
                // The launcher may have returned, and the command been added, before this exec ran (its executor's
                // thread): then the add did not see it late, and it is killed here, once known ({@code fence} is
                // once per job; the add looks after its put, this after its note: one of them sees the other).
                if (late != null && running.containsKey(jobId)) {
                    fenceLate(jobId, late);
                }
                return process;
            } finally {
                creations.readLock().unlock();
            }
        }
    }

    /**
     * Kills every command running on this node now and every one added from now on, with {@code why} as its attempt's
     * message: this node's id was taken over by another node, and none of its commands may go on. A launch under way
     * whose process is not created yet never creates it ({@link Launch}: review26 R6); one created meanwhile (not yet
     * added: review26 R1) is fenced as it is added.
     *
     * @return the jobs whose commands were fenced now, then those whose launch was under way (each put back in the
     *         queue: fenced as it is added, or not started)
     */
    java.util.List<String> fenceAll(String why) {
        fencingAll = why; // before the look: an add or a gate that the look misses sees it (volatile accesses)
        awaitCreations();
        // The launches first: one added meanwhile is in the running set by then (add puts it there, then leaves this).
        Set<String> launches = Set.copyOf(starting.keySet());
        java.util.List<String> putBack = new java.util.ArrayList<>();
        for (String jobId : runningJobIds()) {
            // Or fenced by its add, which saw the note first.
            if (fence(jobId, why) || why.equals(fenced.get(jobId))) {
                putBack.add(jobId);
            }
        }
        launches.stream().filter(jobId -> !putBack.contains(jobId)).sorted().forEach(putBack::add);
        return putBack;
    }

    /** Waits for the process creations under way ({@link Launch#pass}), up to {@link #CREATIONS_WAIT}. */
    private void awaitCreations() {
        try {
            if (creations.writeLock().tryLock(CREATIONS_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                creations.writeLock().unlock();
            } else {
                LOG.warn("a command's start (exec) has not returned after {}; it is killed if it starts, as it is added",
                        org.buildhook.runner.rules.Durations.describe(CREATIONS_WAIT));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * What the node's one-time looks at its running commands ({@link #fenceAll}, the end of {@link #stop}'s grace)
     * would have done to {@code jobId}, just added, had its launch not been under way then (review26 R1): each look
     * notes its reason (a volatile write) before it looks, and an add reads the notes after its own put, so a command
     * is either seen by the look or sees its note.
     */
    private void fenceIfAllAre(String jobId, RunningJob job, Launch launch) {
        if (launch != null && launch.refused != null) {
            return; // its gate refused it: nothing was created, nothing is killed (review26 R6)
        }
        if (launch != null && launch.created && launch.late != null) {
            fenceLate(jobId, launch.late);
        }
        String why = fencingAll;
        // Not created yet, its gate refuses it; or it is being created past the gate's look, and fenceAll's look,
        // which waits for that, finds it in the running set, where it was put before this read.
        if (why != null && (launch == null || launch.created) && fence(jobId, why)) {
            LOG.warn("job {}: {}; its command, whose start was under way then, is killed now", jobId, why);
        }
        String stop = stoppedFor;
        if (stop != null) {
            cancelForStop(jobId, job, stop);
        }
    }

    /** {@link #stop}'s end of the grace period for one command: once per command. */
    private void cancelForStop(String jobId, RunningJob job, String why) {
        if (cancelledForStop.add(jobId)) {
            stoppedByShutdown.add(jobId);
            job.cancel(why); // the log's last line says why, not "cancelled" as by an operator
        }
    }

    void remove(String jobId) {
        if (executing.contains(jobId)) {
            commandEnded.add(jobId);
        }
        running.remove(jobId);
        attempts.remove(jobId);
    }

    /**
     * How many of the jobs this node handles have a command that has ended here while their thread still records what
     * it came to (the store may be away): what a stop's grace period waits for besides the running commands (tryout29
     * F5). Ended is its processes gone ({@link RunningJob#outcome} complete), whether or not its thread has seen it yet
     * ({@link #remove}): a thread whose look at the job's cancel flag waits for a store that does not answer sees the
     * end only once that look is over (metrics42: up to {@code store.connect-timeout}, or for as long as a hung
     * PostgreSQL holds the read), and the end is counted meanwhile, not left among the running commands. A job not yet
     * started, or whose command is being created, is not counted.
     */
    int awaitingTheirRecord() {
        Set<String> ended = new java.util.HashSet<>(commandEnded);
        running.forEach((jobId, job) -> {
            if (job.outcome().isDone()) {
                ended.add(jobId);
            }
        });
        return (int) ended.stream().filter(executing::contains).count();
    }

    /**
     * A stop begins: no launch passes its gate from now on ({@link Launch#refusal}), and the attempts it may cut short
     * are returned, job id to attempt number: those whose commands run on this node ({@link #add(String, int,
     * RunningJob)}), and those whose launch is under way and not refused, whose command may be being created or created
     * and not yet added. The launcher creates a command before its start returns (perf37 F4), so a stop that began
     * between the exec and the add missed it (ci-h38: its note in {@code stops-not-recorded} was missing, and a stop
     * killed in its grace then counted the attempt as its node's death). A launch puts itself in {@link #starting}
     * before its gate reads {@link #stopping}, and this writes {@code stopping} before it reads {@code starting}: one
     * sees the other. {@code starting} is read before {@code attempts}: an add puts the attempt there before it leaves
     * {@code starting}.
     */
    java.util.Map<String, Integer> beginStop() {
        stopping = true;
        java.util.Map<String, Integer> all = new java.util.HashMap<>();
        starting.values().forEach(launch -> {
            if (launch.number > 0 && launch.refused == null) {
                all.put(launch.jobId, launch.number);
            }
        });
        all.putAll(attempts);
        return java.util.Map.copyOf(all);
    }

    int size() {
        return running.size();
    }

    /**
     * How many commands run on this node now: of those {@link #add added}, the ones whose processes are not all gone
     * yet; one that has ended is counted by {@link #awaitingTheirRecord} until its thread leaves, also before that
     * thread has seen the end.
     */
    int commandsRunning() {
        return (int) running.values().stream().filter(job -> !job.outcome().isDone()).count();
    }

    /** This node's stop could not record how the attempt of {@code jobId} ended: {@code end}. */
    void notRecorded(String jobId, EndNotRecorded end) {
        notRecorded.put(jobId, end);
    }

    /** How this node's stop knew the attempt of {@code jobId} ended and could not record it; empty when it did not. */
    java.util.Optional<EndNotRecorded> notRecorded(String jobId) {
        return java.util.Optional.ofNullable(notRecorded.get(jobId));
    }

    /** Ends the wait of {@link #stop} now, or makes the next stop wait for nothing. */
    synchronized void hurry() {
        hurried = true;
        notifyAll();
    }

    /** Whether a stop has begun: no attempt starts from now on. */
    boolean isStopping() {
        return stopping;
    }

    /**
     * Whether a stop's grace period is over (or was cut short by {@link #hurry}): from then on, a
     * job's wait for the store to record what its attempt came to gives up at its next failure.
     * During the grace it goes on waiting, so that an outcome is not dropped (and the job run
     * again at the next start) because the store was away for a moment.
     */
    boolean isGraceOver() {
        return graceOver;
    }

    /**
     * Whether the stop's grace period was cut short by {@link #hurry} (a second stop signal), rather than over: what
     * a job it killed says (tryout38 F7: it said the grace period had ended).
     */
    boolean isGraceCutShort() {
        return graceCutShort;
    }

    void markStoppedByShutdown(String jobId) {
        stoppedByShutdown.add(jobId);
    }

    boolean wasStoppedByShutdown(String jobId) {
        return stoppedByShutdown.remove(jobId);
    }

    /**
     * Stops taking jobs, waits up to {@code grace} for the running ones and for the jobs this node
     * still handles (a command that ended whose outcome is not recorded yet: the store may be away;
     * less if {@link #hurry} is called meanwhile), then kills what is left, for {@code why}.
     */
    void stop(Duration grace, String why) throws InterruptedException {
        stopping = true;
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            synchronized (this) {
                while ((!running.isEmpty() || !executing.isEmpty()) && System.nanoTime() < deadline && !hurried) {
                    wait(50);
                }
                graceCutShort = hurried && System.nanoTime() < deadline;
            }
        } finally {
            graceOver = true;
        }
        stoppedFor = why; // before the look: a command added after it is cancelled as it is added (review26 R1)
        running.forEach((jobId, job) -> cancelForStop(jobId, job, why));
        // And one whose launcher told its attempt and has not returned yet: not created, it never is (review28 R5).
        starting.forEach((jobId, launch) -> {
            RunningJob job = launch.attempt;
            if (job != null) {
                cancelForStop(jobId, job, why);
            }
        });
    }

    /**
     * After {@link #stop}: waits until this node handles no job any more, so that no job's thread is interrupted
     * while the kill sequence the stop began is under way (SIGTERM, {@code runner.kill-grace}, SIGKILL, the tree
     * reaped) or while it records what became of its job; or until {@code deadline} ({@link System#nanoTime()}).
     * {@link #hurry} does not end it: the kill sequences are bounded, and their outcomes are what the stop is for.
     *
     * @param deadline when to stop waiting, as {@link System#nanoTime()}
     * @return the jobs still handled at the deadline, empty when none is
     * @throws InterruptedException if the stopping thread is interrupted meanwhile
     */
    java.util.Set<String> awaitHandled(long deadline) throws InterruptedException {
        synchronized (executing) {
            long left;
            while (!executing.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                // leave() notifies; the ceiling only keeps the wait from overflowing a far deadline.
                executing.wait(Math.max(1, Math.min(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left), 60_000)));
            }
            return java.util.Set.copyOf(executing);
        }
    }

    /** How many jobs this node handles now: their commands run, or their outcomes are being recorded. */
    int handled() {
        return executing.size();
    }
}
