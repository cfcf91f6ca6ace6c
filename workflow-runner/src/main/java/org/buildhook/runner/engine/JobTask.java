package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.CurrentlyExecuting;
import com.github.kagkarlsson.scheduler.task.CompletionHandler;
import com.github.kagkarlsson.scheduler.task.ExecutionContext;
import com.github.kagkarlsson.scheduler.task.ExecutionHandler;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.exec.JobLauncher;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.JobRequest;
import org.buildhook.runner.exec.NodeFilesException;
import org.buildhook.runner.exec.ProcessIdentity;
import org.buildhook.runner.exec.RunningJob;
import org.buildhook.runner.exec.Watchdog;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.rules.ResourceVariable;
import org.buildhook.runner.rules.StoredJobCheck;
import org.buildhook.runner.store.Dialect;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.Redaction;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.NodeEnd;
import org.buildhook.runner.store.ResourceLedger;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one db-scheduler execution of a job: one attempt, then what comes next (done, retry later,
 * wait for a slot, or back to the queue after a shutdown). The job row is the truth: a job whose
 * row is already final is never run again, even if its execution survived a crash.
 *
 * <p>A store outage is waited out on the job's thread ({@link StoreOutageWait}), which keeps the
 * execution: a step before the command is tried again and the command then runs once; an outcome
 * is kept until the store records it; db-scheduler's remove or reschedule is tried again too. Before
 * the command a stopping engine (or its interrupt) gives up; after it, only a stop whose grace period
 * is over (or an interrupt) does, leaving the execution to dead-execution revival.
 * A wait before the command that outlasts half the dead-execution limit hands the execution back
 * to the queue instead of running the command under an execution another node may revive.
 */
final class JobTask implements ExecutionHandler<Void> {

