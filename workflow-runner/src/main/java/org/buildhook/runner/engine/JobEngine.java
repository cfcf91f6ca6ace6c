package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerBuilder;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.task.FailureHandler;
import com.github.kagkarlsson.scheduler.task.helper.CustomTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.exec.JobLauncher;
import org.buildhook.runner.exec.Watchdog;
import org.buildhook.runner.exec.NodeFolders;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.store.DeadNodeRelease;
import org.buildhook.runner.store.Dialect;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.NodeLeases;
import org.buildhook.runner.store.RunningAttempt;
import org.buildhook.runner.store.SqliteServer;
import org.buildhook.runner.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the store's queued jobs on this node with db-scheduler: immediate execution when this node
 * accepted the delivery, polling otherwise, heartbeats, and dead-node recovery (a job whose node
 * stopped heart-beating is run again elsewhere). Executions are picked with lock-and-fetch, one
 * statement that marks them picked and returns them: on PostgreSQL with
 * {@code SELECT … FOR UPDATE SKIP LOCKED}, so each runs on exactly one node; on SQLite with
 * {@code UPDATE … RETURNING} under its one write lock.
 *
 * <p>At most {@link EngineConfig#threads()} jobs run at once on this node; a rule's
 * {@code concurrency} holds across all nodes of the store.
 */
public final class JobEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JobEngine.class);

    private final EngineConfig config;
    private final Store store;
    private final Clock clock;
    /**
     * This host's clock: what db-scheduler stamps this node's picks and heartbeats with and finds dead ones by (the
     * system clock; another only in tests).
     */
    private final Clock hostClock;
    /** Says this host's clock when it is off the database's (PostgreSQL). */
    private final ClockSkew clockSkew;
    private final Scheduler scheduler;
    private ScheduledExecutorService stalePicks;
    private ScheduledExecutorService fencer;
    /** PostgreSQL: renews this node's claim of its id, on a thread of its own, until the stop has ended. */
    private ScheduledExecutorService renewer;
    private final RunningJobs running = new RunningJobs();
    /** Before this JVM's first pick (set at the start, before the scheduler starts); null until then. */
    private volatile Instant ownPicksSince;
    /**
     * Writes what an attempt came to before its processes are ended ({@link
     * org.buildhook.runner.store.ExecutionLedger#recordDecidedLater}): not on the launcher's one timer
     * thread, where on PostgreSQL the write waited for the store before the attempt's signals and every
     * other job's timeout and kill steps waited behind it (review10).
     */
    private final java.util.concurrent.ExecutorService decisions = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "buildhook-decisions");
        t.setDaemon(true);
        return t;
    });
    private final FollowUpDispatcher followUps;
    private final LeftoverSweep leftovers;
    private final Fencing fencing;
    /**
     * PostgreSQL: since when this node has reached the store without a break (its node id's renewals), for the
     * dead-execution revival ({@link OwnExecutionsKept}); null on SQLite.
     */
    private final StoreReach reach;
    /**
     * The node's watchdog process (PostgreSQL, unless {@code runner.watchdog: off}): it kills this
     * node's running attempts when this JVM gives no sign of life for half the dead-node limit (a
     * pause of the JVM alone, which self-fencing cannot act on) or dies. Null until started, and on SQLite.
     */
    private volatile Watchdog watchdog;
    /** How the watchdog is started: {@link Watchdog#start(String, Duration)}; tests see what it is told. */
    private java.util.function.BiFunction<String, Duration, Watchdog> watchdogs = Watchdog::start;
    private volatile boolean started;
    /** {@link #refuseJobsOfRulesTakenOut}: none until the application sets it. */
    private volatile java.util.function.Function<Job, Optional<String>> rulesTakenOut = job -> Optional.empty();
    private volatile boolean stopped;
    /** This engine's claim of its node id (PostgreSQL: {@link NodeLeases}). */
    private final String instance = java.util.UUID.randomUUID().toString();
    /** Whether this start is recorded as the SQLite store's server ({@link #recordServer}), not released yet. */
    private boolean servesRecorded;
    /** PostgreSQL: the advisory lock of this node's id, held while the engine runs. */
    private final NodeLeases.Lock nodeLock;
    private volatile boolean nodeIdLost;
    /** Why this node takes no more jobs since its id was taken over ({@link #jobsPaused}); null before. */
    private volatile String nodeIdLostWhy;
    /** Whether the renewals' {@link NodeLeases.Renewal#ASK_AGAIN} was said, since the last other answer: once. */
    private boolean askAgainSaid;
    /**
     * Why this node launches no job now: its claim is gone from the store (an operator forgot it while it was silent)
     * and its id's lock could not be asked ({@link NodeLeases.Renewal#ASK_AGAIN}), so nothing refuses a node started
     * with its id meanwhile; null while its id is claimed (lock30).
     */
    private volatile String unclaimedWhy;
    /**
     * Whether this node can write the files an attempt needs before its command (payload, log, its own
     * working directory): while it cannot, it picks no job (tryout17 F3).
     */
    private final NodeFilesWatch files;
    /** The folders an attempt writes before its command, probed at the start (final18 F1). */
    private final List<NodeFolders.Folder> nodeFolders;
    /** Held while db-scheduler's picking is paused or resumed: a resume never undoes a stop's pause. */
    private final Object picking = new Object();
    /** {@code runner.kill-grace}: what a stop waits, after SIGTERM, before it kills a job's tree. */
    private final Duration killGrace;
    /** How long a stop waits for its jobs' threads itself after the grace period: {@link #jobsStopWait}. */
    private final Duration jobsStopWait;

    private JobEngine(Store store, JobLauncher launcher, EngineConfig config, Clock clock, JobEvents events,
            Clock hostClock) {
        this.config = config;
        this.hostClock = hostClock;
        this.clockSkew = new ClockSkew(config.nodeId(), config.deadNodeLimit());
        this.store = store;
        this.clock = clock;
        this.followUps = new FollowUpDispatcher(store, config::jobPage);
        JobEvents told = events;
        events = new JobEvents() {
            @Override
            public void attemptEnded(String rule, Ending ending, Duration duration) {
                told.attemptEnded(rule, ending, duration);
            }

            @Override
            public void jobEnded(String rule, Ending ending) {
                told.jobEnded(rule, ending);
            }
        };
        // A job planning stores FAILED (a payload value refused) reached its final state on this node too, as one the
        // pick refuses for its stored values does (values43 V3; docs/operations.md, buildhook_jobs_finished_total).
        JobEvents planned = events;
        store.whenRefusedAtPlanning(rule -> planned.jobEnded(rule, JobEvents.Ending.FAILED));
        // Two heartbeat intervals: the renewals come one interval apart, plus what each takes.
        this.reach = store.dialect() == Dialect.POSTGRESQL
                ? new StoreReach(config.heartbeatInterval().multipliedBy(2)) : null;
        this.leftovers = new LeftoverSweep(store.ledger(), config.nodeId(), new StopsNotRecorded(
                store.config().dataDir().resolve(StopsNotRecorded.FILE_NAME), config.nodeId(), config.threads()),
                config.inARow(), reach, config.deadNodeLimit(), clock);
        if (store.dialect() == Dialect.POSTGRESQL) {
            // Another node of this host may keep its own data folder, where its stop noted what it could not record.
            this.leftovers.readsFoldersOf(id -> store.nodeLeases().dataFolder(id));
        }
        // A job it holds while the store refuses a kept outcome is put back once recorded, never under a thread of it.
        this.leftovers.executing(running::isExecuting);
        this.leftovers.hostClock(hostClock);
        this.nodeLock = store.nodeLeases().lock(config.nodeId());
        this.files = new NodeFilesWatch(config.nodeId(), clock, config.pollingInterval(), this::pausePicking,
                this::resumePicking);
        this.nodeFolders = nodeFolders(store, launcher);
        this.killGrace = launcher.killGrace();
        this.jobsStopWait = jobsStopWait(killGrace, store.config().connectTimeout());
        // The jobs' threads pick again once a job that could not start gave its thread back (tryout43 F6).
        // Each answer of PostgreSQL a job's bookkeeping waits for bounded, on its thread (JobThreads.execute).
        JobThreads threads = new JobThreads(config.threads(), this::pickAgain, store::look);
        CustomTask<Void> task = Tasks.custom(JobQueue.TASK_NAME, Void.class)
                .onDeadExecution(new OwnExecutionsKept(config.nodeId(), running, reach, config.deadNodeLimit(),
                        reach == null ? id -> Optional.empty()
                                : id -> store.nodeLeases().alive(id, config.deadNodeLimit(), hostClock), hostClock))
                // The handler itself records failures of commands; this is for a store that failed mid-way.
                .onFailure(new FailureHandler.OnFailureRetryLater<>(Duration.ofSeconds(10)))
                .execute(new JobTask(store, launcher, config, running, clock, events, leftovers, followUps::poke, command -> {
                    // Its answer bounded as the job thread's (JobThreads.execute): held by a connection that never
                    // answered again, every later attempt's decision waited behind it.
                    Runnable bounded = () -> store.look(command);
                    try {
                        decisions.execute(bounded);
                    } catch (java.util.concurrent.RejectedExecutionException stopped) {
                        bounded.run(); // after the stop: written here rather than not at all
                    }
                }, () -> watchdog, files, threads::pickAgainAfterThisJob).takenOut(job -> rulesTakenOut.apply(job)));
        SchedulerBuilder builder = Scheduler.create(store.schedulerDataSource(), task)
                .schedulerName(new SchedulerName.Fixed(config.nodeId()))
                .threads(config.threads())
                .executorService(threads)
                .pollingInterval(config.pollingInterval())
                .heartbeatInterval(config.heartbeatInterval())
                .missedHeartbeatsLimit(config.missedHeartbeats())
                .jdbcCustomization(store.schedulerCustomization())
                // This host's clock (the system clock; another only in tests, for a host whose clock is off).
                .clock(hostClock::instant)
                .alwaysPersistTimestampInUTC()
                .enableImmediateExecution()
                // The stop waits for the jobs' threads itself before scheduler.stop() (stop(), jobsStopWait): this
                // bounds only what is left after that wait, and then interrupts it.
                .shutdownMaxWait(schedulerStopBound(store.config().connectTimeout()))
                // One statement picks what is due, up to the free threads (SQLite: UPDATE … RETURNING;
                // PostgreSQL: FOR UPDATE SKIP LOCKED), instead of a select and an UPDATE per job.
                .pollUsingLockAndFetch(refetchBelow(store.dialect(), config.threads()), 1.0);
        this.scheduler = builder.build();
        // Only where other nodes may take a job over; on SQLite no other node does.
        this.fencing = store.dialect() == Dialect.POSTGRESQL
                ? new Fencing(scheduler::getCurrentlyExecuting, running, config, hostClock::instant, System::nanoTime,
                        () -> watchdog)
                : null;
        store.onJobsQueued(() -> {
            if (started && !stopped) {
                scheduler.triggerCheckForDueExecutions();
            }
        });
    }

    /**
     * Picks what is due now, after a job that could not start gave its thread back ({@link JobThreads}); not before
     * the start nor after the stop.
     */
    private void pickAgain() {
        if (started && !stopped) {
            scheduler.triggerCheckForDueExecutions();
        }
    }

    /**
     * How long a stop waits itself, after the grace period, for the jobs this node still handles: {@code
     * runner.kill-grace} for the kill sequence of a job that ignores SIGTERM (SIGTERM, the kill-grace, SIGKILL, the
     * tree reaped), then two of the store's connection waits for the job's thread to record what became of it (an
     * unanswered call, a connection that cannot be had). Only then does db-scheduler's stop begin, whose own wait
     * ({@link #schedulerStopBound}) takes the third connection wait of docs/storage.md's count ("Graceful shutdown").
     * db-scheduler interrupts the jobs' threads once its first wait is over, whatever they do: with its bound alone
     * ({@code (kill-grace + 3 × connect-timeout) / 2}, review20) a kill-grace above three connection waits had a
     * thread interrupted before its SIGKILL, which recorded nothing of the stop ("the store is unavailable …
     * interrupted", db-scheduler's "Unhandled exception") and put the job back 10 s later instead of in its place.
     *
     * @param killGrace      {@code runner.kill-grace}, the time between SIGTERM and SIGKILL
     * @param connectTimeout {@code store.connect-timeout}
     * @return {@code killGrace} + 2 × {@code connectTimeout}
     */
    static Duration jobsStopWait(Duration killGrace, Duration connectTimeout) {
        return killGrace.plus(connectTimeout.multipliedBy(2));
    }

    /**
     * db-scheduler's {@code shutdownMaxWait}: half of {@code store.connect-timeout}. db-scheduler waits up to twice it
     * (before and after it interrupts the jobs' threads: "Will wait up to 2x…"), after the stop's own wait for them
     * ({@link #jobsStopWait}): one connection wait, so that the two stay within what docs/storage.md counts after
     * the grace, the kill-grace and three connection waits. A thread still busy then is past that count.
     *
     * @param connectTimeout {@code store.connect-timeout}
     * @return {@code connectTimeout} / 2
     */
    static Duration schedulerStopBound(Duration connectTimeout) {
        return connectTimeout.dividedBy(2);
    }

    /**
     * db-scheduler's lower limit of lock-and-fetch, as a fraction of the threads: once a job ends and
     * no more than that many are left running, the node picks again at once (when the last pick found
     * as many due jobs as it asked for); otherwise the next pick waits for the poll interval or for a
     * job accepted on this node. db-scheduler's default, half the threads, lets a thread that ends
     * its job wait for a second one to end before either picks: with 4 threads, a node whose queue
     * is full ran 2–3 jobs at a time after the accepts stopped waking it (docs/BENCHMARKS.md, "Fifth
     * pass: PostgreSQL"). On PostgreSQL a pick is one statement on db-scheduler's own connection, so
     * the node picks as soon as any thread is free: {@code threads - 1} left running. On SQLite every
     * pick is a transaction of the one writer, which the accepts wait for, so picks stay batched by
     * half the threads there.
     */
    static double refetchBelow(Dialect dialect, int threads) {
        // (int) (fraction × threads) is db-scheduler's limit: threads - 0.5 rounds down to threads - 1.
        return dialect == Dialect.POSTGRESQL && threads > 1 ? (threads - 0.5) / threads : 0.5;
    }

    /**
     * Refuses to start the jobs {@code why} names a reason for: those of a rule the node's rules in force disable or
     * removed (the application's rules taken out, in the words of the reload's cancel), which end {@code CANCELLED}
     * so at their pick whatever the store-side cancel did (tryout57 F4). Not for follow-ups, re-runs or jobs marked
     * running, which that cancel leaves alone too. Called from any thread; {@code why} must answer at once.
     */
    public void refuseJobsOfRulesTakenOut(java.util.function.Function<Job, Optional<String>> why) {
        this.rulesTakenOut = java.util.Objects.requireNonNull(why, "why");
    }

    /** Makes an engine over {@code store} that runs commands with {@code launcher}. Not started. */
    public static JobEngine create(Store store, JobLauncher launcher, EngineConfig config) {
        return new JobEngine(store, launcher, config, Clock.systemUTC(), JobEvents.NONE, Clock.systemUTC());
    }

    public static JobEngine create(Store store, JobLauncher launcher, EngineConfig config, Clock clock) {
        return new JobEngine(store, launcher, config, clock, JobEvents.NONE, Clock.systemUTC());
    }

    /**
     * As {@link #create(Store, JobLauncher, EngineConfig)} on a host whose clock is {@code hostClock} (tests: hosts whose
     * clocks differ): what db-scheduler stamps this node's picks and heartbeats with and looks for dead ones by.
     */
    static JobEngine onHostClock(Store store, JobLauncher launcher, EngineConfig config, Clock hostClock) {
        return new JobEngine(store, launcher, config, Clock.systemUTC(), JobEvents.NONE, hostClock);
    }

    /** As {@link #create(Store, JobLauncher, EngineConfig, Clock)}, telling {@code events} how every attempt ends. */
    public static JobEngine create(Store store, JobLauncher launcher, EngineConfig config, Clock clock,
            JobEvents events) {
        return new JobEngine(store, launcher, config, clock, java.util.Objects.requireNonNull(events, "events"),
                Clock.systemUTC());
    }

    /** Starts picking and running jobs. */
    public synchronized void start() {
        start(() -> {
        });
    }

    /**
     * Starts picking and running jobs, and runs {@code beforeJobs} once this node may run them (on
     * PostgreSQL: its {@code runner.node-id} claimed) but before anything is swept, released or picked:
     * the last step of a start that may still refuse it (the application writes the secrets it
     * generated there), so that a refused start has run no command. When {@code beforeJobs} throws,
     * the engine is not started (its node id given back) and the exception is thrown.
     */
    public synchronized void start(Runnable beforeJobs) {
        java.util.Objects.requireNonNull(beforeJobs, "beforeJobs");
        if (started) {
            return;
        }
        if (store.dialect() == Dialect.POSTGRESQL) {
            // Before anything is swept or picked: a second node with this id would take the first's
            // picked jobs for lost picks of its own and run them again at once.
            claimNodeId();
            reach.answered(hostClock.instant());
            warnOfOlderNodes();
            lookAtClock(true);
        }
        try {
            if (store.dialect() == Dialect.SQLITE) {
                refuseBesideItsOriginal();
                recordServer();
            }
            // Before any attempt starts or is swept: its processes carry it, and a sweep takes only this store's.
            org.buildhook.runner.exec.AttemptMarker.serveStore(store.identity());
            beforeJobs.run();
        } catch (RuntimeException | Error e) {
            if (store.dialect() == Dialect.POSTGRESQL) {
                releaseNodeId();
            } else {
                releaseServer();
            }
            throw e;
        }
        started = true;
        LIVE.add(this);
        if (fencing != null && config.watchdog()) {
            // Before any job can start. On SQLite no other node takes a job over: a paused node's job
            // runs nowhere else meanwhile, and a node that starts again kills what its predecessor left.
            watchdog = watchdogs.apply(config.nodeId(), config.deadNodeLimit());
        } else if (fencing != null) {
            LOG.info("runner.watchdog is off on node {}: a pause of this JVM alone longer than the dead-node limit"
                    + " ({}) lets another node run its jobs while their commands still run here", config.nodeId(),
                    Durations.describe(config.deadNodeLimit()));
        }
        // What a dead predecessor on this host left running is killed before any job can run again,
        // and then what it held is put back in the queue at once, not after the dead-node limit.
        // Every pick under this node id from now on is this JVM's (the scheduler starts below): never
        // released as its dead predecessor's (chaos31 F1).
        ownPicksSince = hostClock.instant(); // db-scheduler stamps its picks with the host's clock, not this.clock
        // Room for what a stop must note when the store cannot record it (tryout43 F1), kept from now on.
        leftovers.stops().keepRoom();
        sweepLeftovers();
        sweepEarlierRuns();
        releaseDeadNodes();
        if (store.dialect() == Dialect.SQLITE) {
            releaseOtherNodesPicks();
        }
        restoreQueuePlaces();
        cancelRefusedApprovals();
        sayWhatRunsAgain();
        // Before the first pick: a folder this node cannot write pauses it from the start (final18 F1).
        files.lookAtStart(nodeFolders);
        if (reach != null) {
            resumeReach();
        }
        leftovers.startDone();
        scheduler.start();
        stalePicks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "buildhook-stale-picks");
            t.setDaemon(true);
            return t;
        });
        long every = config.heartbeatInterval().toMillis();
        if (store.dialect() == Dialect.POSTGRESQL) {
            // Its own thread: the looks on stalePicks wait for the store, and a claim not renewed in
            // time lets a node with the same id in.
            renewer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "buildhook-node-id");
                t.setDaemon(true);
                return t;
            });
            // Bounded as the looks below (Store.look): a renewal held for good by a connection that never answers
            // again never saw its id taken over, and two JVMs ran as one node (tryout46 F12).
            renewer.scheduleWithFixedDelay(() -> store.look(this::renewNodeId), every, every, TimeUnit.MILLISECONDS);
        }
        // Each look's answers from PostgreSQL bounded (Store.look): a connection that never answers again held this
        // thread, and every look on it, until TCP's keepalive gave up (tryout46 F7).
        stalePicks.scheduleWithFixedDelay(() -> store.look(this::releaseStalePicks), every, every,
                TimeUnit.MILLISECONDS);
        stalePicks.scheduleWithFixedDelay(() -> store.look(() -> {
            leftovers.stops().keepRoom();
            sweepLeftovers();
            if (releaseDeadNodes()) {
                scheduler.triggerCheckForDueExecutions();
            }
        }), every, every, TimeUnit.MILLISECONDS);
        if (fencing != null) {
            // Its own thread: the other looks wait on the store, and the fence must not wait behind them.
            fencer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "buildhook-fencing");
                t.setDaemon(true);
                return t;
            });
            long fenceEvery = Fencing.every(config).toMillis();
            fencer.scheduleWithFixedDelay(this::fence, fenceEvery, fenceEvery, TimeUnit.MILLISECONDS);
        }
        followUps.start(config.pollingInterval().toMillis());
        long poll = config.pollingInterval().toMillis();
        ApprovalExpiry expiry = new ApprovalExpiry(store);
        stalePicks.scheduleWithFixedDelay(() -> store.look(expiry), poll, poll, TimeUnit.MILLISECONDS);
        // Looks only while a folder it must write is known not to take writes: then every polling interval.
        stalePicks.scheduleWithFixedDelay(files::recheck, poll, poll, TimeUnit.MILLISECONDS);
        LOG.info("job engine started on node {} with {} threads", config.nodeId(), config.threads());
    }

    /**
     * Graceful stop: takes no new job, lets running ones finish for up to the grace period, then
     * kills their process trees and puts them back in the queue (the attempt recorded as
     * interrupted), waits for those kill sequences and records ({@link #jobsStopWait}), and stops
     * db-scheduler. Idempotent.
     */
    public synchronized void stop() {
        if (!stopped) {
            JvmPauses.shared().release(); // retained by its JobTask: a WAR's undeploy leaves no thread
        }
        if (!started || stopped) {
            stopped = true;
            followUps.close();
            decisions.shutdown();
            return;
        }
        stopped = true;
        if (stalePicks != null) {
            // Null when the start failed after it was marked started (war17 F4): the stop must still end
            // the watchdog below, or its process and thread outlive a failed deployment.
            stalePicks.shutdownNow();
        }
        if (fencer != null) {
            fencer.shutdownNow();
        }
        synchronized (picking) {
            scheduler.pause();
        }
        // Before the grace: a stop ended by SIGKILL (a stop timeout of systemd or of the container engine shorter than
        // the stop) leaves its attempts unrecorded, and the next start must not count them as deaths (review21 R1).
        // Every attempt it may cut short, and no launch passes its gate after this look (ci-h38).
        leftovers.stops().begun(running.beginStop());
        sayWhatTheGraceAwaits();
        try {
            running.stop(config.shutdownGrace(), ExecutionLedger.stoppedByShutdownOf(config.nodeId()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long graceOver = System.nanoTime();
        // After the grace (tryout18 F4): a job that ends during it has its follow-up stored now, for another
        // node at once or this one after its next start, not only at the next start with nothing said.
        followUps.closeAfterALastLook(store.config().connectTimeout().multipliedBy(3));
        // Only now, after the grace period: a stop while the database cannot be reached must not wait
        // for it once per step that needs it. During the grace the node still stores deliveries and
        // records the outcomes of the jobs that end, which must be tried once the database answers again.
        store.stopping();
        awaitJobsEnded(graceOver);
        scheduler.stop();
        decisions.shutdown();
        try {
            // What attempts came to, handed in before the stop: written, or failed, before the node id goes.
            decisions.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // An outcome its last stop kept that the store has not recorded yet stays noted for the next start, however
        // many starts the store refuses it (review55a F1).
        leftovers.stops().keepPending();
        LIVE.remove(this);
        if (watchdog != null) {
            // After every attempt has ended: the watchdog kills what it is still told runs when its input ends.
            watchdog.close();
        }
        if (renewer != null) {
            // Renewed through the grace period: a node started with this id meanwhile is refused.
            renewer.shutdownNow();
            // A renewal under way (its statement is not interrupted) ends before the claim is given back: one that
            // came after the release found no claim, took it for a forgotten node's and claimed the id again, so a
            // node stopped cleanly stayed listed and its id looked held (page30's NodesListTest failure).
            awaitRenewalEnded();
            releaseNodeId();
        }
        if (store.dialect() == Dialect.SQLITE) {
            releaseServer();
        }
        LOG.info("job engine stopped on node {}", config.nodeId());
    }

    /**
     * Says, as the grace period begins, what it waits for (tryout29 F5): a job whose command has ended is still
     * handled until what it came to is recorded, and while the store does not take that record the grace waits for
     * it (docs/storage.md, "Graceful shutdown": an outcome is not dropped for a store away for a moment). Without this
     * line, a stop whose jobs' commands had all ended sat silent for the whole {@code runner.shutdown-grace}, after a
     * first line that spoke only of running jobs. Nothing is said when no command runs and none awaits its record.
     */
    private void sayWhatTheGraceAwaits() {
        int handled = running.handled();
        if (handled == 0) {
            return;
        }
        long commands = running.commandsRunning();
        long recordings = running.awaitingTheirRecord();
        if (commands == 0 && recordings == 0) {
            return; // only jobs not started yet: the stop starts none of them, and they leave at once
        }
        String grace = Durations.describe(config.shutdownGrace());
        StringBuilder line = new StringBuilder("stopping: node ").append(config.nodeId()).append(" waits up to ")
                .append(grace).append(" (runner.shutdown-grace) for ");
        if (commands > 0) {
            line.append(commands).append(" running job(s) to end");
        }
        if (recordings > 0) {
            line.append(commands > 0 ? ", and for what became of " : "what became of ").append(recordings)
                    .append(" job(s) whose commands have ended to be recorded (the store has not taken it yet; it is"
                            + " tried again meanwhile, and the stop goes on as soon as it is recorded)");
        }
        LOG.info(line.toString());
    }

    /**
     * Waits, after the grace period ({@code graceOver}, as {@link System#nanoTime()}), up to {@link #jobsStopWait}
     * for the jobs this node still handles: the kill sequences the grace's end began, and the recording of what became
     * of the jobs. Before db-scheduler's stop, which would interrupt their threads after its own bound, whatever the
     * kill-grace.
     */
    private void awaitJobsEnded(long graceOver) {
        int handled = running.handled();
        if (handled == 0) {
            return;
        }
        // Said by what is awaited: a job whose command has ended waits only for its recording (tryout28 F9: the
        // SIGKILL of a command that had exited 34 s before).
        long commands = running.commandsRunning();
        String wait = Durations.describe(jobsStopWait);
        if (commands == 0) {
            LOG.info("stopping: waiting up to {} for what became of {} job(s) of node {} to be recorded (their commands"
                    + " have ended)", wait, handled, config.nodeId());
        } else {
            // tryout31 F6: it said "… and for what became of them to be recorded (1 of them only that: their commands
            // have ended)".
            long ended = handled - commands;
            LOG.info("stopping: waiting up to {} for {} job(s) of node {} to end and their outcomes to be recorded (a"
                    + " process tree that outlives SIGTERM gets SIGKILL after runner.kill-grace, {}){}", wait, handled,
                    config.nodeId(), Durations.describe(killGrace), ended <= 0 ? ""
                            : ended == 1 ? "; 1 of them has ended already and waits only for its outcome to be recorded"
                            : "; " + ended + " of them have ended already and wait only for their outcomes to be"
                                    + " recorded");
        }
        Set<String> left;
        try {
            left = running.awaitHandled(graceOver + jobsStopWait.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (!left.isEmpty()) {
            LOG.warn("stopping: jobs {} had not ended, or not recorded how, {} after the grace period"
                    + " (runner.kill-grace and two store.connect-timeout); the job scheduler now interrupts their"
                    + " threads, and what they could not record is found by the next start or another node, as after"
                    + " a crash", left, Durations.describe(jobsStopWait));
        }
    }

    /**
     * Tests: starts this engine's watchdog with {@code start} (node id, dead-node limit) instead of {@link
     * Watchdog#start(String, Duration)}, to see or hold back what the node and its watchdog say. Before {@link #start}.
     */
    synchronized void startWatchdogsWith(java.util.function.BiFunction<String, Duration, Watchdog> start) {
        watchdogs = java.util.Objects.requireNonNull(start, "start");
    }

    /** Tests: whether {@link #stop()} has begun. */
    boolean stopBegun() {
        return stopped;
    }

    /**
     * Waits for a renewal of the node id under way to end, up to three times {@code store.connect-timeout} (a renewal
     * waits at most that for a connection and for a row lock, as any statement of the store's); past that the claim is
     * given back all the same, and a renewal that ends afterwards may claim it again, as a node forgotten while cut off
     * would.
     */
    private void awaitRenewalEnded() {
        try {
            if (!renewer.awaitTermination(store.config().connectTimeout().multipliedBy(3).toMillis(),
                    TimeUnit.MILLISECONDS)) {
                LOG.warn("node id {}: its renewal under way did not end within {}; the id is given back all the same",
                        config.nodeId(), Durations.describe(store.config().connectTimeout().multipliedBy(3)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Gives this node's id back ({@link #claimNodeId}): a node started with it next takes it at once (its lock is given
     * back whatever happens). The claim itself stays while this node's data folder keeps what the store has not recorded
     * ({@link #giveBackNodeId}).
     */
    private void releaseNodeId() {
        try {
            if (giveBackNodeId(store.nodeLeases(), leftovers.stops(), config.nodeId(), instance) == GiveBack.KEPT) {
                LOG.info("node id {}: its claim stays in the store, naming its data folder, while {} there holds what"
                        + " the store has not recorded: a node of this host then leaves those attempts to this node's"
                        + " next start, or to the dead-node limit, instead of taking them for a death and running them"
                        + " again at once. A node started with this id takes the claim over as soon as the id's lock"
                        + " is free (at once after a stop that reached the store); until then this node is listed"
                        + " gone on this host (silent elsewhere after the dead-node limit)", config.nodeId(),
                        StopsNotRecorded.FILE_NAME);
            }
        } catch (RuntimeException e) {
            LOG.warn("node id {} was not given back: {}. A node started with this id takes it over once"
                    + " PostgreSQL has seen this node's connections close (at the latest after the dead-node"
                    + " limit, {})", config.nodeId(), e.getMessage(),
                    Durations.describe(config.heartbeatInterval().multipliedBy(config.missedHeartbeats())));
        } finally {
            nodeLock.release();
        }
    }

    /** What {@link #giveBackNodeId} did with a node's claim of its id. */
    enum GiveBack {
        /** Deleted: a node started with the id claims it as a new one. */
        GIVEN_BACK,
        /** Kept, naming the node's data folder, which holds what the store has not recorded. */
        KEPT,
        /** Not this node's claim any more (a node started with the id took it over): nothing done. */
        NOT_HELD
    }

    /**
     * Gives {@code instance}'s claim of {@code nodeId} back at a stop ({@link NodeLeases#release}), unless {@code stops},
     * the node's data folder's stops-not-recorded, keeps what the store has not recorded ({@link
     * StopsNotRecorded#holdsUnrecorded}: an outcome the store refused or could not take, an attempt cut short unrecorded):
     * then the claim stays, as a stop that cannot reach the store leaves it. The claim is where a node of this host reads
     * that folder from ({@link NodeLeases#dataFolder}); deleted, that node found no note, took the attempt for a death
     * and ran its command again at once, where the stopped node has the dead-node limit to start and record it
     * (review57a F1: the store refusing the record, or an outage over before the stop's end). A node started with the
     * id takes the claim over as it does one a crash left ({@link NodeLeases#claim}: at once when its lock is free).
     * A kept claim is read, to say so only of one still this node's: a store that cannot be reached fails this step as
     * the release would.
     *
     * @return what was done
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached
     */
    static GiveBack giveBackNodeId(NodeLeases leases, StopsNotRecorded stops, String nodeId, String instance) {
        if (!stops.holdsUnrecorded()) {
            leases.release(nodeId, instance);
            return GiveBack.GIVEN_BACK;
        }
        return leases.holder(nodeId).filter(h -> h.instance().equals(instance)).isPresent() ? GiveBack.KEPT
                : GiveBack.NOT_HELD;
    }

    /**
     * Refuses to start on a SQLite store that is a copy of one still served on this host (tryout33 F3): one of its
     * attempts is recorded running by a node whose JVM still runs on this host boot and PID namespace, yet this
     * JVM holds the database's lock ({@link org.buildhook.runner.store.StoreLock}), so that JVM serves another
     * file: the original of a restored backup or of a copied file. Started, this copy would take that live node
     * for a dead one, run its running jobs a second time at once and, after the first restore drill, every job
     * queued in both. A node of an earlier run of this store is gone (its JVM ended: it held the lock while it
     * ran), so a restore after a loss, or a start after a crash, is never refused.
     *
     * <p>Not only a running attempt names that live server (tryout34 F6): any attempt it recorded, whatever its outcome
     * (a failed attempt 1 whose retry is due), when this store holds a job not ended (queued, waiting, running,
     * awaiting an approval), which the copy would run at the same moment as the original. A copy whose jobs have all
     * ended runs nothing of its original's and starts. A copy holding no attempt of a live server (nothing ran
     * there since this host's boot) cannot be told from an original and starts (docs/storage.md).
     *
     * @throws RunnerException naming the live server and what to do
     */
    private void refuseBesideItsOriginal() {
        NodeIdentity self = NodeIdentity.current();
        for (RunningAttempt attempt : store.ledger().runningAttempts(self.bootId())) {
            org.buildhook.runner.exec.ProcessIdentity node = attempt.nodeProcess();
            if (node == null || self.process().sameProcess(node) || !node.isAlive()) {
                continue;
            }
            throw new RunnerException("this database (" + store.config().url() + ") is a copy of one still served"
                    + " on this host: its job " + attempt.jobId() + " is recorded running (attempt " + attempt.attempt()
                    + ") by node " + attempt.node() + ", whose server (pid " + node.pid() + ") still runs here but"
                    + " does not hold this file's lock, so it serves the original (a restored backup or a copied"
                    + " database file started beside it). Started, this copy would take that server for a dead node"
                    + " and run its jobs a second time at once, and every job queued in both. What to do: stop that"
                    + " server first if this copy is to replace it (kill " + node.pid() + "; a restore after a loss"
                    + " starts as usual); to look into a backup without running anything, read it with `buildhook"
                    + " jobs`/`job show` while no server uses it, or `sqlite3 -readonly` (docs/storage.md, \"Backing"
                    + " up and restoring\")");
        }
        Optional<Map.Entry<String, org.buildhook.runner.store.JobState>> notEnded = store.ledger().aJobNotEnded();
        if (notEnded.isEmpty()) {
            return;
        }
        String waiting = notEnded.get().getKey() + " is " + notEnded.get().getValue();
        Optional<SqliteServer.Served> last = store.sqliteServer().last();
        if (last.isPresent() && !last.get().servesAnotherCopy(self)) {
            // The store names the JVM that served it last, and that one is gone, is this one or recorded its stop (a
            // web application undeployed from a container that still runs): none of the JVMs that recorded its
            // attempts serves it now, whether or not they still run (drill35 F2).
            return;
        }
        List<ExecutionLedger.NodeProcessAttempt> attempts = store.ledger().latestAttemptPerNodeProcess(self.bootId());
        if (last.isPresent()) {
            // The JVM that served the store last still runs here, without its lock: a copy of a file it serves,
            // whether or not it has recorded an attempt (drill35 F1: a backup taken just after its start).
            org.buildhook.runner.exec.ProcessIdentity server = last.get().process();
            attempts = attempts.stream().filter(a -> a.nodeProcess().sameProcess(server)).toList();
            if (attempts.isEmpty()) {
                throw new RunnerException("this database (" + store.config().url() + ") is a copy of one still"
                        + " served on this host: the server that served it (pid " + server.pid() + ", since "
                        + last.get().since() + ") still runs here but does not hold this file's lock, so it serves the"
                        + " original (a restored backup or a copied database file started beside it). Started, this"
                        + " copy would run its jobs not ended (job " + waiting + ") at the same moment as that server"
                        + " runs them in the original: the same command twice at once. What to do: stop that server"
                        + " first if this copy is to replace it (kill " + server.pid() + "; a restore after a loss"
                        + " starts as usual; a web application undeployed from a container that still runs records its"
                        + " stop, else stop the container); to look into a backup without running anything, read it"
                        + " with `buildhook jobs`/`job show` while no server uses it, or `sqlite3 -readonly`"
                        + " (docs/storage.md, \"Backing up and restoring\")");
            }
        }
        for (ExecutionLedger.NodeProcessAttempt attempt : attempts) {
            org.buildhook.runner.exec.ProcessIdentity node = attempt.nodeProcess();
            if (self.process().sameProcess(node) || !node.isAlive()) {
                continue;
            }
            throw new RunnerException("this database (" + store.config().url() + ") is a copy of one still served"
                    + " on this host: its job " + attempt.jobId() + "'s attempt " + attempt.attempt() + " ("
                    + attempt.outcome() + ") was recorded by node " + attempt.node() + ", whose server (pid "
                    + node.pid() + ") still runs here but does not hold this file's lock, so it serves the original"
                    + " (a restored backup or a copied database file started beside it). Started, this copy would run"
                    + " its jobs not ended (job " + waiting + ") at the same moment as that server runs them in the"
                    + " original: the same command twice at once. What to do: stop that"
                    + " server first if this copy is to replace it (kill " + node.pid() + "; a restore after a loss"
                    + " starts as usual); to look into a backup without running anything, read it with `buildhook"
                    + " jobs`/`job show` while no server uses it, or `sqlite3 -readonly` (docs/storage.md, \"Backing"
                    + " up and restoring\")");
        }
    }

    /**
     * Records this JVM in the SQLite store as the one serving it ({@link SqliteServer}): a backup taken from now on
     * names it, and a copy of it started on this host while this JVM serves the original is refused even before this
     * JVM records an attempt (drill35 F1). A store that cannot take it now starts all the same: the record serves
     * only that refusal.
     */
    private void recordServer() {
        try {
            store.sqliteServer().serve(instance, NodeIdentity.current(), Instant.now());
            servesRecorded = true;
        } catch (RuntimeException e) {
            LOG.warn("this server could not record itself in the store as the one serving it ({}): a copy of this"
                    + " database started on this host while this server runs is refused only once one of this"
                    + " server's attempts is recorded", e.getMessage());
        }
    }

    /**
     * Records the end of {@link #recordServer}'s record (a clean stop, or a start refused after it): a server started
     * on this store, or on a copy of it, while this JVM still runs (a servlet container whose buildhook was
     * undeployed) is not refused as one beside its live original (drill35 F2).
     */
    private void releaseServer() {
        if (!servesRecorded) {
            return;
        }
        servesRecorded = false;
        try {
            store.sqliteServer().release(instance);
        } catch (RuntimeException e) {
            LOG.warn("this server's stop could not be recorded in the store ({}): while this JVM ({}) still runs, a"
                    + " buildhook started on this database, or on a copy of it, takes it for a live original and is"
                    + " refused when jobs are not ended; stop this JVM first", e.getMessage(),
                    NodeIdentity.current().process().pid());
        }
    }

    /**
     * Claims this node's id ({@code runner.node-id}) for this engine, with the id's advisory lock
     * ({@link NodeLeases.Lock}): a node whose connection to the store ended (killed, its container
     * stopped) is taken over at once. When a node that is not provably gone holds it, waits: a host
     * that vanished without closing its connection stops renewing its claim and is taken over after
     * the dead-node limit; a node that renews its claim meanwhile is running, and this one is refused.
     *
     * @throws RunnerException when another running node uses the id, with what to do
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached, or the id's lock
     *         cannot be asked (its pool's logins refused, PostgreSQL out of connections), with the database's reason:
     *         never taken for another node holding the lock (tryout29 F2). At the first look; during the wait for
     *         another holder only when the failures last {@code store.connect-timeout}: a single one is asked again
     */
    private void claimNodeId() {
        NodeLeases leases = store.nodeLeases();
        NodeIdentity self = NodeIdentity.current();
        Duration deadLimit = config.heartbeatInterval().multipliedBy(config.missedHeartbeats());
        Optional<NodeLeases.Holder> held = leases.claim(config.nodeId(), instance, self, deadLimit,
                nodeLock.take());
        if (held.isEmpty()) {
            return;
        }
        NodeLeases.Holder first = held.get();
        LOG.warn("node id {} is held by another node ({}), which last said it runs {} ago; waiting to see whether"
                + " it still runs (then this node is refused) or is gone (its host vanished: taken over once it has"
                + " been silent for the dead-node limit, {}); no job runs here meanwhile",
                config.nodeId(), first.describe(), Durations.describe(between(first.renewedAt())),
                Durations.describe(deadLimit));
        long look = Math.min(config.heartbeatInterval().toMillis(), 1000);
        long deadline = System.nanoTime() + deadLimit.plus(config.heartbeatInterval()).toNanos();
        Duration lasting = store.config().connectTimeout();
        // Since when every look of the wait has failed (the lock not asked, or the store not reached); null while
        // they are answered. One failed look is looked at again; only failures lasting store.connect-timeout end the
        // start (lock30: a single "could not ask" ended it).
        Long failingSince = null;
        while (true) {
            try {
                Thread.sleep(look);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RunnerException("interrupted while waiting for node id " + config.nodeId(), e);
            }
            try {
                held = leases.claim(config.nodeId(), instance, self, deadLimit, nodeLock.take());
            } catch (org.buildhook.runner.store.StoreUnavailableException e) {
                long now = System.nanoTime();
                if (failingSince == null) {
                    failingSince = now;
                    LOG.warn("node id {}: while waiting for it, its lock could not be asked or its claim not read ({});"
                            + " asked again at the next look, and the start ends if this lasts store.connect-timeout"
                            + " ({})", config.nodeId(), e.getMessage(), Durations.describe(lasting));
                } else if (now - failingSince >= lasting.toNanos()) {
                    throw e; // the database's reason, as at the first look
                }
                continue;
            }
            failingSince = null;
            if (held.isEmpty()) {
                LOG.info("node id {} taken over from {}: its connection to the store ended, or it was silent for"
                        + " longer than the dead-node limit", config.nodeId(), first.describe());
                return;
            }
            NodeLeases.Holder now = held.get();
            if (!now.written()) {
                // Its lock is held by a session that has written no claim yet (a node starting now).
                if (System.nanoTime() - deadline > 0) {
                    throw new RunnerException("cannot take runner.node-id '" + config.nodeId() + "': another session"
                            + " of the store holds its lock and has written no claim for longer than the dead-node"
                            + " limit (a node starting with the same id, or a connection PostgreSQL has not ended"
                            + " yet); give each node its own runner.node-id, or start this one again");
                }
                continue;
            }
            if (!first.written()) {
                first = now; // the node that was starting has written its claim: watch that one
                continue;
            }
            if (!now.instance().equals(first.instance()) || now.renewedAt().isAfter(first.renewedAt())) {
                throw new RunnerException("runner.node-id '" + config.nodeId() + "' is in use by another running node ("
                        + now.describe() + ", which said so " + Durations.describe(between(now.renewedAt()))
                        + " ago): two nodes with one id would run the same jobs twice at once. Give each node its own"
                        + " runner.node-id (or leave it out: <hostname>-<pid>), or stop the other node first");
            }
        }
    }

    private Duration between(Instant then) {
        Duration d = Duration.between(then, clock.instant());
        return d.isNegative() ? Duration.ZERO : d;
    }

    /**
     * Before the scheduler's first look: the time the start itself took since the claim ({@code beforeJobs}, the
     * sweeps) was no break in this node's reach of the store, though nothing asked the store at heartbeat intervals
     * meanwhile; counted as one, it said "this node could not reach the store itself" and deferred reviving a dead
     * node's jobs by one dead-node limit (review28 R4). The claim is renewed now to tell: answered, the store is
     * reached now; else the next answer (a renewal) counts the break from the claim, as before.
     */
    private void resumeReach() {
        try {
            store.nodeLeases().renew(config.nodeId(), instance);
            reach.resumed(hostClock.instant());
        } catch (RuntimeException e) {
            LOG.debug("node id {}: not renewed at the start's end; the next renewal tells: {}", config.nodeId(),
                    e.toString());
        }
    }

    /**
     * Renews this node's claim of its id every heartbeat interval. Should another node have taken the
     * id over (this one did not renew it for longer than the dead-node limit, and a node with the same
     * id started meanwhile), this one takes no more jobs: two nodes with one id must not both run.
     */
    private void renewNodeId() {
        if (nodeIdLost) {
            return; // another node's now: nothing to renew
        }
        try {
            // Taken again if its connection was lost (PostgreSQL restarted, a network cut). A lock that could not be
            // asked (its pool has no connection yet) is no sign of another node (tryout29 F1).
            NodeLeases.LockAnswer lock = nodeLock.ask();
            if (lock != NodeLeases.LockAnswer.HELD) {
                LOG.debug("node id {}: its lock could not be taken again now ({}); next time", config.nodeId(), lock);
            }
            NodeLeases.Renewal renewal = store.nodeLeases().renew(config.nodeId(), instance, NodeIdentity.current(),
                    lock);
            if (renewal == NodeLeases.Renewal.ASK_AGAIN) {
                // Neither its claim nor its lock: a node started with this id now would not be refused and would take
                // this id's picks for its own. No job is launched here until the id is claimed again; the jobs running
                // go on (their heartbeats keep every other node off them, and a claim of the id by another node is
                // LOST at the next renewal, which fences them).
                unclaimedWhy = "jobs do not start on this node for now: its node id " + config.nodeId() + " is no"
                        + " longer claimed in the store (an operator forgot this node while it was silent) and its"
                        + " lock could not be asked (the pool buildhook-node-id has no connection); they start again"
                        + " once the id is claimed again, at a next heartbeat";
                pausePicking();
            }
            if (renewal == NodeLeases.Renewal.ASK_AGAIN && !askAgainSaid) {
                askAgainSaid = true;
                LOG.warn("node id {}: its claim is no longer in the store (an operator forgot this node, DELETE"
                        + " /api/nodes/{}, while it was silent), and its lock could not be asked now (the pool"
                        + " buildhook-node-id has no connection); it launches no job until the id is claimed again,"
                        + " once the lock can be asked at a next heartbeat (the {} job(s) running go on), and is not"
                        + " listed meanwhile", config.nodeId(), config.nodeId(), running.size());
            } else if (renewal != NodeLeases.Renewal.ASK_AGAIN) {
                askAgainSaid = false;
            }
            if ((renewal == NodeLeases.Renewal.RENEWED || renewal == NodeLeases.Renewal.CLAIMED_AGAIN)
                    && unclaimedWhy != null) {
                unclaimedWhy = null;
                if (files.problem().isEmpty()) {
                    resumePicking();
                }
            }
            reach.answered(hostClock.instant());
            if (fencing != null) {
                fencing.storeAnswered();
            }
            if (renewal == NodeLeases.Renewal.CLAIMED_AGAIN) {
                LOG.warn("node id {}: its claim was no longer in the store (an operator forgot this node, DELETE"
                        + " /api/nodes/{}, while it was silent for longer than the dead-node limit); claimed again, so"
                        + " it is listed again", config.nodeId(), config.nodeId());
            }
            if (renewal == NodeLeases.Renewal.LOST) {
                String by = store.nodeLeases().holder(config.nodeId()).map(NodeLeases.Holder::describe)
                        .orElse("a node that has stopped since");
                nodeIdLostWhy = "jobs do not start on this node: its node id " + config.nodeId() + " was taken over by"
                        + " another node (" + by + "), and two nodes must not run under one id; give each node its own"
                        + " runner.node-id and restart this one";
                nodeIdLost = true;
                synchronized (picking) {
                    scheduler.pause();
                }
                // What becomes of the job is read from the store and said after these words, where they are
                // recorded (JobTask); they said "; run again" too, untrue of a job cancelled meanwhile, and twice in
                // the record of one that runs again (fence23). A command whose start is under way now is not started
                // (review26 R6), or, created already, fenced as it is added (review26 R1); both are named here (R5).
                Map<String, Integer> attempts = new java.util.HashMap<>();
                running.runningJobIds().forEach(jobId -> {
                    Integer attempt = running.attempt(jobId);
                    if (attempt != null) {
                        attempts.put(jobId, attempt);
                    }
                });
                List<String> fenced = running.fenceAll("node id " + config.nodeId() + " was taken over by another node ("
                        + by + ")");
                LOG.error("node id {} was taken over by another node ({}): two nodes must not run under one id, so"
                        + " this one takes no more jobs and looks for no stale picks or leftovers; of the jobs it was"
                        + " running or starting, {}; give each node its own runner.node-id and restart this one",
                        config.nodeId(), by, whatBecameOf(fenced, attempts));
            } else {
                lookAtClock(false);
            }
        } catch (RuntimeException e) {
            // The store is away: fencing and the stale-pick looks say so; the next renewal tries again.
            LOG.debug("could not renew node id {}: {}", config.nodeId(), e.toString());
        }
    }

    /**
     * Reads this host's clock less the database's and says it when beyond a quarter of the dead-node limit ({@link
     * ClockSkew}); a store that does not answer is said by the renewals and fencing, not here.
     */
    private void lookAtClock(boolean atStart) {
        try {
            store.nodeLeases().hostAhead(hostClock).ifPresent(offset -> clockSkew.seen(offset, atStart));
        } catch (RuntimeException e) {
            LOG.debug("node {}: the database's clock could not be read now: {}", config.nodeId(), e.toString());
        }
    }

    /**
     * What became of the jobs this node fenced when its id was taken over ({@code fenced}, with the attempt each ran
     * here by job id, none for a launch under way), as the store has them: those another node had already taken over
     * (it started a later attempt, or ended the job) are left to it; the others are put back in the queue. tryout49
     * F2: the line said all were "put back in the queue", of jobs the node that took the id over had run again
     * minutes before. For instance {@code 2 already taken over by the node that holds the id now (started again or
     * ended there): [01A, 01B]; 1 put back in the queue: [01C]}, or {@code none}.
     */
    private String whatBecameOf(List<String> fenced, Map<String, Integer> attempts) {
        if (fenced.isEmpty()) {
            return "none";
        }
        List<String> taken = new java.util.ArrayList<>();
        List<String> putBack = new java.util.ArrayList<>();
        List<String> unknown = new java.util.ArrayList<>();
        for (String jobId : fenced) {
            Integer attempt = attempts.get(jobId);
            try {
                org.buildhook.runner.store.JobDetail detail = store.job(jobId).orElse(null);
                boolean elsewhere = attempt != null && detail != null && (detail.job().attempts() > attempt
                        || detail.job().state().isFinal() && detail.attempts().stream()
                                .noneMatch(a -> a.attempt() == attempt && a.outcome() == org.buildhook.runner.store.AttemptOutcome.RUNNING));
                (elsewhere ? taken : putBack).add(jobId);
            } catch (RuntimeException e) {
                unknown.add(jobId); // the store away again: not said either way
            }
        }
        java.util.StringJoiner said = new java.util.StringJoiner("; ");
        if (!taken.isEmpty()) {
            said.add(taken.size() + " already taken over by the node that holds the id now (started again or ended"
                    + " there), left to it: " + taken);
        }
        if (!putBack.isEmpty()) {
            said.add(putBack.size() + " put back in the queue: " + putBack);
        }
        if (!unknown.isEmpty()) {
            said.add(unknown.size() + " whose state the store did not answer now (put back in the queue unless that"
                    + " node has taken them over): " + unknown);
        }
        return said.toString();
    }

    /** The engines of this JVM that started and have not stopped yet (for {@link #hurryStops}). */
    private static final Set<JobEngine> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Ends the grace period of every engine of this JVM that is stopping (or will stop) now: their
     * running jobs' process trees are killed at once and the jobs put back in the queue, as when
     * {@code runner.shutdown-grace} runs out; they run again at the next start (or on another node).
     * For an operator who asks twice (a second Ctrl-C or SIGTERM to the standalone server); nothing is
     * lost by it, only the jobs' remaining time.
     */
    public static void hurryStops() {
        LIVE.forEach(engine -> engine.running.hurry());
    }

    /**
     * Frees what this node picked but is not running: a pick the database committed while its
     * answer was lost in a cut connection. Its heartbeat stopped at the pick, so once two looks one
     * interval apart have found it two heartbeats old ({@link #stalePicks}) it is put back in the
     * queue — instead of after the dead-node limit (default 3 minutes), which is meant for nodes that
     * died. A live node's running executions heartbeat every interval, and the ones it runs are
     * excluded by name, so none of those is touched.
     */
    private void releaseStalePicks() {
        if (nodeIdLost) {
            return; // the picks under this id are another node's now
        }
        try {
            Set<String> running = new HashSet<>();
            scheduler.getCurrentlyExecuting().forEach(e -> running.add(e.getTaskInstance().getId()));
            // Held by this node while the store refuses what its last stop kept of them (review54 N1): not stale.
            running.addAll(leftovers.heldJobs());
            Instant before = clock.instant().minus(config.heartbeatInterval().multipliedBy(2));
            List<String> released = stalePicks(running, before);
            if (!released.isEmpty()) {
                // Or an attempt's start the store lost (pgcrash31): then the command may have run here; the line
                // before of JobTask ("the store has no record of attempt N") says so of that job.
                LOG.warn("jobs {} were picked by this node but have no attempt started in the store and do not run here"
                        + " (a pick whose answer was lost, or an attempt's start the store lost); put back in the queue",
                        released);
                scheduler.triggerCheckForDueExecutions();
            }
        } catch (RuntimeException e) {
            LOG.debug("looking for stale picks failed; next time: {}", e.toString());
        }
    }

    /** The stale picks of the last look, by job id, with the version each had; only the look's thread uses it. */
    private volatile Map<String, Long> staleLastLook = Map.of();

    /**
     * PostgreSQL: when this start upgraded the shared schema while other nodes' claims were fresh, those nodes run an
     * older build (a node of this one would have found the schema upgraded): it cannot open the upgraded schema, and may
     * go on writing to it meanwhile (tryout32 F8). Says so at WARN, naming them, since deploying.md#upgrading asks to
     * stop every node before the first new one starts. Never throws.
     */
    private void warnOfOlderNodes() {
        if (store.upgradedFrom() == 0) {
            return;
        }
        List<String> others;
        try {
            others = store.nodeLeases().runningNodesRules(config.deadNodeLimit()).stream()
                    .filter(n -> !n.nodeId().equals(config.nodeId())).map(NodeLeases.NodeRules::describe).toList();
        } catch (RuntimeException e) {
            LOG.debug("could not read which nodes run on the store this start upgraded", e);
            return;
        }
        if (!others.isEmpty()) {
            LOG.warn("this start upgraded the shared store's schema from version {} to {} while {} node(s) ran on it: {};"
                    + " they run an older buildhook, which cannot open the upgraded schema (it refuses to start again)"
                    + " and may go on writing to it until it stops: stop them now and start them with this build"
                    + " (docs/deploying.md#upgrading, step 4: in a cluster, stop every node before the first new one"
                    + " starts)", store.upgradedFrom(), store.schemaVersion(), others.size(), String.join(", ", others));
        }
    }

    /**
     * Ends the jobs awaiting an approval whose rule or payload values as stored this build refuses, as the pick ends
     * queued ones of the same kind (tryout49 F6, review50 F2: an approval of them is refused, yet {@code jobs}, {@code status} and the metric said they
     * awaited one until their expiry, a day by default). A store that does not answer leaves them (debug): an approval
     * of one is refused all the same, and the next start looks again.
     */
    private void cancelRefusedApprovals() {
        try {
            for (org.buildhook.runner.store.Store.RefusedApproval job : store.cancelRefusedApprovals()) {
                LOG.warn("job {} of rule '{}' is not run, and ends CANCELLED: {}", job.jobId(), job.rule(),
                        job.message());
            }
        } catch (RuntimeException e) {
            LOG.debug("could not look for jobs awaiting an approval this build cannot give: {}", e.toString());
        }
    }

    /**
     * Before the first pick: the jobs a build from before 2026-12-02 put back due at the moment it cut them short get
     * the due time the current build keeps ({@link org.buildhook.runner.store.QueuePlaces}), so that they start before
     * the jobs queued after them, after an upgrade too (upgrade32). Never throws: a store that cannot be read leaves
     * them as they are, and they run all the same, later.
     */
    private void restoreQueuePlaces() {
        try {
            List<String> restored = store.queuePlaces().restore();
            if (!restored.isEmpty()) {
                LOG.info("{} job(s) cut short by a buildhook older than this one were queued behind the jobs stored after"
                        + " them; given back their place in the queue: {}", restored.size(),
                        restored.size() > 10 ? restored.subList(0, 10) + " …" : restored);
            }
        } catch (RuntimeException e) {
            LOG.warn("could not give jobs cut short by an older buildhook their place in the queue back; they run after"
                    + " the jobs stored after them: {}", e.getMessage());
        }
    }

    /**
     * Says which jobs the last graceful stop of this node cut short and that they run again (tryout18 F6):
     * the stop said it per job, but a start said nothing, and only {@code buildhook jobs} told that a
     * redeploy's or restart's interrupted deploy was running again. At most 10 named. On SQLite the stops of
     * this data folder's earlier nodes whatever their id (the default {@code <hostname>-<pid>} is new at every
     * start: tryout23 F2), one line per node; on PostgreSQL only this node id's. Never throws.
     */
    private void sayWhatRunsAgain() {
        List<ExecutionLedger.CutShortByStop> again;
        try {
            again = store.ledger().cutShortByStopOf(store.dialect() == Dialect.SQLITE ? null : config.nodeId(), 11);
        } catch (RuntimeException e) {
            LOG.debug("could not read which jobs the last stop of node {} cut short", config.nodeId(), e);
            return;
        }
        Map<String, List<ExecutionLedger.CutShortByStop>> byNode = new java.util.LinkedHashMap<>();
        again.forEach(job -> byNode.computeIfAbsent(job.node(), n -> new java.util.ArrayList<>()).add(job));
        boolean more = again.size() > 10;
        for (Map.Entry<String, List<ExecutionLedger.CutShortByStop>> stop : byNode.entrySet()) {
            List<ExecutionLedger.CutShortByStop> jobs = stop.getValue();
            StringBuilder listed = new StringBuilder();
            for (ExecutionLedger.CutShortByStop job : jobs.subList(0, Math.min(10, jobs.size()))) {
                listed.append(listed.length() == 0 ? "" : "; ").append("job ").append(job.jobId()).append(" of rule '")
                        .append(job.rule()).append('\'').append(job.buildId() == null ? "" : " (build " + job.buildId()
                                + ")").append(", as attempt ").append(job.attempt() + 1);
            }
            LOG.info("{} job(s) that the last stop of node {} cut short run again: {}{}",
                    more ? "more than 10" : jobs.size(), stop.getKey(), listed, more ? "; and more" : "");
        }
    }

    /**
     * Puts back in the queue the picks of this node that are stale now and were already stale, at the
     * same version, at the previous look (one heartbeat interval earlier). A single look cannot tell
     * a pick whose answer was lost from one whose answer reached this node just now, after a commit
     * that took seconds on a busy store, and whose thread is about to start it: that one would be
     * taken from its thread (its attempt then finds its pick lost and does not run the command) and
     * picked again, at every look while commits stay slow. By the second look such a thread has had
     * a whole heartbeat interval to start, and a started one is in {@code running}.
     */
    List<String> stalePicks(Set<String> running, Instant before) {
        Map<String, Long> lastLook = staleLastLook;
        Map<String, Long> thisLook = new java.util.concurrent.ConcurrentHashMap<>();
        List<String> released = store.ledger().releaseStalePicks(config.nodeId(), before, running,
                (jobId, version) -> {
                    thisLook.put(jobId, version);
                    return version.equals(lastLook.get(jobId));
                });
        released.forEach(thisLook::remove);
        staleLastLook = thisLook;
        return released;
    }

    private void sweepLeftovers() {
        // Whatever the store says: the cgroups this node's attempts left behind, their processes gone since.
        org.buildhook.runner.exec.Leftovers.endCgroupsLeftBehind();
        if (nodeIdLost) {
            return;
        }
        try {
            leftovers.sweepDeadNodes();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // The store is away: nothing runs without it either, and a job's own run sweeps first.
            LOG.debug("looking for leftovers of dead nodes failed; next time: {}", e.toString());
        }
    }

    /**
     * At the start, before the first pick: ends what an earlier run of this node left marked running in another PID
     * namespace of this host (a container started again), and puts those jobs back in the queue at once (tryout23 F4).
     * Never throws: when the store cannot be read, those jobs wait for the dead-node limit.
     */
    private void sweepEarlierRuns() {
        try {
            List<RunningAttempt> ended = leftovers.sweepEarlierRuns();
            for (DeadNodeRelease.Released r : store.deadNodes().releaseEarlierRuns(ended, config.inARow())) {
                released(r);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.debug("looking for the attempts of an earlier run in another PID namespace failed: {}", e.toString());
        }
    }

    /**
     * After the sweep: the executions of nodes of this host whose JVM is provably dead (and whose
     * leftovers the sweep killed) go back to the queue now. Returns whether any did.
     */
    private boolean releaseDeadNodes() {
        if (nodeIdLost) {
            return false;
        }
        try {
            List<DeadNodeRelease.Released> released = store.deadNodes().release(NodeIdentity.current(),
                    config.inARow(), config.nodeId(), ownPicksSince, config.deadNodeLimit());
            for (DeadNodeRelease.Released r : released) {
                released(r);
            }
            return !released.isEmpty();
        } catch (RuntimeException e) {
            // The store is away: db-scheduler's dead-node detection still revives them after the limit.
            LOG.debug("releasing the jobs of dead nodes failed; next time: {}", e.toString());
            return false;
        }
    }

    /**
     * SQLite, at the start: the picks of other node ids on which no attempt runs go back to the queue now, not after
     * the dead-node limit ({@link DeadNodeRelease#releaseOtherNodesPicks}, tryout33 F9). Never throws: when the store
     * cannot be read, db-scheduler's dead-node detection still revives them after the limit.
     */
    private void releaseOtherNodesPicks() {
        try {
            for (DeadNodeRelease.OtherNodesPick r : store.deadNodes().releaseOtherNodesPicks(config.nodeId())) {
                LOG.warn("job {}: {}", r.jobId(), r.describe(config.deadNodeLimit()));
            }
        } catch (RuntimeException e) {
            LOG.debug("releasing the picks of other node ids failed: {}", e.toString());
        }
    }

    /**
     * Logs the release of a dead node's job {@code r}: at WARN, or at DEBUG when the sweep already said at INFO that
     * the outcome this node's last stop kept for it is recorded now (the same event: tryout28 F8).
     */
    private void released(DeadNodeRelease.Released r) {
        String what = r.describe(config.heartbeatInterval().multipliedBy(config.missedHeartbeats()),
                leftovers.stops().containsJob(r.node(), r.jobId()));
        if (leftovers.saidRecorded(r.jobId(), 0)) {
            LOG.debug("job {}: {}", r.jobId(), what);
        } else {
            LOG.warn("job {}: {}", r.jobId(), what);
        }
    }

    private void fence() {
        try {
            fencing.check();
        } catch (RuntimeException e) {
            LOG.warn("self-fencing check failed; next time: {}", e.toString());
        }
    }

    /** The folders an attempt writes before its command: the payload folder, and the launcher's. */
    private static List<NodeFolders.Folder> nodeFolders(Store store, JobLauncher launcher) {
        List<NodeFolders.Folder> folders = new java.util.ArrayList<>();
        folders.add(new NodeFolders.Folder("the payload folder", store.payloadFolder(), true));
        folders.addAll(launcher.nodeFolders());
        return List.copyOf(folders);
    }

    /** This node cannot write its files: it picks no job until {@link NodeFilesWatch#recheck} finds it can. */
    private void pausePicking() {
        synchronized (picking) {
            scheduler.pause();
        }
    }

    /** This node can write its files again: it picks jobs again, unless it stops or lost its node id meanwhile. */
    private void resumePicking() {
        synchronized (picking) {
            if (!started || stopped || nodeIdLost || unclaimedWhy != null) {
                return;
            }
            scheduler.resume();
        }
        scheduler.triggerCheckForDueExecutions();
    }

    /**
     * Why this node starts no jobs now although it runs: it cannot write a folder an attempt needs before
     * its command starts (its payload file, its log, buildhook's own working directory), as an attempt
     * found (disk full, read-only, permissions). For instance {@code jobs do not start on this node: it
     * cannot write /var/lib/buildhook/payloads (/var/lib/buildhook/payloads/01X.json: No space left on
     * device)}. Empty while it can, and before any attempt found otherwise; looked at again every
     * polling interval while not empty. Deliveries are stored meanwhile as long as the store can write.
     * Also, for good, once its node id was taken over by another node ({@link #nodeIdTakenOver}); and, until its id
     * is claimed again, while its claim is gone from the store (forgotten by an operator) and its id's lock cannot be
     * asked ({@code jobs do not start on this node for now: its node id … is no longer claimed …}).
     */
    public Optional<String> jobsPaused() {
        Optional<String> lost = nodeIdTakenOver();
        if (lost.isPresent()) {
            return lost;
        }
        String unclaimed = unclaimedWhy;
        return unclaimed != null ? Optional.of(unclaimed) : files.problem();
    }

    /**
     * PostgreSQL: why this node takes no more jobs, for good, when another node took its {@code runner.node-id} over
     * (it was silent past the dead-node limit, and a node started with the id meanwhile): {@code jobs do not start on
     * this node: its node id node-4 was taken over by another node (host h, pid p), and two nodes must not run under
     * one id; give each node its own runner.node-id and restart this one}. Empty while the id is its own (tryout29
     * F1: such a node answered {@code /healthz} a plain "ok").
     */
    public Optional<String> nodeIdTakenOver() {
        return Optional.ofNullable(nodeIdLostWhy);
    }

    /**
     * PostgreSQL: why this node launches no job for now, while its claim of its {@code runner.node-id} is gone from the
     * store (an operator forgot it while it was silent) and the id's lock cannot be asked: {@code jobs do not start on
     * this node for now: its node id node-4 is no longer claimed in the store …}. Nothing would refuse a node started
     * with its id meanwhile, which would take this id's picks for its own. Empty once the id is claimed again (then
     * jobs start again), and while it is claimed (lock30).
     */
    public Optional<String> nodeIdUnclaimed() {
        return Optional.ofNullable(unclaimedWhy);
    }

    /**
     * The jobs whose commands this node killed itself (self-fencing: it could not write their heartbeats) since its
     * store last answered, by job id, with when; empty on SQLite, and once the store answers again. Other nodes run
     * them again after the dead-node limit.
     */
    public java.util.Map<String, java.time.Instant> fencedSinceTheStoreAnswered() {
        return fencing == null ? java.util.Map.of() : fencing.fenced();
    }

    /** This node's watchdog process, or null when it has none (SQLite, {@code runner.watchdog: off}, not started). */
    public Watchdog watchdog() {
        return watchdog;
    }

    /**
     * How many jobs run on this node now: their commands run (not those ended whose end is being recorded, even while
     * their thread has not seen the end yet: {@link #endsAwaitingRecord()}). 0 or more, at most {@code runner.threads}.
     */
    public int runningCount() {
        return running.commandsRunning();
    }

    /**
     * How many jobs of this node have a command that has ended here while their thread still records what it came to:
     * for a moment after each end, and for as long as the store is unavailable (the thread waits for it and tries
     * again). 0 or more, at most {@code runner.threads}; not counted in {@link #runningCount()} (tryout32 F5).
     */
    public int endsAwaitingRecord() {
        return running.awaitingTheirRecord();
    }

    /**
     * How the attempt of job {@code jobId} ended on this node when this node's graceful stop could not record it (the
     * store could not be reached, or took no write, until the stop's wait for it ended): the store shows it running
     * until the node's next start records it. Empty for any other job, and before such a stop (tryout45 F4: a log
     * follow ended by the stop said the job "is RUNNING" after its command had exited).
     *
     * @param jobId a job's id
     */
    public Optional<EndNotRecorded> endNotRecorded(String jobId) {
        return running.notRecorded(jobId);
    }

    public String nodeId() {
        return config.nodeId();
    }

    @Override
    public void close() {
        stop();
    }
}