    private static final Logger LOG = LoggerFactory.getLogger(JobTask.class);
    static final String PAYLOAD_ENV = "BUILDHOOK_PAYLOAD";
    /** Fraction of the dead-execution limit without a heartbeat after which the command is not started. */
    private static final double HAND_BACK_AT = 0.5;
    /**
     * Longest wait of an attempt for the deliveries being accepted (docs/BENCHMARKS.md, "Third pass:
     * accepting while jobs run"): far below any dead-execution limit, and at most this much later
     * for a job whose delivery came in a burst.
     */
    static final Duration ACCEPTS_FIRST = Duration.ofMillis(100);
    /** When a job whose outcome was kept with its attempt ({@link #keptForTheNextPick}) is picked again: db-scheduler's. */
    static final Duration RECORD_AGAIN = Duration.ofSeconds(10);
    /**
     * {@code <job id>/<attempt>} of the attempts whose outcome this node kept with them after the store refused its
     * record ({@link #keptForTheNextPick}), until its next pick here records it: for the words of that record.
     */
    private final Set<String> keptAfterARefusal = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * By job id, the attempt a try of this process's start may have made though its answer was lost (a connection cut
     * after PostgreSQL committed it), never launched, until a start or a look of a later pick here finds out: a pick
     * that gave up waiting for the store after such a try (handed back past half the dead-node limit, a failure its
     * wait does not outlast, a stop) left it {@code RUNNING}, and the next pick recorded it {@code INTERRUPTED} "the
     * store lost that record" and started the next (review53 F1). That pick goes on with it instead ({@link
     * ExecutionLedger#ownStartNotLaunched}), as the pick whose try it was would have.
     */
    private final java.util.Map<String, Integer> startsUnanswered = new java.util.concurrent.ConcurrentHashMap<>();

    private final Store store;
    private final ExecutionLedger ledger;
    private final JobLauncher launcher;
    private final EngineConfig config;
    private final RunningJobs running;
    private final Clock clock;
    private final JobEvents events;
    private final StoreOutageWait waits;
    /**
     * The waits of the steps after an attempt's command, and of the records that end a job: besides an outage, a
     * deadlock, a serialization failure or a {@code statement_timeout} is waited out too ({@link
     * StoreOutages#passes}), never handed to db-scheduler's retry, which ran the command again (review51 E1).
     */
    private final StoreOutageWait records;
    /** The wait of an outcome whose record and keeping the store both refuse ({@link #keptForTheNextPick}). */
    private final RefusedRecordWait refusals;
    private final LeftoverSweep leftovers;
    private final Runnable followUpsDue;
    private final java.util.concurrent.Executor decisions;
    /** The exit status of a process killed by SIGKILL, as the JDK reports it (128 + 9). */
    private static final int SIGKILLED = 137;
    /** The node's watchdog process, or null when it has none (SQLite, {@code runner.watchdog: off}). */
    private final java.util.function.Supplier<Watchdog> watchdog;
    /** This JVM's pauses, for a node without a watchdog ({@link #seenOnWaking}). */
    private final JvmPauses pauses;
    /** Whether this node can write the files an attempt needs before its command (tryout17 F3). */
    private final NodeFilesWatch files;
    /** Told on a job's thread when the node should pick again once the thread is free ({@link JobThreads}). */
    private final Runnable pickAgain;
    /**
     * Why the node's rules in force take out the rule of a job (disabled, or removed by a reload: the reload's cancel
     * words), or empty; {@link #takenOut}.
     */
    private volatile java.util.function.Function<Job, Optional<String>> takenOut = job -> Optional.empty();

    /**
     * @param followUpsDue told after an attempt of a job with follow-ups ended, so that they start
     *                     at once; only then: a look for follow-ups after every job would cost each
     *                     delivery a query (docs/BENCHMARKS.md), and the periodic look still finds
     *                     what a node left behind
     * @param decisions    where what an attempt came to before its processes are ended is written (not
     *                     on the launcher's timer thread, which completes it)
     */
    JobTask(Store store, JobLauncher launcher, EngineConfig config, RunningJobs running, Clock clock,
            JobEvents events, LeftoverSweep leftovers, Runnable followUpsDue, java.util.concurrent.Executor decisions,
            java.util.function.Supplier<Watchdog> watchdog) {
        this(store, launcher, config, running, clock, events, leftovers, followUpsDue, decisions, watchdog,
                NodeFilesWatch.detached(config.nodeId()));
    }

    /** @param files told when an attempt cannot write its files; while it says so, no attempt starts */
    JobTask(Store store, JobLauncher launcher, EngineConfig config, RunningJobs running, Clock clock,
            JobEvents events, LeftoverSweep leftovers, Runnable followUpsDue, java.util.concurrent.Executor decisions,
            java.util.function.Supplier<Watchdog> watchdog, NodeFilesWatch files) {
        this(store, launcher, config, running, clock, events, leftovers, followUpsDue, decisions, watchdog, files,
                () -> { });
    }

    /**
     * @param pickAgain told on the job's thread when its execution ends without its command because the job cannot
     *                   start now (a slot or units not free, the older job it superseded still running) or no longer
     *                   runs (cancelled, ended, refused), and after an attempt that gave a slot or units back (which
     *                   woke the next in line): the node then picks again once the thread is free ({@link
     *                   JobThreads}), so that a job that can start does not wait behind it (tryout43 F6)
     */
    JobTask(Store store, JobLauncher launcher, EngineConfig config, RunningJobs running, Clock clock,
            JobEvents events, LeftoverSweep leftovers, Runnable followUpsDue, java.util.concurrent.Executor decisions,
            java.util.function.Supplier<Watchdog> watchdog, NodeFilesWatch files, Runnable pickAgain) {
        this.pickAgain = pickAgain;
        this.pauses = JvmPauses.shared();
        pauses.retain(); // released by the engine's stop (JobEngine.stop)
        this.files = files;
        this.watchdog = watchdog;
        this.decisions = decisions;
        this.leftovers = leftovers;
        this.followUpsDue = followUpsDue;
        this.events = events;
        this.store = store;
        this.ledger = store.ledger();
        this.launcher = launcher;
        this.config = config;
        this.running = running;
        this.clock = clock;
        this.waits = new StoreOutageWait(StoreOutageWait.THREAD_SLEEP, clock);
        this.records = new StoreOutageWait(StoreOutageWait.THREAD_SLEEP, clock, StoreOutages::passes);
        this.refusals = new RefusedRecordWait(StoreOutageWait.THREAD_SLEEP, clock);
    }

    /**
     * Refuses to start a job whose rule the node's rules in force disable or removed ({@code why} says so, in the
     * words of the reload's cancel; empty for any other job): it ends {@code CANCELLED} as that cancel ends it, whatever
     * the cancel itself did (tryout57 F4: the store refused it during an outage, and the disabled rule's queued jobs ran
     * once the store answered).
     *
     * @return this task
     */
    JobTask takenOut(java.util.function.Function<Job, Optional<String>> why) {
        this.takenOut = java.util.Objects.requireNonNull(why, "why");
        return this;
    }

    @Override
    public CompletionHandler<Void> execute(TaskInstance<Void> instance, ExecutionContext context) {
        String jobId = instance.getId();
        try {
            running.enter(jobId);
        } catch (InterruptedException e) {
            // The engine stops: the execution stays picked by this node, and is put back in the
            // queue as a stale pick, or revived after the dead-node limit.
            Thread.currentThread().interrupt();
            return LEFT_ALONE;
        }
        if (files.unwritable()) {
            // Picked with others just as the node found it cannot write its files (it picks no more now):
            // back to the queue untouched, for another node or for this one once it can (tryout17 F3).
            LOG.debug("job {}: not started here while this node cannot write its files; back in the queue", jobId);
            return completing(jobId, backInItsPlace());
        }
        CompletionHandler<Void> next;
        try {
            next = decide(jobId, version(context), () -> beforeTheCommand(context));
        } catch (Error e) {
            running.leave(jobId);
            throw e;
        } catch (RuntimeException e) {
            // Only a wait before the command gives up for a reason other than a stop or an interrupt.
            if (StoreOutages.isOutage(e) && running.isStopping()) {
                // The store could not be reached during a stop: the wait said so in one line, and handing the
                // failure to db-scheduler added its "Unhandled exception" WARN and, its own reschedule failing too,
                // an ERROR "Failed while completing execution", each with a whole stack trace (tryout20 F2). Put
                // back in its place if the store takes it; if not, it stays picked, as after a crash.
                LOG.debug("job {}: left to the next start during this stop", jobId, e);
                return completing(jobId, backInItsPlace());
            }
            if (!StoreOutages.isOutage(e) || Thread.currentThread().isInterrupted() || held(context)) {
                running.leave(jobId);
                throw e;
            }
            // Waited so long before the command that this execution may be taken for dead (and run
            // elsewhere) any moment: hand it back rather than run the command under it. This node
            // still handles it until the hand-back is written (completing() leaves it then): left
            // earlier, its own dead-execution check could revive it meanwhile and the hand-back would
            // then update a version that is gone ("Expected one execution to be updated"). Another
            // node may have revived it: then it is that node's, as after fencing.
            LOG.warn("job {}: handing its execution back to the queue after waiting for the store", jobId);
            next = tolerant(jobId, backInItsPlace());
        }
        return completing(jobId, next);
    }

    private CompletionHandler<Void> decide(String jobId, long version, StoreOutageWait.Until before) {
        // On PostgreSQL a job that can start at once starts in the statement that reads it, under
        // the pick (ExecutionLedger.jobToStart): so accepts go first before it, as before any start.
        boolean startAtRead = store.dialect() == Dialect.POSTGRESQL && !running.isStopping();
        if (startAtRead) {
            letAcceptsGoFirst();
        }
        // When the statement that may start the job (and renew its heartbeat) was sent: its lease runs from then.
        long[] sent = new long[1];
        // Whether a try of the read that may start the job failed with an outage: it may have started it all the same,
        // its answer lost (review51 S1).
        boolean[] unanswered = new boolean[1];
        Optional<ExecutionLedger.JobToRun> found = waits.call(jobId, "read the job", () -> {
            sent[0] = System.nanoTime();
            try {
                return startAtRead ? ledger.jobToStart(jobId, config.nodeId(), version) : ledger.jobToRun(jobId);
            } catch (RuntimeException e) {
                if (startAtRead && StoreOutages.isOutage(e)) {
                    unanswered[0] = true;
                    startsUnanswered.put(jobId, 1); // until found out, whatever becomes of this pick (review53 F1)
                }
                throw e;
            }
        }, before);
        if (found.isEmpty()) {
            startsUnanswered.remove(jobId);
            return notRunHere(remove());
        }
        if (startAtRead && found.get().started() == 0 && couldStartAtRead(found.get())) {
            // Not started though it could be as read: the statement returns the job as it was before
            // it waited for the job's row, and what committed meanwhile (a cancellation, another
            // node's start) stopped the start. Read it again, so that the decision below sees it.
            found = waits.call(jobId, "read the job", () -> ledger.jobToRun(jobId), before);
            if (found.isEmpty()) {
                return notRunHere(remove());
            }
        }
        Job job = found.get().job();
        if (found.get().started() > 0 || job.state().isFinal()) {
            startsUnanswered.remove(jobId); // started by this read's answer, or ended: nothing left to find out
        }
        if (found.get().started() > 0) {
            // Its rule taken out by the node's rules in force (tryout57 F4): not run, whatever the reload's cancel did.
            Optional<String> out = takenOut(job);
            if (out.isPresent()) {
                if (job.attempts() == 0) {
                    waits.call(job.id(), "drop its follow-ups", () -> store.followUps().start(job, null),
                            this::untilStopping);
                }
                String message = Job.cancelledAsRuleNotInForce(out.get(), job.attempts(), job.message());
                return notRunAfterItsStart(job, found.get().started(), version, message, message, JobState.CANCELLED);
            }
            // Started with the read (PostgreSQL): its rule as stored is looked at before its command runs (tryout42 F7).
            Optional<String> refused = StoredJobCheck.refusal(job);
            if (refused.isPresent()) {
                return refusedAfterItsStart(job, found.get().started(), version, refused.get());
            }
            // And the values it was stored with (values43 V2): its body was read with it (a start at the read needs it).
            Optional<String> values = valuesRefusal(job, found.get().body(), before);
            if (values.isPresent()) {
                return failedAfterItsStart(job, found.get().started(), version, values.get());
            }
            return launch(job, found.get().body(), found.get().started(), version, Map.of(), sent[0]);
        }
        if (job.state().isFinal()) {
            return notRunHere(remove());
        }
        if (job.attempts() > 0) {
            // What this node's last stop kept in its data folder of the job's attempts (an outcome the store could not
            // record then) is recorded first, for the look below: picked before the start's sweep could record it (the
            // store full at the start, the job revived after the dead-node limit), its command ran again (stopnote43).
            // So is what the stop of the attempt's node, gone from this host, kept in its own data folder, once the
            // dead-node limit passed without its start (review48 F5).
            try {
                waits.run(jobId, "record what its last attempt came to before its node's last stop",
                        () -> leftovers.beforePick(jobId, job.state() == JobState.RUNNING), before);
            } catch (LeftoverSweep.KeptOutcomeRefused e) {
                // The store refuses that record (said by the sweep's words), without db-scheduler's WARN and stack
                // trace at every try (review54 F3). The job stays picked by this node, whose sweep keeps its heartbeat
                // and tries the record again: handed back to the queue, a node of another host picked it, found its
                // attempt running with nothing recorded and ran the command again (review54 N1). Not held (the store
                // would not take that either): back in the queue for the next try.
                if (leftovers.holds(jobId)) {
                    LOG.debug("job {}: left picked by this node: {}", jobId, e.getMessage());
                    return LEFT_ALONE;
                }
                LOG.debug("job {}: back in the queue: {}", jobId, e.getMessage());
                return rescheduleIn(RECORD_AGAIN);
            }
            // Its last attempt had timed out, or its program had exited, when its node stopped
            // before the attempt's processes were gone: that is its outcome; the command is not run again.
            // Looked at before its cancel, which then wins all the same, but keeps that exit (supersede21).
            Optional<ExecutionLedger.Decided> decided = waits.call(jobId, "read what its last attempt came to",
                    () -> ledger.decided(jobId, job.attempts()), before);
            if (decided.isPresent()) {
                if (job.state() == JobState.RUNNING) {
                    waits.run(jobId, "end what an earlier attempt left", () -> sweepBeforeRerun(jobId), before);
                    // Read again: the sweep recorded what it killed.
                    Optional<ExecutionLedger.Decided> swept = waits.call(jobId, "read what its last attempt came to",
                            () -> ledger.decided(jobId, job.attempts()), before);
                    return concluded(job, version, swept.orElse(decided.get()));
                }
                return concluded(job, version, decided.get());
            }
        }
        // A first attempt the read's lost answer may have started (review51 S1), or the attempt a try of an earlier
        // pick here may have (review53 F1): looked for by the start (runAttempt).
        Integer earlier = startsUnanswered.get(jobId);
        int mayHaveStarted = job.state() != JobState.RUNNING ? 0 : unanswered[0] && job.attempts() == 1 ? 1
                : earlier != null && earlier == job.attempts() ? earlier : 0;
        if (job.cancelRequested()) {
            if (mayHaveStarted > 0) {
                // Cancelled (or superseded) while the answer to the read that started its attempt was lost: that
                // attempt, this process's and never launched, is ended CANCELLED by the look (record53 B: the job
                // was marked "cancelled while attempt 1 ran; its node stopped …", the attempt left RUNNING under it).
                int own = waits.call(jobId, "look for the attempt its read started",
                        () -> ledger.ownStartNotLaunched(jobId, config.nodeId(), version, mayHaveStarted), before);
                startsUnanswered.remove(jobId);
                if (own == ExecutionLedger.LOST_PICK) {
                    return pickLost(jobId);
                }
                if (own == ExecutionLedger.CANCEL_ASKED) {
                    LOG.info("job {}: cancelled while the answer to the start of its attempt {} was lost; not launched",
                            jobId, mayHaveStarted);
                    return cancelledBeforeItsStart(job, before, true);
                }
            }
            return cancelledBeforeItsStart(job, before, false);
        }
        if (running.isStopping()) {
            return backInItsPlace();
        }
        Optional<String> out = takenOut(job);
        if (out.isPresent()) {
            return takenOut(job, out.get(), before);
        }
        if (job.state() == JobState.RUNNING && waits.call(jobId, "look for processes of its attempt another server runs",
                () -> leftovers.heldBesideAnotherServer(jobId), before)) {
            // Its attempt still runs for another buildhook server on this host (a copy of this store's history): not
            // run beside it (tryout58 F1); said by the sweep's words, looked at again at its next pick.
            LOG.debug("job {}: back in the queue for {}: processes of its attempt run for another buildhook server",
                    jobId, Durations.describe(config.heartbeatInterval()));
            return rescheduleIn(config.heartbeatInterval());
        }
        // One still marked running (its node crashed) is refused once its next attempt's start has ended that one's
        // record (runAttempt); any other before it takes a slot or units.
        Optional<String> refused = job.state() == JobState.RUNNING ? Optional.empty() : StoredJobCheck.refusal(job);
        if (refused.isPresent()) {
            return refused(job, refused.get(), before);
        }
        if (job.workflow().supersedeRunning() && job.workflow().supersedeKey() != null) {
            // running: cancel stops the older build's job, which may take up to kill-grace to end (a cleanup
            // trap): the newer build's command must not run beside it (chaos15 F2). Put back in the same
            // transaction as the look, so that the older job's end wakes it (review15).
            ExecutionLedger.Take older = waits.call(jobId, "look for the jobs it superseded",
                    () -> ledger.putBackWhileSupersededRuns(jobId, job.ruleName(), job.workflow().supersedeKey(),
                            version, clock.instant().plus(config.slotRetryDelay())), before);
            if (older != ExecutionLedger.Take.TAKEN) {
                if (older != ExecutionLedger.Take.PICK_LOST) {
                    LOG.info("job {}: waiting for the older build's job it superseded to stop before it starts", jobId);
                }
                return notTaken(jobId, older);
            }
        }
        // Slots and units are taken under the pick, as the attempt is started under it: a thread whose
        // pick was put back in the queue meanwhile takes nothing from the node that took the job over.
        if (job.concurrency() > 0) {
            // Refused, the job is put back for its next try in the same transaction (PUT_BACK): a slot freed
            // meanwhile then wakes it (review12 L1).
            ExecutionLedger.Take slot = waits.call(jobId, "take a concurrency slot",
                    () -> ledger.tryAcquireSlot(job.ruleName(), job.concurrency(), jobId, config.nodeId(), version,
                            clock.instant().plus(config.slotRetryDelay())), before);
            if (slot != ExecutionLedger.Take.TAKEN) {
                return notTaken(jobId, slot);
            }
        }
        boolean shares = !job.workflow().resources().isEmpty();
        Map<String, List<Integer>> units = Map.of();
        if (shares && job.state() == JobState.RUNNING) {
            // Cut short and revived, its attempt still marked running: what it left on this host is ended before its
            // units are taken, so that units it gives back (a capacity lowered: ResourceLedger.take) never go to
            // another job while its command may still run here (a paused node, runner.watchdog: off). Swept, it waits
            // in its place (WAITING), shown as waiting; one of another host is ended by that host (units30).
            waits.run(jobId, "end what an earlier attempt left", () -> sweepBeforeRerun(jobId), before);
        }
        if (shares) {
            // What jobs cut short whose units a node of another host gave back left on this host is ended before this
            // node takes them: the store holds them back from this host's takers until then (place31).
            waits.run(jobId, "end what jobs that gave their units back left on this host",
                    () -> sweepGivenBack(job.workflow().resources().keySet()), before);
            ResourceLedger.Acquired acquired = waits.call(jobId, "take its shared resources",
                    () -> store.resources().acquire(job, config.nodeId(), version), before);
            if (acquired.take() != ExecutionLedger.Take.TAKEN) {
                if (job.concurrency() > 0) {
                    freeSlot(job, this::untilStopping);
                }
                if (acquired.take() == ExecutionLedger.Take.NOT_FREE && version >= 0) {
                    // Put back under the resources' locks: units given back since the refusal make it due now, and
                    // units given back after it wake it (tryout35 F4: rescheduled by db-scheduler, it waited for its
                    // next try with a board free). After its slot is freed: a freed slot wakes a job waiting for
                    // units, and woken while put back, it would wake itself at every refusal.
                    return notTaken(jobId, waits.call(jobId, "put it back to wait for its shared resources",
                            () -> store.resources().putBackWaiting(job, version,
                                    clock.instant().plus(config.slotRetryDelay())), before));
                }
                return notTaken(jobId, acquired.take());
            }
            units = acquired.units();
        }
        CompletionHandler<Void> next = null;
        try {
            // Read only now for a job that may have waited for its slot or resources: not again
            // after every wait (docs/BENCHMARKS.md, "Fourth pass: the job side").
            byte[] body = found.get().bodyRead() ? found.get().body()
                    : waits.call(jobId, "read its delivery's body", () -> ledger.body(job.deliveryId()), before)
                            .orElse(null);
            // The values it was stored with, against that body (values43 V2); one still marked running is looked at
            // once its next attempt's start has ended the earlier one's record (runAttempt).
            Optional<String> values = job.state() == JobState.RUNNING ? Optional.empty()
                    : valuesRefusal(job, body, before);
            if (values.isPresent()) {
                next = failedUnstarted(job, values.get(), before);
                return next;
            }
            next = runAttempt(job, body, version, units, before, mayHaveStarted);
            return next;
        } finally {
            if (shares) {
                SharedResources.release(store, jobId, config.nodeId());
            }
            if (job.concurrency() > 0 && !(next instanceof AfterTheCommand after && after.slotFreed())) {
                freeSlot(job, next instanceof AfterTheCommand ? this::untilGraceOver : this::untilStopping);
            }
            if (shares || job.concurrency() > 0) {
                // Its slot or units woke the next in line (made due now): picked once this thread is free, not at
                // the next poll (tryout43 F6).
                pickAgain.run();
            }
        }
    }

    /**
     * A job stored as a rule this build refuses would plan it (tryout42 F7: planned by an older build, or by an older
     * node of a cluster being upgraded, with payload text in shell code): its command is not run; the job ends {@code
     * CANCELLED} with why and what to do ({@link StoredJobCheck}), said in one WARN, its delivery kept for a replay. A
     * job none of whose commands ran starts no follow-up (nothing of its rule ran), as a job of a rule taken out.
     */
    private CompletionHandler<Void> refused(Job job, String why, StoreOutageWait.Until before) {
        String jobId = job.id();
        String message = notRun(job, why);
        LOG.warn("job {} of rule '{}' (build {}) is not run, and ends CANCELLED: {}", jobId, job.ruleName(),
                job.workflow().buildId(), why);
        if (job.attempts() == 0) {
            waits.call(jobId, "drop its follow-ups", () -> store.followUps().start(job, null), before);
        }
        waits.run(jobId, "mark it cancelled", () -> ledger.markCancelled(jobId, message), before);
        told(job, JobEvents.Ending.CANCELLED);
        return notRunHere(remove());
    }

    /**
     * Why {@link #takenOut(java.util.function.Function)} refuses {@code job}: one still to run (not marked running: a
     * reload's cancel leaves those to go on), of a rule, neither a follow-up nor a re-run, as that cancel takes.
     */
    private Optional<String> takenOut(Job job) {
        if (job.state() == JobState.RUNNING || job.rerunOf() != null || job.workflow().parentId() != null) {
            return Optional.empty();
        }
        return takenOut.apply(job);
    }

    /**
     * A job of a rule the node's rules in force take out ({@link #takenOut(java.util.function.Function)}) ends {@code
     * CANCELLED} with the reload's cancel's words, said in one WARN: one that never ran starts no follow-up (nothing of
     * its rule starts), one that ran (a retry in its backoff) starts its {@code on-cancel}, as after that cancel.
     */
    private CompletionHandler<Void> takenOut(Job job, String why, StoreOutageWait.Until before) {
        String jobId = job.id();
        String message = Job.cancelledAsRuleNotInForce(why, job.attempts(), job.message());
        LOG.warn("job {} of rule '{}' (build {}) is not run, and ends CANCELLED: {}", jobId, job.ruleName(),
                job.workflow().buildId(), message);
        if (job.attempts() == 0) {
            waits.call(jobId, "drop its follow-ups", () -> store.followUps().start(job, null), before);
        }
        boolean[] again = new boolean[1];
        ExecutionLedger.UnstartedEnd end = waits.call(jobId, "mark it cancelled",
                () -> tried(again, () -> ledger.markCancelled(jobId, message, again[0])), before);
        if (end != ExecutionLedger.UnstartedEnd.ENDED) {
            if (job.attempts() > 0) {
                followUpsDue(job);
            }
            told(job, JobEvents.Ending.CANCELLED);
        }
        return notRunHere(remove());
    }

    /**
     * As {@link #refused(Job, String, StoreOutageWait.Until)}, for a job whose attempt {@code attempt} was started
     * (a first one with its read, PostgreSQL's {@link ExecutionLedger#jobToStart}; or the next one of a job still
     * marked running, whose start ended the earlier one's record): that attempt is recorded as not started, with the
     * same words, and the job ends {@code CANCELLED} with it.
     */
    private CompletionHandler<Void> refusedAfterItsStart(Job job, int attempt, long version, String why) {
        if (job.attempts() == 0) {
            waits.call(job.id(), "drop its follow-ups", () -> store.followUps().start(job, null), this::untilStopping);
        }
        return notRunAfterItsStart(job, attempt, version, why, notRun(job, why), JobState.CANCELLED);
    }

    /**
     * Records attempt {@code attempt} of {@code job}, started but not run, as not started with {@code message}, and
     * ends the job {@code state} ({@code CANCELLED} or {@code FAILED}) with it, said in one WARN with {@code said}.
     */
    private CompletionHandler<Void> notRunAfterItsStart(Job job, int attempt, long version, String said,
            String message, JobState state) {
        LOG.warn("job {} of rule '{}' (build {}) is not run, and ends {}: {}", job.id(), job.ruleName(),
                job.workflow().buildId(), state, said);
        JobOutcome outcome = new JobOutcome(JobOutcome.Result.FAILED_TO_START, null, null, clock.instant(), message,
                null, false);
        return finish(job, attempt, version, outcome, state, state == JobState.CANCELLED ? JobEvents.Ending.CANCELLED
                : JobEvents.Ending.FAILED, remove());
    }

    /**
     * Why this build refuses the payload values {@code job} was stored with ({@link StoredJobCheck#valuesRefusal}:
     * planned by an older build, which did not check them; values43 V2), against its delivery's {@code body}; empty
     * when they pass or none is written. A follow-up's parent is read only when its action writes such a value.
     */
    private Optional<String> valuesRefusal(Job job, byte[] body, StoreOutageWait.Until before) {
        return StoredJobCheck.valuesRefusal(job, () -> body,
                id -> waits.call(job.id(), "read the job it follows", () -> ledger.job(id), before));
    }

    /**
     * A job stored with payload values this build refuses ({@link #valuesRefusal}) ends as planning would have stored
     * it: {@code FAILED}, its command not run, with planning's words (which rule, placeholder and place, why, what to
     * do) and the replay, said in one WARN; its {@code on-failure} starts, its delivery is kept. Not {@code CANCELLED}
     * as a job of a rule this build refuses ({@link #refused}): here the rule is one this build runs, and a job it
     * plans with such a value is stored {@code FAILED} (docs/rules.md#placeholders), so the operator's page on a
     * failure fires either way.
     */
    private CompletionHandler<Void> failedUnstarted(Job job, String why, StoreOutageWait.Until before) {
        String message = notStarted(job, why);
        // Whether a try failed with an outage: it may have gone through, its answer lost (review53 F2).
        boolean[] again = new boolean[1];
        ExecutionLedger.UnstartedEnd end = waits.call(job.id(), "mark it failed",
                () -> tried(again, () -> ledger.markFailedUnstarted(job.id(), message, again[0])), before);
        if (end == ExecutionLedger.UnstartedEnd.CANCELLED) {
            // Its cancel (or supersede) was asked after the pick read it, only flagged as for any job picked: it wins,
            // as it does at the start (review44: it was marked FAILED, and its on-failure started).
            LOG.info("job {} of rule '{}' (build {}) is not run, and ends as its cancel (or supersede) asked since it"
                    + " was picked; its stored values were refused too: {}", job.id(), job.ruleName(),
                    job.workflow().buildId(), message);
            told(job, JobEvents.Ending.CANCELLED);
            return notRunHere(remove());
        }
        if (end == ExecutionLedger.UnstartedEnd.ENDED) {
            LOG.info("job {} of rule '{}' (build {}) is not run: it ended meanwhile (cancelled or superseded), and"
                    + " stays so; its stored values were refused: {}", job.id(), job.ruleName(),
                    job.workflow().buildId(), message);
            return notRunHere(remove());
        }
        LOG.warn("job {} of rule '{}' (build {}) is not run, and ends FAILED: {}", job.id(), job.ruleName(),
                job.workflow().buildId(), message);
        followUpsDue(job);
        told(job, JobEvents.Ending.FAILED);
        return notRunHere(remove());
    }

    /**
     * As {@link #failedUnstarted}, for a job whose attempt {@code attempt} was started (with its read on PostgreSQL, or
     * the next one of a job still marked running): that attempt is recorded as not started, with the same words.
     */
    private CompletionHandler<Void> failedAfterItsStart(Job job, int attempt, long version, String why) {
        String message = notStarted(job, why);
        return notRunAfterItsStart(job, attempt, version, message, message, JobState.FAILED);
    }

    /** The message of a job whose stored values this build refuses: planning's ({@code not started: }), and why. */
    static String notStarted(Job job, String why) {
        return (job.attempts() == 0 ? "not started: " : "not run again (attempt " + job.attempts() + " ran under an"
                + " earlier build): ") + why;
    }

    /** The message of a job {@link StoredJobCheck} refuses: not run, why, and what to do. */
    static String notRun(Job job, String why) {
        return (job.attempts() == 0 ? "not run: " : "not run again (attempt " + job.attempts() + " ran under an"
                + " earlier build): ") + why;
    }

    /**
     * Whether {@link ExecutionLedger#jobToStart} starts the job as read, when its pick is still this
     * node's: a first attempt, not final, no cancellation asked, nothing to wait for (its body read).
     */
    private static boolean couldStartAtRead(ExecutionLedger.JobToRun read) {
        Job job = read.job();
        return read.bodyRead() && job.attempts() == 0 && !job.state().isFinal() && !job.cancelRequested();
    }

    /**
     * A slot or units not taken: try again later (the execution put back already, or now), or, when the
     * pick was lost, leave the job to its next pick.
     */
    private CompletionHandler<Void> notTaken(String jobId, ExecutionLedger.Take take) {
        // Put back for its next try, or left to whoever picks it next: the free thread picks again (tryout43 F6).
        pickAgain.run();
        switch (take) {
            case PICK_LOST:
                return pickLost(jobId);
            case PUT_BACK:
                return LEFT_ALONE;
            default:
                return rescheduleIn(config.slotRetryDelay());
        }
    }

    /**
     * {@code next}, for an execution that ends without its command because its job no longer runs (gone, ended,
     * cancelled, refused, awaiting an approval): the free thread picks again ({@link #pickAgain}).
     */
    private CompletionHandler<Void> notRunHere(CompletionHandler<Void> next) {
        pickAgain.run();
        return next;
    }

    /**
     * The job's execution was released as a stale pick (its pick statement waited long for the store),
     * or revived, before this thread started the attempt: whoever picks it next runs it, never both.
     */
    private static CompletionHandler<Void> pickLost(String jobId) {
        LOG.info("job {}: its execution was put back in the queue before its attempt started; not run under"
                + " this pick", jobId);
        return LEFT_ALONE;
    }

    /**
     * A job whose cancel (or a newer build's supersede) was asked, seen as its pick read it, or by its start
     * ({@link ExecutionLedger#CANCEL_ASKED}: asked after that read, its execution picked, so only flagged): its
     * command is not run; it ends {@code CANCELLED} ({@code SUPERSEDED} for a supersede's flag) as a cancel of a job
     * no node had picked ends it. What the caller took for it (a slot, units) the caller frees. {@code neverLaunched}:
     * its job, read {@code RUNNING} with one attempt, has that attempt made by a start at its read whose answer was
     * lost, found not launched and ended {@code CANCELLED} by {@link ExecutionLedger#ownStartNotLaunched}: it never
     * ran, and nothing of it is left to end.
     */
    private CompletionHandler<Void> cancelledBeforeItsStart(Job job, StoreOutageWait.Until before,
            boolean neverLaunched) {
        String jobId = job.id();
        if (job.state() == JobState.RUNNING && !neverLaunched) {
            // Its attempt still marked running, its node silent past the dead-node limit (frozen, paused, cut
            // off): what it left on this host is ended before the job ends, as before a re-run. Its end frees
            // its concurrency slot and lets the newer build's job (supersede, running: cancel) and its on-cancel
            // start: a frozen node's command, thawed, ran on beside them (tryout45 F7).
            waits.run(jobId, "end what an earlier attempt left", () -> sweepBeforeRerun(jobId), before);
        }
        // A job whose node died while its cancel was ending the attempt did run (tryout9, F2); one cancelled in
        // its retry's backoff as the retry was picked had run, and did not run again (retry21).
        // Its latest attempt made by a start whose answer was lost (the read's, or an earlier pick's: review53 F1), not
        // launched, and ended by the look that found its cancel (ExecutionLedger.ownStartNotLaunched): it never ran
        // (record53 B); the ones before it did.
        String message = neverLaunched ? Job.cancelledBeforeItsNextAttempt(job.attempts() - 1, null)
                : job.attempts() == 0 || job.retryDueAt().isPresent()
                ? Job.cancelledBeforeItsNextAttempt(job.attempts(), job.message())
                : "cancelled while attempt " + job.attempts() + " ran; its node stopped before the attempt ended,"
                        + " and it is not run again";
        // Whether a try failed with an outage: it may have gone through, its answer lost (review53 F2).
        boolean[] again = new boolean[1];
        ExecutionLedger.UnstartedEnd end = waits.call(jobId, "mark it cancelled",
                () -> tried(again, () -> ledger.markCancelled(jobId, message, again[0])), before);
        if (end == ExecutionLedger.UnstartedEnd.ENDED) {
            // Its paused node woke and recorded its command's own end after this pick read it (review51 C1).
            LOG.info("job {} of rule '{}' (build {}): its cancel was asked, and it ended meanwhile; it stays as it"
                    + " ended", jobId, job.ruleName(), job.workflow().buildId());
            return notRunHere(remove());
        }
        told(job, JobEvents.Ending.CANCELLED);
        return notRunHere(remove());
    }

    /**
     * Starts the job's next attempt and runs it ({@link #launch}). {@code mayHaveStarted}: the number of an attempt a
     * try of this pick may have started though its answer was lost (0 for none); a try of the start that fails with an
     * outage counts so too. The start tried again then goes on with that attempt when the store has it as this
     * process's, not launched ({@link ExecutionLedger#ownStartNotLaunched}), instead of recording it cut short, "the
     * store lost that record", and starting the next (review51 S1).
     */
    private CompletionHandler<Void> runAttempt(Job job, byte[] read, long version, Map<String, List<Integer>> units,
            StoreOutageWait.Until before, int mayHaveStarted) {
        String jobId = job.id();
        letAcceptsGoFirst();
        // An earlier attempt still marked running on this host is ended first: never two at once.
        if (job.state() == JobState.RUNNING) {
            waits.run(jobId, "end what an earlier attempt left", () -> sweepBeforeRerun(jobId), before);
        }
        // The units it took are recorded on the attempt (V20): shown with it, and its own again after a cut (units32 L1).
        // The start renews the execution's heartbeat in its transaction: the lease its command is created under runs from
        // the moment the statement was sent (chaos33 F2), on the monotonic clock.
        long[] sent = new long[1];
        int[] unanswered = {mayHaveStarted};
        // Whether the attempt the read saw (the one a start at the read made, its answer lost) was found not launched
        // and ended by its cancel: the job then never ran (record53 B).
        boolean[] readsAttemptEnded = new boolean[1];
        int attempt = waits.call(jobId, "start an attempt", () -> {
            sent[0] = System.nanoTime();
            if (unanswered[0] > 0) {
                int own = ledger.ownStartNotLaunched(jobId, config.nodeId(), version, unanswered[0]);
                if (own > 0) {
                    LOG.info("job {}: attempt {} was started by a try of its start whose answer was lost; its command"
                            + " runs as that attempt", jobId, own);
                }
                readsAttemptEnded[0] = own == ExecutionLedger.CANCEL_ASKED && unanswered[0] == job.attempts();
                if (own != 0) {
                    return own;
                }
            }
            try {
                return ledger.startAttempt(jobId, config.nodeId(), version, config.inARow(), units);
            } catch (RuntimeException e) {
                if (StoreOutages.isOutage(e)) {
                    unanswered[0] = job.attempts() + 1;
                    startsUnanswered.put(jobId, unanswered[0]); // until found out (review53 F1)
                }
                throw e;
            }
        }, before);
        startsUnanswered.remove(jobId);
        if (attempt == ExecutionLedger.LOST_PICK) {
            return pickLost(jobId);
        }
        if (attempt == 0) {
            LOG.info("job {}: already has its outcome; not run again", jobId);
            return remove();
        }
        if (attempt == ExecutionLedger.CANCEL_ASKED) {
            // Cancelled after its pick read it (the cancel found its execution picked, and only flagged it): its
            // command never starts, as the operator was told (delcancel50).
            LOG.info("job {}: cancelled after this node picked it; not started", jobId);
            return cancelledBeforeItsStart(job, before, readsAttemptEnded[0]);
        }
        if (attempt == ExecutionLedger.GATED) {
            // Its rule asks for an approval since a reload that came while this node had it picked (tryout33 F11).
            LOG.info("job {}: awaits the approval its rule '{}' asks for since a reload after it was queued; not"
                    + " started", jobId, job.ruleName());
            return notRunHere(DEQUEUED);
        }
        if (attempt == ExecutionLedger.NODE_DIED_IN_A_ROW || attempt == ExecutionLedger.NODE_STOPPED_IN_A_ROW) {
            return endedInARow(job, version, attempt == ExecutionLedger.NODE_STOPPED_IN_A_ROW);
        }
        if (attempt == ExecutionLedger.DECIDED_MEANWHILE) {
            // Its stopped node's next start recorded what the attempt came to after this pick looked (review29 R4); a
            // cancel asked since too is read again by concluded(), and wins keeping that exit (review50b R8).
            Optional<ExecutionLedger.Decided> decided = waits.call(jobId, "read what its last attempt came to",
                    () -> ledger.decided(jobId, job.attempts()), before);
            return decided.isPresent() ? concluded(job, version, decided.get())
                    : rescheduleIn(config.slotRetryDelay());
        }
        if (job.state() == JobState.RUNNING) {
            // Left marked running by a crash (tryout42 F7): looked at only now, its earlier attempt's record ended.
            Optional<String> refused = StoredJobCheck.refusal(job);
            if (refused.isPresent()) {
                return refusedAfterItsStart(job, attempt, version, refused.get());
            }
            Optional<String> values = valuesRefusal(job, read, before);
            if (values.isPresent()) {
                return failedAfterItsStart(job, attempt, version, values.get());
            }
        }
        return launch(job, read, attempt, version, units, sent[0]);
    }

    /**
     * Its node's death ended each of the job's last {@link EngineConfig#deathsInARow} attempts, or ({@code stops}) its
     * node's graceful stop or death each of its last {@link EngineConfig#stopsInARow}, at least one a stop: the job
     * ends {@code FAILED}, its attempts kept as they were, instead of running first again after every restart for ever
     * (review20 R3, review21 R2), and says why, what it may mean and what to do.
     */
    private CompletionHandler<Void> endedInARow(Job job, long version, boolean stops) {
        int row = stops ? config.stopsInARow() : config.deathsInARow();
        List<JobAttempt> attempts = records.call(job.id(), "read its attempts",
                () -> store.job(job.id()).map(JobDetail::attempts).orElse(List.of()), this::untilGraceOver);
        List<JobAttempt> last = attempts.subList(Math.max(0, attempts.size() - row), attempts.size());
        String nodes = last.stream().map(JobAttempt::node).distinct().collect(java.util.stream.Collectors.joining(", "));
        JobAttempt latest = last.isEmpty() ? null : last.get(last.size() - 1);
        String message = stops ? stoppedInARowMessage(job.id(), row, nodes, records.call(job.id(),
                "count the deaths among its attempts", () -> ledger.deathsAmongLast(job.id(), row), this::untilGraceOver))
                : diedInARowMessage(job.id(), row, nodes);
        JobOutcome outcome = new JobOutcome(JobOutcome.Result.FAILED, null, latest == null ? null : latest.startedAt(),
                latest == null ? null : latest.endedAt(), message,
                latest == null || latest.logPath() == null ? null : Path.of(latest.logPath()), false);
        return finish(job, job.attempts(), version, outcome, JobState.FAILED, JobEvents.Ending.FAILED, remove(),
                Recorded.JOB_ONLY, null);
    }

    /**
     * The message of a job ended by {@link #endedInARow} for its node's deaths: what ended its last {@code deaths} attempts
     * ({@code nodes}, the nodes that ran them), what that may mean and what to do.
     */
    static String diedInARowMessage(String jobId, int deaths, String nodes) {
        return "not run again: its node died before " + ExecutionLedger.eachOfLast(deaths) + " ended (" + nodes
                + "), which its own command may cause (one that exhausts the host's memory gets buildhook killed by the"
                + " OOM killer; one that kills the server with SIGKILL ends it),"
                + " so it would end the node again after every restart; see the system's log (journalctl -k for the"
                + " OOM killer), fix the command, then run the job again: buildhook rerun " + jobId;
    }

    /**
     * The message of a job ended by {@link #endedInARow} for its node's stops: what ended its last {@code stops}
     * attempts ({@code nodes}, the nodes that ran them; {@code deaths} of those ends were deaths), what that may mean
     * (a command that stops or restarts its own server) and what to do.
     */
    static String stoppedInARowMessage(String jobId, int stops, String nodes, int deaths) {
        return "not run again: its node was stopped" + (deaths > 0 ? " or died" : "") + " before "
                + ExecutionLedger.eachOfLast(stops) + " ended (" + nodes + (deaths > 0 ? "; " + deaths + " of them deaths"
                        : "") + "), which its own command causes if it stops or restarts buildhook (systemctl restart"
                + " buildhook, kill of the server's pid, kill 1 in its container, podman restart): cut short by that"
                + " stop, it would run first again after every start, for ever (runner.stops-in-a-row: " + stops + ");"
                + " let such a command hand the restart to systemd and end (systemd-run --on-active=10 systemctl"
                + " restart buildhook), then run the job again: buildhook rerun " + jobId + "; if these were restarts"
                + " of yours during one long job, rerun it as it is";
    }

    /**
     * Runs attempt {@code attempt}, started, to its end and records its outcome; {@code units} are the numbers of the
     * shared resources' units it holds, by resource (empty when it needs none), told to its command; {@code renewed}
     * ({@link System#nanoTime()}) is when the statement that started it, renewing its execution's heartbeat, was sent.
     */
    private CompletionHandler<Void> launch(Job job, byte[] read, int attempt, long version,
            Map<String, List<Integer>> units, long renewed) {
        RunningJobs.Launch launch = running.launching(job.id(), attempt, this::notStartedFor, store.dialect()
                == Dialect.POSTGRESQL ? new CreationLease(ledger, job.id(), config.nodeId(), version,
                        config.deadNodeLimit(), renewed)
                : RunningJobs.LeaseLook.NONE);
        try {
            return launch(job, read, attempt, version, units, launch);
        } finally {
            running.launched(launch);
        }
    }

    /**
     * The record of an attempt its node did not start: for {@code fenced} (the words of {@link RunningJobs#fenceAll}),
     * or, when null, because the node was stopping.
     */
    private String notStartedFor(String fenced) {
        return JobAttempt.NOT_STARTED + (fenced != null ? fenced : "node " + config.nodeId() + " was stopping")
                + "; back in the queue, its retries untouched";
    }

    /** As {@link #launch(Job, byte[], int, long, Map, long)}, under {@code launch}, which the launcher asks before the exec. */
    private CompletionHandler<Void> launch(Job job, byte[] read, int attempt, long version,
            Map<String, List<Integer>> units, RunningJobs.Launch launch) {
        String jobId = job.id();
        String refusal = launch.refusal();
        if (refusal != null) {
            // The stop began after this thread's look (decide) and before the attempt's start, which may have waited
            // for the store meanwhile: no command starts during a stop (review23 R2). Started, it ran into the stop's
            // grace, was cut short and counted among the stops in a row (runner.stops-in-a-row) that end a job. Nor
            // after this node's id was taken over by another node. Asked again just before the exec (review26 R6).
            return notStartedHere(job, attempt, refusal);
        }
        // Read with the job: a delivery's body never changes.
        byte[] body = read == null ? new byte[0] : read;
        // Which units of its shared resources this attempt holds (BUILDHOOK_RESOURCE_LAB_BOARDS=2): the board to flash.
        Map<String, String> added = new HashMap<>(ResourceVariable.variables(units));
        try {
            added.put(PAYLOAD_ENV, PayloadFiles.write(store.payloadFile(job.deliveryId()), body).toString());
        } catch (NodeFilesException e) {
            // A full disk, a read-only data folder: the node's fault, not the job's (tryout17 F3). Thrown on,
            // db-scheduler retried the execution every 10 s, each time with a new attempt left RUNNING
            // (tryout12 F7); ended FAILED_TO_START, it used up the job's retries, other nodes' too.
            return notStartedHere(job, attempt, e);
        }
        Map<String, String> env = new HashMap<>(job.env());
        env.putAll(added);
        // What buildhook hides of the job in what it shows is masked in its log too (mask36). hiddenIn holds the
        // values of the job's secret-named variables, which the launcher then need not work out again (perf38). The
        // variables added here are buildhook's own, never a secret: a resource named like one (signing-keys) tells the
        // job its units (BUILDHOOK_RESOURCE_SIGNING_KEYS=1,2,3), which its log must show (perf38 F4).
        Set<String> hidden = Redaction.hiddenIn(job.argv(), job.env());
        JobRequest request = new JobRequest(jobId, attempt, job.argv(), env, job.workdir(), job.stdin() ? body : null,
                job.timeout(), hidden, true);
        // From here on the command has run (or is running): its outcome is waited for and recorded,
        // however long the store is away, unless the engine stops. The watchdog knows of it first: a
        // pause of this JVM right after the start must not leave it unguarded.
        AttemptMarker marker = AttemptMarker.of(jobId, attempt);
        Watchdog guard = watchdog.get();
        if (guard != null) {
            guard.running(marker);
        }
        RunningJob process;
        try {
            process = launcher.start(request, launch);
        } catch (NodeFilesException e) {
            // Its log (or buildhook's own working directory) could not be made: nothing started.
            if (guard != null) {
                guard.ended(marker);
            }
            return notStartedHere(job, attempt, e);
        } catch (RuntimeException | Error e) {
            if (guard != null) {
                guard.ended(marker);
            }
            throw e;
        }
        running.add(jobId, attempt, process);
        // On a thread of its own: decided() completes on the launcher's timer thread, just before the
        // signals, and on PostgreSQL the write runs before it returns (it may wait for the store).
        process.decided().thenAcceptAsync(decision -> ledger.recordDecidedLater(jobId, attempt, decision)
                .whenComplete((done, error) -> {
                    if (error != null) {
                        LOG.warn("job {}: could not record that attempt {} {} before ending its processes: {}", jobId,
                                attempt, describe(decision.result(), decision.exitCode(), job), error.getMessage());
                    }
                }), decisions);
        JobOutcome seen;
        try {
            CompletableFuture<Void> recorded = recordProcess(jobId, attempt, process);
            if (guard != null) {
                guard.process(marker, process.process().getNow(null));
            }
            seen = await(jobId, process);
            // Recorded before the outcome, as ever; only this thread no longer waits for the writer
            // meanwhile (docs/BENCHMARKS.md, "Fifth pass: CPU per delivery").
            processRecorded(jobId, process, recorded);
        } finally {
            running.remove(jobId);
        }
        if (launch.refused() != null) {
            // Its gate refused the exec (the node's id was taken over, or it began to stop, after the look above):
            // nothing ran, and the job goes back to the queue as for that look's refusal; a fencing or a stop that met
            // its attempt as it was added killed nothing.
            running.wasFenced(jobId);
            running.wasStoppedByShutdown(jobId);
            if (guard != null) {
                guard.ended(marker);
            }
            return notStartedHere(job, attempt, launch.refused(), seen.logFile());
        }
        String fenced = running.wasFenced(jobId);
        // Ended by SIGKILL (128 + 9), or by this node's self-fencing after a long silence: maybe the watchdog's
        // kill, whose report this node may read only now; it is waited for (Watchdog.ended), so that such a kill
        // is not recorded as the job's own failure (a retry used, its on-failure started).
        boolean sigkilled = Integer.valueOf(SIGKILLED).equals(seen.exitCode()) || fenced != null;
        Watchdog.End end = guard == null ? null : guard.endOf(marker, sigkilled);
        Watchdog.Kill killed = end == null ? null : end.kill();
        if (killed != null && exitedByItself(seen) && !Integer.valueOf(SIGKILLED).equals(seen.exitCode())) {
            // tryout34 F2: the watchdog reports a kill when it finds processes of the attempt, then sends its SIGKILL.
            // A leader that exited between the two, or was already a zombie of this paused JVM (a SIGKILL does nothing
            // to it), ended by itself: the watchdog killed only what it left running. Its exit (0 or N, never 137: the
            // watchdog sends nothing else) is its own outcome, recorded as any end, not a kill to run again; the same
            // rule as for the self-fencing just below (endedByItself), whether or not this node fenced it meanwhile.
            LOG.info("job {} attempt {}: its command {} by itself; the watchdog killed only what it left running ({});"
                    + " its own outcome is recorded", jobId, attempt, describe(seen.result(), seen.exitCode(), job),
                    killed.why());
            killed = null;
        }
        if (killed != null) {
            // Its processes died by the watchdog's SIGKILL while this JVM was paused: the outcome seen
            // on waking ("exited with 137", or the self-fencing's "the store does not answer") is not
            // what happened; they ended when the watchdog killed them.
            fenced = killed.why();
            seen = new JobOutcome(JobOutcome.Result.CANCELLED, null, seen.started(), killed.at(), killed.why(),
                    seen.logFile(), seen.logTruncated());
        }
        if (killed == null && exitedByItself(seen) && seen.ended() != null) {
            // tryout49 F1: an exit by itself seen only on waking from a pause of this JVM (seenAfterAPause).
            Duration limit = config.heartbeatInterval().multipliedBy(config.missedHeartbeats());
            JvmPauses.Pause pause = end != null ? new JvmPauses.Pause(end.pausedMillis(), end.pausedUntil())
                    : pauses.recent(limit);
            Instant exitSeen = process.exitSeen();
            seen = seenAfterAPause(seen, exitSeen != null ? exitSeen : seen.ended(),
                    end == null ? null : end.endedBefore(), pause, limit);
        }
        JobOutcome outcome = seen;
        // A command that exited by itself before the stop's or the fence's signals reached it (also as they
        // came: tryout22 F6) has its own outcome, recorded as any end, not an interruption to run again.
        boolean endedByItself = exitedByItself(outcome);
        if (fenced == null && outcome.commandNotStarted() && process.process().getNow(null) == null
                && running.wasStoppedByShutdown(jobId)) {
            // review28 R5: the node's stop met the attempt after the engine's gate and before its exec: nothing ran,
            // so it is no stop of the job's command (runner.stops-in-a-row counts those); back in its place.
            return notStartedHere(job, attempt, notStartedFor(null), outcome.logFile());
        }
        if ((running.wasStoppedByShutdown(jobId) || fenced != null) && !endedByItself) {
            // What becomes of the job, read from the store as the sweeps do: a job cancelled or superseded
            // while it was being stopped ends at its next pick, and "; run again" was untrue of it (wording15).
            boolean current;
            String fate;
            try {
                // A stop (not a fencing): maybe the last of a row that ends the job at its next pick (tryout22 F1).
                boolean byStop = fenced == null;
                fate = records.call(jobId, "read whether it runs again", () -> ledger.afterCutShort(jobId, attempt,
                        byStop ? NodeEnd.STOPPED : NodeEnd.NONE, config.inARow()), this::untilGraceOver);
                String why = (fenced != null ? fenced : ExecutionLedger.stoppedByShutdownOf(config.nodeId())) + "; "
                        + fate;
                // The watchdog's kill also replaces the record of a node of this host that took the job over meanwhile
                // and found nothing left (tryout17 F6): it knew not who had killed the processes, nor when.
                boolean byWatchdog = killed != null;
                // A stop's cut counts among the stops in a row that end a job (review21 R2); a fencing does not.
                current = record(jobId, "record its interrupted attempt", () -> byStop
                        ? ledger.interruptByStop(jobId, attempt, outcome, why)
                        : ledger.interruptAttempt(jobId, attempt, outcome, why, byWatchdog));
            } catch (RuntimeException e) {
                if (!running.isStopping() || !StoreOutages.passes(e)) {
                    throw e;
                }
                // A stop whose store could not be reached (a partition, a hung server, SQLite's lock held by another
                // process): the job is still named, with what is known of its fate (tryout20 F2). Its execution stays
                // picked by this node, as after a crash: the next start (or another node after the dead-node limit)
                // runs it again; the next start of this node says it was stopped, or fenced, not that it died, and
                // records when its process tree was killed (tryout22 F5), not its own time.
                StopsNotRecorded.Note note = leftovers.stops().add(jobId, attempt,
                        new StopsNotRecorded.Cut(outcome.ended(), fenced));
                running.notRecorded(jobId, new EndNotRecorded(attempt, fenced != null
                        ? "its command was killed by its node's self-fencing"
                        : "it was cut short by this stop (its process tree killed)", outcome.ended(), note.kept(),
                        false));
                if (fenced != null) {
                    fencedNotRecorded(job, attempt, outcome, fenced, note);
                    tell(job, JobEvents.Ending.INTERRUPTED, outcome);
                    return LEFT_ALONE;
                }
                FinalOutcomeLog.interruptedByStop(job, attempt, config.shutdownGrace(), running.isGraceCutShort(),
                        outcome.logFile(), FinalOutcomeLog.NOT_RECORDED);
                if (!note.kept()) {
                    // tryout43 F1: its next start would say that its node died, and count it so.
                    LOG.warn("job {} attempt {}: this stop could not note its end in {} either ({}): the next start"
                            + " of node {} records it ended at that start, {}; to have it recorded as ended now, add"
                            + " this line to that file before the next start: {}", jobId, attempt,
                            leftovers.stops().file(), note.problem(), config.nodeId(),
                            leftovers.stops().begunKept(jobId, attempt) ? "as a stop of its node (noted as this stop"
                                    + " began)" : "as a death of its node (runner.deaths-in-a-row)",
                            note.lines().strip());
                }
                tell(job, JobEvents.Ending.INTERRUPTED, outcome);
                return LEFT_ALONE;
            }
            if (current && fenced == null) {
                FinalOutcomeLog.interruptedByStop(job, attempt, config.shutdownGrace(), running.isGraceCutShort(),
                        outcome.logFile(), fate);
            }
            tell(job, JobEvents.Ending.INTERRUPTED, outcome);
            return current ? new AfterTheCommand(tolerant(jobId, backInItsPlace()), false)
                    : supersededBy(jobId, attempt);
        }
        try {
            return afterAttempt(job, attempt, version, outcome);
        } catch (RuntimeException e) {
            return keptForTheNextPick(job, attempt, version, outcome, e);
        }
    }

    /**
     * The record of what attempt {@code attempt}, whose command ran, came to ({@code outcome}) failed with {@code
     * failure}, which no wait outlasts: a failure of PostgreSQL's or of the store the steps after the command do not
     * wait out ({@link StoreOutages#passes}: a constraint, a trigger, a fault of buildhook's own). Handed to
     * db-scheduler's retry as it was, the job's next pick found its attempt still running with nothing to conclude
     * from, recorded it {@code INTERRUPTED} ("the store lost that record") and ran the command again (review51 E1). So
     * what it came to is kept with the attempt ({@link #keep}), and the job's next pick records it from there. When the
     * store refuses that too, the job is not handed to that retry either (record53 A: it ran the command again): the
     * job's thread keeps it and tries both again until one goes through ({@link RefusedRecordWait}), said in one WARN
     * now and again each minute, the job {@code RUNNING} meanwhile, as for an outage. A failure that passes (the stop's
     * grace over, an interrupt), whether of the record or of a read before it (the count of its failed attempts): kept
     * in the data folder when the node stops ({@link #outcomeNotRecorded}, review53 F0: only the record's was), and the
     * job left picked by this node ({@link #notRecordedAtTheStop}); an interrupt without a stop, and an attempt that
     * never ran its command: thrown on, as before.
     */
    private CompletionHandler<Void> keptForTheNextPick(Job job, int attempt, long version, JobOutcome outcome,
            RuntimeException failure) {
        if (outcome.result() == JobOutcome.Result.FAILED_TO_START || outcome.commandNotStarted()) {
            throw failure;
        }
        if (StoreOutages.passes(failure)) {
            // A wait for the store gave up at the stop's grace end: in the record itself (finish kept the outcome in
            // the data folder then) or in any read before it (the count of its failed attempts, made for every exit
            // other than 0 and every timeout: review53 F0, nothing was kept, and the next start ran the command
            // again). Kept here whichever it was, once, and the job left picked (review54 F5, below).
            return notRecordedAtTheStop(job, attempt, outcome, failure);
        }
        String jobId = job.id();
        try {
            return keep(job, attempt, outcome, failure);
        } catch (RuntimeException again) {
            failure.addSuppressed(again);
            if (StoreOutages.passes(again)) {
                // The keeping's wait for the store gave up: the stop's grace is over (or an interrupt).
                return notRecordedAtTheStop(job, attempt, outcome, failure);
            }
            String what = describe(outcome.result(), outcome.exitCode(), job);
            LOG.warn("job {} of rule '{}' attempt {}: {}; the store refused to record it ({}), and to keep it with the"
                    + " attempt ({}): the job stays running on this node and its command is not run again; both are"
                    + " tried again every {} ms at most until the store takes one, and this is said again every {}"
                    + " meanwhile. Look at what the store says: a trigger, a constraint, the role's privileges", jobId, job.ruleName(), attempt, what, failure.getMessage(),
                    again.getMessage(), StoreOutageWait.LONGEST_PAUSE.toMillis(),
                    Durations.describe(StoreOutageWait.SAID_AGAIN), failure);
            try {
                return refusals.call(jobId, attempt, what, () -> afterAttempt(job, attempt, version, outcome),
                        refused -> keep(job, attempt, outcome, refused), failure, this::untilGraceOver);
            } catch (RuntimeException e) {
                // A wait of the record, of a read before it, or of the keeping gave up at the stop (or the refusals
                // outlasted its grace): kept in the data folder (once: finish kept it when it was the record's), as
                // above.
                return notRecordedAtTheStop(job, attempt, outcome, e);
            }
        }
    }

    /**
     * Keeps what attempt {@code attempt} came to ({@code outcome}) with the attempt ({@link
     * ExecutionLedger#recordKnownOutcome}, as the next start after a stop that could not record it keeps it), after the
     * store refused its record with {@code refused}, said in one WARN with that refusal's stack trace: the job is
     * picked again in {@link #RECORD_AGAIN}, and that pick records the outcome from what was kept ({@link #concluded})
     * and never runs the command again.
     *
     * @throws RuntimeException when the store refuses that too, or its wait for the store gave up
     */
    private CompletionHandler<Void> keep(Job job, int attempt, JobOutcome outcome, RuntimeException refused) {
        String jobId = job.id();
        org.buildhook.runner.exec.Decision decision = new org.buildhook.runner.exec.Decision(outcome.result(),
                outcome.exitCode(), outcome.logFile());
        boolean kept = records.call(jobId, "keep what its attempt came to", () -> ledger.recordKnownOutcome(jobId,
                attempt, config.nodeId(), decision, outcome.ended()), this::untilGraceOver);
        if (!kept) {
            LOG.warn("job {} of rule '{}' attempt {}: {}; the store refused to record it: {}", jobId, job.ruleName(),
                    attempt, describe(outcome.result(), outcome.exitCode(), job), refused.toString());
            return supersededBy(jobId, attempt);
        }
        keptAfterARefusal.add(jobId + "/" + attempt);
        LOG.warn("job {} of rule '{}' attempt {}: {}; the store refused to record it, so it is kept with the attempt:"
                + " the job's next pick, in {}, records it from there, and the command is not run again", jobId,
                job.ruleName(), attempt, describe(outcome.result(), outcome.exitCode(), job),
                Durations.describe(RECORD_AGAIN), refused);
        return new AfterTheCommand(rescheduleIn(RECORD_AGAIN), false);
    }

    /**
     * The stop's grace ended (or an interrupt came) before the store recorded, or kept, what attempt {@code attempt}
     * came to ({@code failure}: an outage, a deadlock or a {@code statement_timeout} waited out until then, or a
     * refusal): it is kept in the data folder for the node's next start to record ({@link #outcomeNotRecorded}), and
     * the job's execution is left picked by this node, as after a crash, until that start records it (or another node
     * concludes it from the note after the dead-node limit). Put back in the queue now, or thrown to db-scheduler,
     * whose retry puts it back 10 s later whenever the store answers then (always for a deadlock or a {@code
     * statement_timeout}), it was run again by a node of another host, which cannot read the note (review54 F5). An
     * interrupt without a stop (none is made but db-scheduler's, at the stop) throws {@code failure} on, as before.
     */
    private CompletionHandler<Void> notRecordedAtTheStop(Job job, int attempt, JobOutcome outcome,
            RuntimeException failure) {
        if (!running.isStopping()) {
            throw failure;
        }
        outcomeNotRecorded(job, attempt, outcome);
        return new AfterTheCommand(LEFT_ALONE, false);
    }

    /**
     * Attempt {@code attempt} did not start because this node cannot write its own files: recorded
     * {@code INTERRUPTED} (which no retry count includes) with one line naming the folder and the file
     * system's error, the job back in the queue for another node or for this one once it can write
     * them; the node stops picking meanwhile ({@link NodeFilesWatch}).
     */
    private CompletionHandler<Void> notStartedHere(Job job, int attempt, NodeFilesException e) {
        files.failed(e);
        return notStartedHere(job, attempt, JobAttempt.NOT_STARTED + "node " + config.nodeId() + " cannot write "
                + e.folder()
                + " (" + e.problem() + "); back in the queue, its retries untouched, for a node that can write its"
                + " files (this one once it can)");
    }

    /**
     * Attempt {@code attempt}, started in the store, did not run its command ({@code why}): recorded
     * {@code INTERRUPTED} as no end of its node (no retry, nor a stop or death in a row, counts it), the job back in
     * its place in the queue.
     */
    private CompletionHandler<Void> notStartedHere(Job job, int attempt, String why) {
        return notStartedHere(job, attempt, why, null);
    }

    /** As {@link #notStartedHere(Job, int, String)}; {@code log}, the attempt's log saying why, or null for none. */
    private CompletionHandler<Void> notStartedHere(Job job, int attempt, String why, Path log) {
        String jobId = job.id();
        JobOutcome outcome = new JobOutcome(JobOutcome.Result.FAILED_TO_START, null, null, clock.instant(), why, log,
                false);
        boolean current = record(jobId, "record an attempt its node could not start",
                () -> ledger.interruptAttempt(jobId, attempt, outcome, why));
        LOG.info("job {} attempt {}: {}", jobId, attempt, why);
        tell(job, JobEvents.Ending.INTERRUPTED, outcome);
        // Tolerant, as after a fencing: a node that took this one's id over may have taken the execution too.
        return current ? tolerant(jobId, backInItsPlace()) : supersededBy(jobId, attempt);
    }

    /**
     * This node stops without having recorded what attempt {@code attempt} came to (the store could not be reached
     * until the stop's grace period was over): a note in the data folder, from which the next start of this node
     * records it instead of running the command again (tryout21 F3), and one WARN with that outcome. When the note
     * could not be written even so (a read-only or failing data folder; room kept for it used up: tryout43 F1), one
     * ERROR says that instead, that the command runs again at the next start, and the line that keeps it from that.
     */
    private void outcomeNotRecorded(Job job, int attempt, JobOutcome outcome) {
        JobOutcome.Result result = outcome.result();
        if (result == JobOutcome.Result.FAILED_TO_START
                || running.notRecorded(job.id()).filter(end -> end.attempt() == attempt).isPresent()) {
            return; // nothing ran; or kept already (finish's record, then keptForTheNextPick)
        }
        StopsNotRecorded.Note note = leftovers.stops().add(job.id(), attempt,
                new StopsNotRecorded.Known(result, outcome.exitCode(), outcome.ended(), outcome.logFile()));
        String what = result == JobOutcome.Result.TIMED_OUT ? "its command timed out"
                : result == JobOutcome.Result.CANCELLED ? "it was cancelled"
                : "its command exited " + outcome.exitCode();
        running.notRecorded(job.id(), new EndNotRecorded(attempt, what, outcome.ended(), note.kept(), true));
        if (!note.kept()) {
            LOG.error("job {} of rule '{}' attempt {}: {} at {}; the store could not record it before this node stopped"
                    + " ({}), and it could NOT be kept in {}"
                    + " either ({}): the next start of node {} does not know it, and runs the command again (unless the"
                    + " job is cancelled or superseded first). To keep it from running again, add this line to that"
                    + " file before the next start, once its folder takes writes again: {}", job.id(), job.ruleName(),
                    attempt, what, outcome.ended(), howTheGraceEnded(),
                    leftovers.stops().file(), note.problem(), config.nodeId(), note.lines().strip());
            return;
        }
        LOG.warn("job {} of rule '{}' attempt {}: {} at {}; the store could not record it before this node stopped"
                + " ({}). Kept in {}: the next start of node {}"
                + " records it; if another node took the job over meanwhile (after the dead-node limit), which runs"
                + " it again, only in the attempt's history", job.id(), job.ruleName(), attempt, what, outcome.ended(),
                howTheGraceEnded(), StopsNotRecorded.FILE_NAME, config.nodeId());
    }

    /**
     * How the stop's wait for the store ended, for the lines of what it could not record: {@code the stop's grace
     * period, runner.shutdown-grace, 30s, is over}, or, when a second stop signal ended it first ({@link
     * RunningJobs#isGraceCutShort}), {@code a second stop signal cut the stop's grace period (runner.shutdown-grace,
     * 10m) short} (tryout45 F3: it said the grace was over of a stop whose grace had minutes left).
     */
    private String howTheGraceEnded() {
        String grace = "runner.shutdown-grace, " + Durations.describe(config.shutdownGrace());
        return running.isGraceCutShort() ? "a second stop signal cut the stop's grace period (" + grace + ") short"
                : "the stop's grace period, " + grace + ", is over";
    }

    /**
     * This node stops without having recorded that its self-fencing killed attempt {@code attempt} ({@code why}: the
     * fencing's words, which say no fate: the store decides it at the next start) at {@code outcome.ended()}: one
     * WARN, saying whether the note in the data folder ({@code note}, written by the caller), from which the next
     * start of this node records the fencing, not that the node was gone (outcome21), is on disk.
     */
    private void fencedNotRecorded(Job job, int attempt, JobOutcome outcome, String why, StopsNotRecorded.Note note) {
        LOG.warn("job {} of rule '{}' attempt {}: {} (self-fencing, at {}); the store could not record it before this"
                + " node stopped ({}). {}, and the job runs"
                + " again then unless it was cancelled or superseded meanwhile, or another node took it over (after"
                + " the dead-node limit)", job.id(), job.ruleName(), attempt, why, outcome.ended(),
                howTheGraceEnded(), note.kept() ? "Kept in " + StopsNotRecorded.FILE_NAME
                        + ": the next start of node " + config.nodeId() + " records it"
                        : "It could not be kept in " + leftovers.stops().file() + " either (" + note.problem()
                                + "): the next start of node " + config.nodeId() + " records it "
                                + (leftovers.stops().begunKept(job.id(), attempt) ? "as cut short by this stop"
                                        : "as a death of its node (runner.deaths-in-a-row)")
                                + "; to have it recorded as the fencing, add this line to that file before the next"
                                + " start: " + note.lines().strip());
    }

    /**
     * The job's last attempt had come to {@code decided} before its node stopped (see
     * {@link ExecutionLedger#recordDecidedLater}): that is recorded as the attempt's outcome, and the
     * job goes on from it (a retry, its final state, its follow-ups) instead of running the command again.
     */
    private CompletionHandler<Void> concluded(Job job, long version, ExecutionLedger.Decided decided) {
        int attempt = job.attempts();
        boolean refused = keptAfterARefusal.remove(job.id() + "/" + attempt);
        String after = decided.interrupted() != null ? decided.interrupted()
                .replaceFirst("; (run again|not run again.*|" + ExecutionLedger.RETRIED + ".*)$", "")
                : refused ? "the store refused to record that as it ended, and it was kept with the attempt"
                : "its node " + decided.node() + " stopped before the attempt ended";
        // The attempt is not resumed; a failure its rule has a retry left for is retried (afterAttempt), and
        // saying "not run again" of it was untrue (wording15).
        // Cancelled or superseded already, it is not retried: the store ends it so, keeping this exit (supersede21).
        // Read again when the job was read without the flag: one asked since (after the pick's read, or between it
        // and a start that found this exit recorded meanwhile, DECIDED_MEANWHILE) wins all the same; as read before
        // it, a failure was "retried as its rule says", and the store recorded it as its own node's end after the
        // cancel (review50b R8).
        boolean stopAsked = job.cancelRequested() || records.call(job.id(), "read whether its cancel was asked",
                () -> ledger.cancelRequested(job.id()), this::untilGraceOver);
        boolean retried = !stopAsked && decided.result() != JobOutcome.Result.SUCCEEDED
                && decided.result() != JobOutcome.Result.CANCELLED
                && records.call(job.id(), "count its failed attempts", () -> ledger.failedAttempts(job.id()),
                        this::untilGraceOver) + 1 <= job.retries();
        String message = describe(decided.result(), decided.exitCode(), job) + "; then " + after
                + (stopAsked ? "" : retried ? "; retried as its rule says" : "; not run again");
        if (leftovers.saidRecorded(job.id(), attempt)) {
            LOG.debug("job {} attempt {}: {}", job.id(), attempt, message); // said at INFO by the sweep (tryout28 F8)
        } else {
            LOG.warn("job {} attempt {}: {}", job.id(), attempt, message);
        }
        // Its times as recorded: its start, and its end when its interruption was recorded (the stop's or
        // the sweep's account), or when its outcome was kept with it (its command's own end: review54 F2). Not now: a start hours after a graceful stop made the attempt and the job
        // seem to have run through the downtime, and the log said "last attempt took 0ms" (tryout14 F9).
        JobOutcome outcome = new JobOutcome(decided.result(), decided.exitCode(), decided.startedAt(),
                decided.endedAt(), message, decided.logPath() == null ? null : Path.of(decided.logPath()), false);
        return afterAttempt(job, attempt, version, outcome, Recorded.CONCLUDED, !stopAsked);
    }

    /**
     * {@code step}'s answer; a failure of it that is an outage sets {@code again[0]}, so that the next try knows an
     * earlier one may have gone through, its answer lost.
     */
    private static <T> T tried(boolean[] again, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (RuntimeException e) {
            again[0] |= StoreOutages.isOutage(e);
            throw e;
        }
    }

    /** Whether the command's leader exited with its own status (succeeded, or failed with an exit code). */
    private static boolean exitedByItself(JobOutcome outcome) {
        return outcome.exitCode() != null && (outcome.result() == JobOutcome.Result.SUCCEEDED
                || outcome.result() == JobOutcome.Result.FAILED);
    }

    /** {@code timed out after 10m}, {@code exited with 3}: what an attempt came to, as its outcome says it. */
    private static String describe(JobOutcome.Result result, Integer exitCode, Job job) {
        return result == JobOutcome.Result.TIMED_OUT ? "timed out after " + Durations.describe(job.timeout())
                : "exited with " + exitCode;
    }

    /** After attempt {@code attempt} ended with {@code outcome}: its final state, or a retry. */
    private CompletionHandler<Void> afterAttempt(Job job, int attempt, long version, JobOutcome outcome) {
        return afterAttempt(job, attempt, version, outcome, Recorded.ATTEMPT, true);
    }

    /**
     * As {@link #afterAttempt(Job, int, long, JobOutcome)}, recorded as {@code how} says; without
     * {@code mayRetry} a failure ends the job at once (one whose cancel was asked for already).
     */
    private CompletionHandler<Void> afterAttempt(Job job, int attempt, long version, JobOutcome outcome,
            Recorded how, boolean mayRetry) {
        String jobId = job.id();
        if (outcome.succeeded()) {
            return finish(job, attempt, version, outcome, JobState.SUCCEEDED, JobEvents.Ending.SUCCEEDED, remove(),
                    how, null);
        }
        if (outcome.result() == JobOutcome.Result.CANCELLED) {
            return finish(job, attempt, version, outcome, JobState.CANCELLED, JobEvents.Ending.CANCELLED, remove(),
                    how, null);
        }
        int failures = !mayRetry ? Integer.MAX_VALUE : records.call(jobId, "count its failed attempts",
                () -> ledger.failedAttempts(jobId), this::untilGraceOver) + 1;
        if (failures <= job.retries()) {
            Duration delay = job.backoff().multipliedBy(1L << Math.min(failures - 1, 30));
            // Due at the next whole second, as the job's message writes it (Job.retryWait), which the retry's own
            // time then is: up to a second later, nothing beside a backoff of seconds; one under a second as it is.
            Instant exact = clock.instant().plus(delay);
            Instant due = delay.compareTo(Duration.ofSeconds(1)) < 0 ? exact
                    : exact.plusNanos(999_999_999).truncatedTo(ChronoUnit.SECONDS);
            String wait = Job.retryWait(failures, job.retries(), attempt + 1, due, delay);
            CompletionHandler<Void> next = finish(job, attempt, version, outcome, JobState.QUEUED, ending(outcome),
                    rescheduleAt(due), how, wait);
            // Said once it is recorded: a record the store refuses is tried again (RefusedRecordWait), which said it at
            // every try.
            LOG.info("job {} attempt {} {}; {}", jobId, attempt, outcome.message(), wait);
            return next;
        }
        JobState last = outcome.result() == JobOutcome.Result.TIMED_OUT ? JobState.TIMED_OUT : JobState.FAILED;
        return finish(job, attempt, version, outcome, last, ending(outcome), remove(), how, null);
    }

    /**
     * The end of an attempt whose command exited by itself, as seen by this node ({@code seen}), told what is known of
     * it besides (tryout49 F1): when its watchdog found nothing of it left at {@code endedBefore}, after the attempt's
     * start and before the exit was seen (this JVM, paused, saw the exit only on waking, perhaps after another node's
     * later attempt began), it ended then, and its message says so; otherwise, when this JVM did not run for half the
     * dead-node limit (at least 10 s) while the attempt ran (started before the pause ended) and its exit was seen on
     * waking from that pause ({@link JvmPauses.Pause#wokeTo}), its message says that the exit was seen on waking. Else
     * {@code seen} as it is. Whether the exit was seen on waking is decided by when it was first seen ({@code exitSeen}),
     * not by the outcome's end, which comes after the end of what the command left running and the wait for its output
     * (up to seconds more: review50b R6); the recorded end, and the time the words give, stay the outcome's (or the
     * watchdog's bound): "seen at" that end, it had ended before then.
     *
     * <p>Never an end before the attempt's start: a watchdog's look before the fork (this JVM paused between telling
     * the watchdog and starting the command) found nothing because nothing had started yet (review49 F6). Never the
     * words of a pause the attempt did not run through: one that started after it (review49 F7), nor of one whose end
     * came well before the exit was seen (review50 F1: a command that ran on after the wake and exited minutes later
     * was seen exiting when it did; the pause hid nothing of it).
     *
     * @param seen        the outcome as this node saw it, exited by itself, with its end
     * @param exitSeen    when this node first saw the exit ({@link org.buildhook.runner.exec.RunningJob#exitSeen()}),
     *                    not after {@code seen}'s end; that end when not known
     * @param endedBefore when the watchdog found nothing of the attempt left ({@link Watchdog.End#endedBefore()}), or
     *                    null
     * @param pause       this JVM's last pause ({@link Watchdog.End#pausedMillis()}, {@link JvmPauses#recent})
     * @param limit       the dead-node limit (heartbeat interval × missed heartbeats), positive
     * @return the outcome to record
     */
    static JobOutcome seenAfterAPause(JobOutcome seen, Instant exitSeen, Instant endedBefore, JvmPauses.Pause pause,
            Duration limit) {
        Instant started = seen.started();
        if (endedBefore != null && endedBefore.isBefore(seen.ended())
                && (started == null || endedBefore.isAfter(started))) {
            // It exited by itself while this JVM was paused (its watchdog came to kill it and found nothing left);
            // seen only on waking, its end was recorded at the wake, after another node's later attempt began: a
            // history of two copies at once that never ran. It ended before the watchdog's look, which is what is
            // known: that is its end, and its message says so.
            // The words of the wake only when the exit was seen on it (review50 F1): an exit seen later (its thread
            // held up past the pause) was not seen "when this node ran again".
            return new JobOutcome(seen.result(), seen.exitCode(), seen.started(), endedBefore,
                    seen.message() + "; " + seenOnWaking(endedBefore, pause.wokeTo(exitSeen) ? pause.millis() : -1,
                            seen.ended()),
                    seen.logFile(), seen.logTruncated());
        }
        // A pause of half the dead-node limit (at least 10 s) that no watchdog bounded (none runs: SQLite,
        // runner.watchdog: off; or it was frozen with this JVM: a stalled VM), which the attempt ran through: the exit
        // was seen on waking, which is all that is known of its end; said, so that the record does not pass the wake
        // for the exit's own time, and a late record says this JVM's pause, not the store.
        // Seen on waking only when seen at the pause's end (review50 F1): the last pause is known for the whole limit
        // after it, and a command that ran on through it and exited minutes later was seen exiting when it did.
        boolean ranThrough = pause.until() != null && (started == null || started.isBefore(pause.until()));
        if (ranThrough && pause.wokeTo(exitSeen) && pause.millis() >= Math.max(10_000, limit.toMillis() / 2)) {
            return new JobOutcome(seen.result(), seen.exitCode(), seen.started(), seen.ended(),
                    seen.message() + "; " + seenOnWaking(null, pause.millis(), seen.ended()), seen.logFile(),
                    seen.logTruncated());
        }
        return seen;
    }

    /**
     * What an attempt's message adds of an end seen late, on waking from a pause of this JVM, when its watchdog had found
     * it ended (without that, from {@code its exit was seen}): {@code it ended before 2026-…Z (this node's watchdog found nothing of it left to kill then); its exit was
     * seen at 2026-…Z, when this node ran again after its JVM was paused or stalled for 71.6 s}.
     *
     * @param endedBefore  when the watchdog found it ended ({@link Watchdog.End#endedBefore()}), or null
     * @param pausedMillis how long this JVM did not run, in milliseconds; negative (with {@code endedBefore} only) when
     *                     the exit was not seen on waking from a pause: the words then say only when it was seen
     * @param seen         when this node saw the exit
     */
    static String seenOnWaking(Instant endedBefore, long pausedMillis, Instant seen) {
        return (endedBefore == null ? "" : "it ended before " + endedBefore + " (this node's watchdog found nothing of"
                + " it left to kill then); ")
                + "its exit was seen at " + seen.truncatedTo(ChronoUnit.MILLIS)
                + (pausedMillis < 0 ? "" : ", " + ExecutionLedger.SEEN_ON_WAKING
                        + String.format(java.util.Locale.ROOT, "%.1f s", pausedMillis / 1000.0))
                + (endedBefore == null ? ": it ended before then" : "");
    }

    /** How an outcome is recorded ({@link #finish}). */
    private enum Recorded {
        /** The attempt's own end, seen by this node: the attempt's row and the job's. */
        ATTEMPT,
        /** Concluded from what a dead node's attempt had come to ({@link ExecutionLedger#finishConcluded}). */
        CONCLUDED,
        /** The job's row only: it ends without an attempt of its own ({@link ExecutionLedger#finishWithoutAttempt}). */
        JOB_ONLY
    }

    /**
     * Records the attempt's outcome and moves the job to {@code state}, then {@code next} — unless
     * another node started a later attempt meanwhile (this node's heartbeat had stopped for longer
     * than the dead-node limit): then the job is its now, and this node lets go of it. A final
     * state removes the job's execution in the same transaction (then {@code next}, db-scheduler's
     * own remove, is skipped), unless the execution changed meanwhile. A job of a rule with a
     * concurrency limit gives its slot up (whichever node took it) and wakes the next in line in that
     * transaction too: also when this node only concluded an attempt a dead node ran (review14 F2).
     */
    private CompletionHandler<Void> finish(Job job, int attempt, long version, JobOutcome outcome, JobState state,
            JobEvents.Ending ending, CompletionHandler<Void> next) {
        return finish(job, attempt, version, outcome, state, ending, next, Recorded.ATTEMPT, null);
    }

    /**
     * As {@link #finish(Job, int, long, JobOutcome, JobState, JobEvents.Ending, CompletionHandler)}, recorded as
     * {@code how} says: {@link Recorded#JOB_ONLY}, only the job's row gets {@code outcome} (it ends without an
     * attempt of its own: attempt {@code attempt} keeps its record, and no attempt's end is told). A cancel or a
     * supersede asked for before the record wins in every case (the store says so). With a {@code retryWait} (state
     * {@code QUEUED}), the job's message says after the attempt's that it waits for its retry, and when that
     * is due ({@link ExecutionLedger#finishForRetry}).
     */
    private CompletionHandler<Void> finish(Job job, int attempt, long version, JobOutcome outcome, JobState state,
            JobEvents.Ending ending, CompletionHandler<Void> next, Recorded how, String retryWait) {
        boolean attemptToo = how != Recorded.JOB_ONLY;
        String slotRule = job.concurrency() > 0 ? job.ruleName() : null;
        ExecutionLedger.Finished finished;
        // A try that failed with an outage may have committed all the same (only the store's answer was lost: a
        // connection cut after the commit, an answer not come within Store.lookBound): see answerLost.
        boolean[] triedBefore = new boolean[1];
        try {
            finished = records.call(job.id(), "record its attempt", () -> {
                try {
                    return retryWait != null
                            ? ledger.finishForRetry(job.id(), attempt, outcome, version, slotRule, retryWait)
                            : how == Recorded.ATTEMPT ? ledger.finishAttempt(job.id(), attempt, outcome, state, version,
                                    slotRule)
                            : how == Recorded.CONCLUDED ? ledger.finishConcluded(job.id(), attempt, outcome, state,
                                    version, slotRule)
                            : ledger.finishWithoutAttempt(job.id(), attempt, outcome, state, version, slotRule);
                } catch (RuntimeException e) {
                    triedBefore[0] |= StoreOutages.isOutage(e);
                    throw e;
                }
            }, this::untilGraceOver);
        } catch (RuntimeException e) {
            if (attemptToo && running.isStopping() && StoreOutages.passes(e)) {
                outcomeNotRecorded(job, attempt, outcome);
            }
            throw e;
        }
        boolean current = finished != ExecutionLedger.Finished.SUPERSEDED;
        // A cancel or a supersede asked for before the end was recorded won (the store decided it with the
        // record): the attempt keeps its own end, the job ended cancelled or superseded (tryout21 F5).
        boolean stopped = finished.stoppedAsAsked();
        try {
            if (current) {
                // A rule renamed from this one counted it as holding one of its slots: its line is woken (rename35).
                ledger.wakeRenamedLines(job.id(), job.ruleName(), job.ruleSnapshot());
            }
            if (attemptToo) {
                tell(job, ending, outcome);
            } else {
                followUpsDue(job);
            }
            if (current && (state.isFinal() || stopped)) {
                if (stopped) {
                    FinalOutcomeLog.ended(job, JobEvents.Ending.CANCELLED, attempt, asRecorded(job.id(), outcome));
                } else if (state != JobState.SUCCEEDED) {
                    FinalOutcomeLog.ended(job, ending, attempt, outcome);
                }
                told(job, stopped ? JobEvents.Ending.CANCELLED : ending);
            }
        } catch (RuntimeException e) {
            // The record is in: a failure after it is no refusal of it. Taken for one (keptForTheNextPick), it was
            // said "the store refused to record it" and "another node ended the job", both untrue, and the queue
            // entry was left picked until the dead-node handling (review52 F5). Said as what it is; the job goes on
            // as recorded.
            LOG.warn("job {} of rule '{}' attempt {}: its outcome is recorded ({}), but a step after that record"
                    + " failed (the jobs it frees start at their next try at the latest): {}", job.id(),
                    job.ruleName(), attempt, stopped ? "cancelled or superseded, as asked" : state.name(),
                    e.toString(), e);
        }
        if (finished.dequeued() || (current && (state.isFinal() || stopped) && triedBefore[0]
                && answerLost(job.id(), stopped ? "cancelled or superseded, as asked" : state.name()))) {
            return new AfterTheCommand(DEQUEUED, slotRule != null);
        }
        return current ? new AfterTheCommand(stopped ? remove() : next, slotRule != null)
                : supersededBy(job.id(), attempt);
    }

    /**
     * After a record of a job's final outcome that was tried again because an earlier try failed with an outage, and
     * that did not find the job's queue entry to remove with it: whether the entry is gone. It then was that earlier
     * try that went through, its answer lost (a connection cut after the commit, or an answer not come within {@link
     * org.buildhook.runner.store.Store#lookBound}), and removed the entry with the outcome: said in one INFO line, and
     * nothing is left for db-scheduler's remove (which found nothing and was taken for another node's take-over: bound47
     * F3). The outcome that try wrote is this same one, which the try again wrote over it. False when the entry is
     * still there or cannot be read: db-scheduler's remove, or {@link #takenOver}, goes on as ever.
     *
     * @param ended the job's final state as recorded, for the log line
     */
    private boolean answerLost(String jobId, String ended) {
        Optional<ExecutionLedger.QueueEntry> entry;
        try {
            entry = records.call(jobId, "read its queue entry", () -> ledger.queueEntry(jobId), this::untilGraceOver);
        } catch (RuntimeException e) {
            LOG.debug("job {}: its queue entry could not be read after its outcome was recorded again", jobId, e);
            return false;
        }
        if (entry.isPresent()) {
            return false;
        }
        LOG.info("job {}: its outcome is recorded ({}); the store's answer to an earlier try of that record was lost"
                + " (its connection was cut, or it did not answer in time), but that try had gone through, and its"
                + " queue entry went with it: its answer was lost, not its record", jobId, ended);
        return true;
    }

    /**
     * {@code outcome} with the message the store recorded for the job (it ended cancelled or superseded though
     * its command ended by itself), for the log; the outcome's own message when the store does not answer.
     */
    private JobOutcome asRecorded(String jobId, JobOutcome outcome) {
        String message;
        try {
            message = ledger.job(jobId).map(Job::message).orElse(outcome.message());
        } catch (RuntimeException e) {
            message = outcome.message() + "; it ended cancelled or superseded, as asked before its end was recorded";
        }
        return new JobOutcome(outcome.result(), outcome.exitCode(), outcome.started(), outcome.ended(), message,
                outcome.logFile(), outcome.logTruncated(), outcome.commandNotStarted());
    }

    /** The execution was removed with the job's final state: nothing left for db-scheduler to do. */
    private static final CompletionHandler<Void> DEQUEUED = (complete, operations) -> { };

    /**
     * The execution is not this thread's to complete (its pick was lost, a later attempt started
     * elsewhere, or it was put back already for want of a slot) or the engine stops before it entered:
     * its row is left as it is.
     */
    private static final CompletionHandler<Void> LEFT_ALONE = (complete, operations) -> { };

    /** The version of the execution this node picked, or -1 when there is none to go by. */
    private static long version(ExecutionContext context) {
        return context == null || context.getExecution() == null ? -1 : context.getExecution().version;
    }

    /**
     * After the command: the outcome is kept until the store takes it; only a stop whose grace
     * period is over gives up.
     */
    private boolean record(String jobId, String what, java.util.function.Supplier<Boolean> step) {
        return records.call(jobId, what, step, this::untilGraceOver);
    }

    /**
     * Records which processes the attempt is, so that they can be found if this node dies; best
     * effort. Handed to the store without waiting for its commit (SQLite's writer commits it in
     * the order handed in; PostgreSQL before this returns); {@link #processRecorded} waits for it
     * before anything else of the attempt is written.
     */
    private CompletableFuture<Void> recordProcess(String jobId, int attempt, RunningJob process) {
        ProcessIdentity started = process.process().join();
        if (started == null) {
            return CompletableFuture.completedFuture(null);
        }
        return ledger.recordProcessLater(jobId, attempt, started);
    }

    /** Waits until the attempt's process is recorded, or says why it could not be. */
    private static void processRecorded(String jobId, RunningJob process, CompletableFuture<Void> recorded) {
        try {
            recorded.join();
        } catch (CompletionException | CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            ProcessIdentity started = process.process().getNow(null);
            // Its marker still finds every process of it; the pid and session only add to that.
            LOG.warn("job {}: could not record its process {}: {}", jobId, started == null ? "?" : started.pid(),
                    cause.getMessage());
        }
    }

    private void sweepGivenBack(java.util.Set<String> resources) {
        try {
            leftovers.givenBack(resources);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while ending what jobs that gave their units back left", e);
        }
    }

    private void sweepBeforeRerun(String jobId) {
        try {
            leftovers.beforeRerun(jobId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while ending what an earlier attempt of " + jobId + " left",
                    e);
        }
    }

    /**
     * Deliveries being accepted go first: the attempt's bookkeeping and its launch would take the
     * CPU and the store's writer that their commits wait for. Bounded by {@link #ACCEPTS_FIRST}, so a
     * steady stream of deliveries slows the jobs down but never stops them.
     */
    private void letAcceptsGoFirst() {
        try {
            store.awaitAcceptsFirst(ACCEPTS_FIRST);
        } catch (InterruptedException e) {
            // Only a stopping engine interrupts: the attempt goes on as it would have a moment later.
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The store no longer has attempt {@code attempt} as the job's latest: the execution is no longer this node's
     * to complete. Said as the store has it now:
     * <ul>
     * <li>the store has no record of this node's attempt {@code attempt} (none of that number, or one of another
     * node's): the store lost it (a database server that lost commits it had acknowledged, or a database
     * restored from a backup); no other node is blamed, and the line says what follows (the job as the store has
     * it: queued, it runs again). pgcrash31: the line blamed "another node" on a one-node installation whose
     * PostgreSQL had lost the attempt's record in a crash;
     * <li>else a later attempt started elsewhere. Another node starts one only once this node's heartbeat is older
     * than the dead-node limit; why it was is not known here (the store unreachable, or this JVM paused or stalled
     * while the store was fine), so the line says what is known. It said "while attempt N waited for the store",
     * also after a pause of the JVM alone, when nothing had waited for the store (tryout17 F8). Or that node ended
     * the job for good without a later attempt (its node's deaths in a row, a supersede, a cancel), which this
     * node's late record leaves as it is: then the line says so, with the job's state, not that a later attempt
     * started (review31).
     * </ul>
     * When the store cannot be read now, the line says only what the record told.
     */
    private CompletionHandler<Void> supersededBy(String jobId, int attempt) {
        JobDetail detail;
        try {
            detail = store.job(jobId).orElse(null);
        } catch (RuntimeException e) {
            detail = null; // not read: the line says only what the record told
        }
        Job now = detail == null ? null : detail.job();
        if (detail != null && detail.attempts().stream().noneMatch(a -> a.attempt() == attempt
                && config.nodeId().equals(a.node()))) {
            LOG.warn("job {}: the store has no record of attempt {}, which this node ({}) started and whose command"
                    + " ran here: the store lost it (a database server that crashed and lost commits it had"
                    + " acknowledged, or a database restored from a backup); no other node took it from this node."
                    + " What the command came to is not recorded; the job goes on as the store has it: {} with {}"
                    + " attempt(s) recorded{}", jobId, attempt, config.nodeId(), now.state(), now.attempts(),
                    now.state() == JobState.QUEUED ? ", and runs again" : "");
            return LEFT_ALONE;
        }
        boolean ended = now != null && now.attempts() == attempt && now.state().isFinal();
        LOG.warn("job {}: another node {} while this node was not heard from (no heartbeat of {} seen for longer than the"
                + " dead-node limit, {}: this node paused or stalled, or cut off from the store); the job is left {},"
                + " and the attempt's history says how attempt {} ended", jobId,
                ended ? "ended the job (" + now.state() + ")" : "started a later attempt", config.nodeId(),
                Durations.describe(config.deadNodeLimit()), ended ? "as that node ended it" : "to that node", attempt);
        return LEFT_ALONE;
    }

    /**
     * After fencing, another node may have revived the execution meanwhile (a new version): then
     * completing it fails, and it is that node's now. db-scheduler says so with an exception that calls it
     * a bug ("Expected one execution to be updated, but updated 0. Indicates a bug."): said in buildhook's
     * words without it (cluster27 F13); any other failure is still quoted, at {@code WARN}.
     */
    static CompletionHandler<Void> tolerant(String jobId, CompletionHandler<Void> next) {
        return (complete, operations) -> {
            try {
                next.complete(complete, operations);
            } catch (RuntimeException e) {
                if (StoreOutages.isOutage(e)) {
                    throw e;
                }
                if (e instanceof com.github.kagkarlsson.scheduler.exceptions.ExecutionException) {
                    LOG.info("job {}: its execution was taken over by another node meanwhile (its row in the queue had"
                            + " changed: another node put it back in the queue or ran it); that node goes on with it",
                            jobId);
                } else {
                    LOG.warn("job {}: its execution could not be completed; it may have been taken over by another node"
                            + " meanwhile: {}", jobId, e.toString());
                }
            }
        };
    }

    /**
     * Frees the job's slot and wakes the rule's next jobs in line, one for each free slot, that wait
     * for their next try (the time to the next job's start is then the engine's, not
     * {@code runner.slot-retry}). A slot left
     * behind frees itself once the execution is neither picked nor queued with its job still running (a job
     * revived from a silent node keeps it until it is picked again: slot28; see
     * {@link ExecutionLedger#tryAcquireSlot}), so failing to free it must not cost the job its
     * completion: the failure is logged, not thrown.
     */
    private void freeSlot(Job job, StoreOutageWait.Until until) {
        String jobId = job.id();
        try {
            waits.run(jobId, "free its concurrency slot",
                    () -> ledger.releaseSlot(jobId, job.ruleName(), config.nodeId()), until);
        } catch (RuntimeException e) {
            // Any failure (also PostgreSQL's deadlock or statement_timeout, no outage): thrown from the finally that
            // frees it, it replaced the attempt's completion and ran the command again (review51 E1).
            LOG.warn("job {}: its concurrency slot is freed later, by the next job of its rule: {}", jobId,
                    e.getMessage());
        }
    }

    /**
     * db-scheduler's remove or reschedule needs the store too: it waits for it like the job's own steps.
     * After an attempt's outcome ({@link AfterTheCommand}) a stop waits for it through its grace period;
     * an execution whose command did not run gives up when the stop begins, as the steps before the
     * command do: nothing of it is lost (its execution stays picked by this node, for the next start or
     * dead-execution revival), and a stop while the store is away must not wait its whole grace for it
     * (review11 F2).
     */
    private CompletionHandler<Void> completing(String jobId, CompletionHandler<Void> next) {
        StoreOutageWait.Until until = next instanceof AfterTheCommand ? this::untilGraceOver : this::untilStopping;
        return (complete, operations) -> {
            try {
                (next instanceof AfterTheCommand ? records : waits).run(jobId, "update its queue entry",
                        () -> next.complete(complete, operations), until);
            } catch (com.github.kagkarlsson.scheduler.exceptions.ExecutionException e) {
                if (!takenOver(jobId, complete, until)) {
                    throw e;
                }
            } catch (RuntimeException e) {
                if (!(next instanceof AfterTheCommand ? StoreOutages.passes(e) : StoreOutages.isOutage(e))
                        || !running.isStopping()) {
                    throw e;
                }
                // The wait said in one line that it gave up; thrown on, db-scheduler logged an ERROR "Failed while
                // completing execution" with a whole stack trace for the outage (tryout20 F2). Left as after a crash.
                LOG.debug("job {}: its queue entry was not updated during this stop", jobId, e);
            } finally {
                running.leave(jobId);
            }
        };
    }

    /**
     * db-scheduler could not remove or reschedule the execution this node picked ({@code complete}'s): no row of its
     * version was left ("Expected one execution to be removed, but removed 0. Indicates a bug."). Whether another
     * node took it over meanwhile is read from the store: its queue entry gone (another node ended the job) or at a
     * later version (put back in the queue, or picked again). Only then is it said in one line, without db-scheduler's
     * ERROR and stack trace, and true returned; the entry still at the picked version (a fault of the completion
     * itself), or not readable, returns false and the failure goes on to db-scheduler as before (noise31, chaos31 L1:
     * a node paused past the dead-node limit recorded its command's own end after another node had taken the job
     * over and ended it).
     */
    private boolean takenOver(String jobId, com.github.kagkarlsson.scheduler.task.ExecutionComplete complete,
            StoreOutageWait.Until until) {
        com.github.kagkarlsson.scheduler.task.Execution mine = complete == null ? null : complete.getExecution();
        if (mine == null) {
            return false;
        }
        Optional<ExecutionLedger.QueueEntry> now;
        try {
            now = waits.call(jobId, "read its queue entry", () -> ledger.queueEntry(jobId), until);
        } catch (RuntimeException e) {
            LOG.debug("job {}: its queue entry could not be read after its completion failed", jobId, e);
            return false;
        }
        if (now.isPresent() && now.get().version() == mine.version) {
            return false;
        }
        String what = now.isEmpty() ? "its queue entry was removed by another node meanwhile (the job ended there)"
                : now.get().pickedBy() == null ? "its execution was put back in the queue by another node meanwhile"
                : "its execution was taken over by node " + now.get().pickedBy() + " meanwhile";
        LOG.warn("job {}: {}. A node takes a job over only once no heartbeat of node {} was seen for longer than the"
                + " dead-node limit ({}: this node paused or stalled, or cut off from the store); the job is that node's"
                + " now: this node leaves its queue entry alone, and the job's attempts say how its attempt here ended",
                jobId, what, config.nodeId(), Durations.describe(config.deadNodeLimit()));
        return true;
    }

    /**
     * What comes after an attempt whose command ran and whose outcome is known: see {@link #completing}.
     * {@code slotFreed}: the job's concurrency slot was given up with its outcome ({@link #finish}), so
     * that there is nothing left for {@link #freeSlot} to do.
     */
    private record AfterTheCommand(CompletionHandler<Void> next, boolean slotFreed) implements CompletionHandler<Void> {
        @Override
        public void complete(com.github.kagkarlsson.scheduler.task.ExecutionComplete complete,
                com.github.kagkarlsson.scheduler.task.ExecutionOperations<Void> operations) {
            next.complete(complete, operations);
        }
    }

    private String untilStopping() {
        return running.isStopping() ? "the engine is stopping" : null;
    }

    /**
     * After the command, and for the queue entry's update: a stopping engine still waits for the
     * store through its grace period (the stop waits for this job meanwhile), so that a store that
     * was away for a moment does not cost the job its recorded outcome and a second run.
     */
    private String untilGraceOver() {
        // A second stop signal ends the grace at once: said so, not that it is over (tryout45 F3).
        return !running.isGraceOver() ? null : running.isGraceCutShort()
                ? "a second stop signal cut the engine's grace period short" : "the engine's grace period is over";
    }

    /** Before the command, the wait ends too when the execution may soon be taken for dead. */
    private String beforeTheCommand(ExecutionContext context) {
        String stopping = untilStopping();
        if (stopping != null) {
            return stopping;
        }
        return held(context) ? null : "its heartbeat is too old to run the command under it";
    }

    /**
     * Whether this node surely still holds the execution: its last successful heartbeat is less
     * than half the dead-execution limit old. Past the limit, any node may revive it and run the job;
     * half leaves a margin for clocks and for the detection interval.
     */
    private static boolean held(ExecutionContext context) {
        CurrentlyExecuting current = context == null ? null : context.getCurrentlyExecuting();
        return current == null || current.getHeartbeatState().getFractionDead() < HAND_BACK_AT;
    }

    private static JobEvents.Ending ending(JobOutcome outcome) {
        switch (outcome.result()) {
            case SUCCEEDED:
                return JobEvents.Ending.SUCCEEDED;
            case TIMED_OUT:
                return JobEvents.Ending.TIMED_OUT;
            case CANCELLED:
                return JobEvents.Ending.CANCELLED;
            case FAILED_TO_START:
                return JobEvents.Ending.FAILED_TO_START;
            default:
                return JobEvents.Ending.FAILED;
        }
    }

    /** After the store has the attempt: metrics must never decide what happens to a job. */
    private void tell(Job job, JobEvents.Ending ending, JobOutcome outcome) {
        // Unknown (its node died on another host, nobody recorded its end): told as such, not as 0 s,
        // which pulled the duration histogram towards nothing (wording15).
        Duration duration = outcome.started() == null || outcome.ended() == null ? null
                : Duration.between(outcome.started(), outcome.ended());
        try {
            events.attemptEnded(job.ruleName(), ending,
                    duration == null || !duration.isNegative() ? duration : Duration.ZERO);
        } catch (RuntimeException e) {
            LOG.warn("job events listener failed for job {}: {}", job.id(), e.toString());
        }
        followUpsDue(job);
    }

    /** A job with follow-ups has an outcome: they are looked for now. */
    private void followUpsDue(Job job) {
        if (job.workflow() != null && job.workflow().followUps() != null) {
            followUpsDue.run();
        }
    }

    /** After the store has the job's final state. */
    private void told(Job job, JobEvents.Ending ending) {
        try {
            events.jobEnded(job.ruleName(), ending);
        } catch (RuntimeException e) {
            LOG.warn("job events listener failed for job {}: {}", job.id(), e.toString());
        }
    }

    /** Waits for the attempt, cancelling it when someone asks to through the store. */
    private JobOutcome await(String jobId, RunningJob process) {
        long every = config.cancelCheck().toMillis();
        boolean cancelled = false;
        boolean unreadable = false;
        while (true) {
            try {
                return process.outcome().get(every, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // Not yet ended: look at the cancel flag below, and at the pid counter (a wrap, escape50 F2).
                org.buildhook.runner.exec.Leftovers.notePidCounter();
            } catch (InterruptedException e) {
                // db-scheduler interrupts only when its own shutdown wait ran out: kill, then record.
                running.markStoppedByShutdown(jobId);
                process.cancel();
                Thread.currentThread().interrupt();
                return process.outcome().join();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a RunningJob outcome must not fail", e);
            }
            if (cancelled) {
                continue;
            }
            try {
                if (ledger.cancelRequested(jobId)) {
                    cancelled = true;
                    String by = ledger.job(jobId).map(Job::supersededBy).orElse(null);
                    if (by == null) {
                        process.cancel();
                    } else {
                        process.cancel("superseded by job " + by + " of a newer build");
                    }
                }
                if (unreadable) {
                    unreadable = false;
                    LOG.info("job {}: its cancel flag can be read again", jobId);
                }
            } catch (RuntimeException e) {
                // The store is unreachable: the command goes on, and so does this wait (one WARN, not one per check).
                if (!unreadable) {
                    unreadable = true;
                    LOG.warn("job {}: cannot read its cancel flag; the command goes on: {}", jobId, e.getMessage());
                }
            }
        }
    }

    private static CompletionHandler<Void> remove() {
        return (complete, operations) -> operations.remove();
    }

    /**
     * Back in the queue in the place it had (tryout19 F8): due when it was due at its pick, not now, so that
     * it starts before the jobs queued after it (the pick takes the earliest due first). For a job cut short
     * by a stop, not started while the node stops or cannot write its files, or handed back after a wait for
     * the store. A picked execution was due already; never later than now.
     */
    private CompletionHandler<Void> backInItsPlace() {
        return (complete, operations) -> operations.reschedule(complete,
                OwnExecutionsKept.dueInItsPlace(complete.getExecution(), clock.instant()));
    }

    private CompletionHandler<Void> rescheduleIn(Duration delay) {
        return rescheduleAt(clock.instant().plus(delay));
    }

    private static CompletionHandler<Void> rescheduleAt(Instant at) {
        return (complete, operations) -> operations.reschedule(complete, at);
    }
}
