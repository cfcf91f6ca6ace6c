package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.CurrentlyExecuting;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.Watchdog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Self-fencing: a node that cannot renew the heartbeat of a running job kills that job's
 * processes itself, well before another node may take the job over.
 *
 * <p>db-scheduler takes an execution for dead, and lets any node run it again, once its last
 * heartbeat is older than {@code heartbeat interval × missed heartbeats} (the dead-node limit).
 * This check runs every quarter heartbeat interval; once an execution's last successful heartbeat
 * is {@value #FENCE_AT} of that limit old and its heartbeats fail, its command gets SIGKILL, with no
 * grace period. So its processes are gone about half the limit (minus a quarter interval) before
 * any other node may revive the job: 82.5 s before, with the defaults (30 s × 6). A heartbeat that
 * neither succeeds nor fails (a connection hung on a silent network) fences at
 * {@value #FENCE_AT_WHEN_LATE} of the limit: a heartbeat that is only late (a CPU-starved node)
 * should not kill jobs that early. The silence is measured on the monotonic clock ({@link System#nanoTime()}), not
 * the wall clock db-scheduler's heartbeat state reads: a step of the wall clock (chrony's makestep, a VM resumed, an
 * operator's {@code date -s}) fenced a healthy node's every job, blaming the store (review57b F1). Only where other
 * nodes may take over
 * (PostgreSQL); on SQLite no other node does, and a node that starts again kills what its
 * predecessor left ({@link LeftoverSweep}) first.
 */
final class Fencing {

    private static final Logger LOG = LoggerFactory.getLogger(Fencing.class);
    /** Fraction of the dead-node limit without a heartbeat after which the node kills the job. */
    static final double FENCE_AT = 0.5;
    /** The same, when no heartbeat has failed either (hung, or merely late). */
    static final double FENCE_AT_WHEN_LATE = 0.75;

    private final Supplier<List<CurrentlyExecuting>> executing;
    private final RunningJobs running;
    private final Duration limit;
    private final java.util.function.LongSupplier nanos;
    private final Supplier<Watchdog> watchdog;
    /**
     * Longest wait of a fencing line for the kill's outcome ({@link #say(List)}): an eighth of the dead-node limit, 1 s
     * to 10 s (a SIGKILL'd tree is gone within milliseconds; only a process that does not die outlasts it).
     */
    private final Duration outcomeWait;
    /** The jobs whose fence found nothing left to kill, said once each. */
    private final java.util.Set<String> saidEnded = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * The jobs a check fenced (or found gone) whose line waits for the watchdog's answer and the kill's outcome
     * ({@link #say}): the next
     * checks pass them by, so that nothing is said of them before that line.
     */
    private final java.util.Set<String> unsaid = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * The jobs this node fenced since its store last answered, with when: what its status page says while the store
     * does not answer (cluster27 F3: it said only that jobs start once the store answers).
     */
    private final java.util.Map<String, java.time.Instant> fenced = new java.util.concurrent.ConcurrentHashMap<>();
    /** When {@link #check()} last ran ({@link System#nanoTime()}), 0 before the first; on the fencing thread only. */
    private long lastCheck;
    /** When the check before this one began ({@link System#nanoTime()}), 0 before; on the fencing thread only. */
    private long lastCheckBegan;
    /** The clock db-scheduler's heartbeat states read (the host's wall clock). */
    private final Supplier<java.time.Instant> wall;
    /** What the checks saw of each execution's last successful heartbeat; on the fencing thread only. */
    private final java.util.Map<CurrentlyExecuting, Heartbeat> heartbeats = new java.util.IdentityHashMap<>();

    /**
     * An execution's last successful heartbeat as the checks saw it: when it was, on the monotonic clock ({@code
     * nanos}), and the earliest and latest wall-clock time it can have had by the reading that found it ({@code from},
     * {@code to}, epoch milliseconds). db-scheduler keeps only the wall-clock time, and says only how old it is by the
     * wall clock now: a later reading whose earliest time is past this one's latest is a new heartbeat.
     */
    private record Heartbeat(long nanos, long from, long to) {
    }
    /**
     * The last {@value #STALLS_KEPT} times this JVM itself did not run (a gap between two checks over a quarter of the
     * dead-node limit), each {@code {from, to}} in {@link System#nanoTime()}; on the fencing thread only. Kept, not
     * only seen by the check that follows one: a job said at a later check (its watchdog's kill report read a moment
     * after the wake) was blamed on the store (tryout30 F5).
     */
    private final java.util.ArrayDeque<long[]> stalls = new java.util.ArrayDeque<>();
    /** How many of this JVM's stalls {@link #stalls} keeps. */
    static final int STALLS_KEPT = 8;

    Fencing(Supplier<List<CurrentlyExecuting>> executing, RunningJobs running, EngineConfig config) {
        this(executing, running, config, java.time.Instant::now, System::nanoTime);
    }

    /**
     * As above, with {@code wall} for the clock db-scheduler's heartbeat states read and {@code nanos} for {@link
     * System#nanoTime()} (tests).
     */
    Fencing(Supplier<List<CurrentlyExecuting>> executing, RunningJobs running, EngineConfig config,
            Supplier<java.time.Instant> wall, java.util.function.LongSupplier nanos) {
        this(executing, running, config, wall, nanos, () -> null);
    }

    /**
     * As above, with {@code watchdog} for this node's watchdog (null while there is none): an attempt it has
     * already killed is not said to be killed now (cluster27 F6).
     */
    Fencing(Supplier<List<CurrentlyExecuting>> executing, RunningJobs running, EngineConfig config,
            Supplier<java.time.Instant> wall, java.util.function.LongSupplier nanos, Supplier<Watchdog> watchdog) {
        this.wall = wall;
        this.watchdog = watchdog;
        this.executing = executing;
        this.running = running;
        this.limit = config.heartbeatInterval().multipliedBy(config.missedHeartbeats());
        this.outcomeWait = Duration.ofMillis(Math.max(1_000, Math.min(limit.toMillis() / 8, 10_000)));
        this.nanos = nanos;
    }

    /** How often {@link #check()} must run: a quarter heartbeat interval, at least 50 ms. */
    static Duration every(EngineConfig config) {
        Duration quarter = config.heartbeatInterval().dividedBy(4);
        return quarter.compareTo(Duration.ofMillis(50)) < 0 ? Duration.ofMillis(50) : quarter;
    }

    /** Kills the commands of the executions whose heartbeat is too old to be sure this node still holds them. */
    void check() {
        // This check runs every quarter heartbeat interval (a sixteenth of the limit at most): a gap of a
        // quarter of the limit since the last one means this JVM itself did not run (paused, stalled), and
        // its heartbeats were late for that, whatever the store did (chaos15 F5).
        long now = nanos.getAsLong();
        if (lastCheck != 0 && (now - lastCheck) / 1_000_000 > limit.toMillis() / 4) {
            stalls.addLast(new long[] {lastCheck, now});
            if (stalls.size() > STALLS_KEPT) {
                stalls.removeFirst();
            }
        }
        lastCheck = now;
        long began = lastCheckBegan;
        lastCheckBegan = now;
        List<CurrentlyExecuting> executingNow = executing.get();
        saidEnded.retainAll(executingNow.stream().map(c -> c.getTaskInstance().getId()).toList());
        heartbeats.keySet().removeIf(c -> executingNow.stream().noneMatch(e -> e == c));
        List<Said> said = new java.util.ArrayList<>();
        for (CurrentlyExecuting current : executingNow) {
            double dead = silence(current, now, began) / (double) limit.toNanos();
            boolean failing = current.getHeartbeatState().getFailedHeartbeats() > 0;
            if (dead < (failing ? FENCE_AT : FENCE_AT_WHEN_LATE)) {
                continue;
            }
            String jobId = current.getTaskInstance().getId();
            if (unsaid.contains(jobId)) {
                continue;
            }
            long without = (long) (dead * limit.toMillis());
            // Every line of one pause says the same: how much of this job's silence the JVM did not run, whichever
            // check says it (tryout30 F5), and a heartbeat refused after the wake (another node took the job over
            // meanwhile, db-scheduler counts that as a failed one) does not make it the store's.
            long stalledMillis = stalledMillis(now - without * 1_000_000, now);
            boolean stalled = stalledMillis > limit.toMillis() / 4;
            String cause = stalled ? "this node's JVM itself did not run for " + stalledMillis + " ms of that (paused"
                    + " or stalled), not necessarily the store" : "the store" + (failing ? " is unreachable" : " does not answer");
            String silence = "no heartbeat could be written for " + without + " ms (" + cause + "), and after "
                    + limit.toMillis() + " ms another node may run the job";
            String gone = alreadyGone(jobId);
            if (gone != null && fenced.containsKey(jobId)) {
                // Its end is this node's own kill, whose line said so: a second line "its command had already ended
                // (cancelled at …)" read as an operator's cancel gone through (tryout46 F4), while it had been refused.
                saidEnded.add(jobId);
                continue;
            }
            if (gone != null) {
                // Nothing left to kill: "its processes are killed now" read as a command cut short, or killed twice
                // (cluster27 F4, F6). Not fenced either: its own end (or the watchdog's kill) is what is recorded.
                if (saidEnded.add(jobId)) {
                    said.add(new Said(jobId, null, silence, stalled, gone, null));
                }
                continue;
            }
            String why = "killed by its own node: " + silence;
            // Taken before the kill: the command may have exited by itself before it, its exit not seen yet (the
            // JVM's process reaper runs after this check on waking: tryout34 F1); its outcome then says so.
            CompletableFuture<JobOutcome> ends = running.outcome(jobId);
            if (running.fence(jobId, why)) {
                said.add(new Said(jobId, why, silence, stalled, null, ends));
            }
        }
        // Killed first, said after: the watchdog may have killed the job's processes while this JVM was paused, its
        // report still unread in the pipe (read some 70 ms after the wake): "its processes are killed now" was then
        // untrue, and read as a command killed late (tryout30 F5). So the watchdog is asked before the words, and the
        // kill's outcome awaited (the command may have exited by itself before the kill, its exit seen only after this
        // check: tryout34 F1); neither is waited for here (review31 L2: the next check, other jobs' fences, waited
        // behind it).
        if (!said.isEmpty()) {
            say(said);
        }
        // This check's own work (its kills) is no pause of this JVM.
        lastCheck = nanos.getAsLong();
    }

    /**
     * How long {@code current} has been without a successful heartbeat, in nanoseconds of the monotonic clock: since the
     * heartbeat the checks last saw succeed. A new one is seen when the wall-clock time db-scheduler keeps of it moved
     * past the one seen before; it is placed on the monotonic clock by its age on the wall clock now, within the time
     * since the check before ({@code began}, after which it happened): a step of the wall clock in between moves it by
     * at most that much, and a step at any other time not at all. A step forward while the wall clock is read here (a
     * few microseconds) could pass for a heartbeat, delaying the fence by one check.
     */
    private long silence(CurrentlyExecuting current, long now, long began) {
        long before = wall.get().toEpochMilli();
        double fraction = current.getHeartbeatState().getFractionDead();
        long after = wall.get().toEpochMilli();
        long ageMillis = Math.round(fraction * limit.toMillis());
        // The heartbeat's wall-clock time lies between these (1 ms for the rounding of db-scheduler's fraction).
        long from = before - ageMillis - 1;
        long to = after - ageMillis + 1;
        Heartbeat seen = heartbeats.get(current);
        if (after < before) {
            // The wall clock went back while it was read: nothing is learnt from this reading.
            return seen == null ? 0 : now - seen.nanos();
        }
        if (seen == null || from > seen.to()) {
            // After the check before this one began: it had not seen this heartbeat (nor, if it is the pick's, the
            // execution); the very first check has no such bound.
            long at = now - Math.max(0, ageMillis) * 1_000_000;
            if (began != 0) {
                at = Math.max(at, began);
            }
            seen = new Heartbeat(Math.min(at, now), from, to);
            heartbeats.put(current, seen);
        }
        return now - seen.nanos();
    }

    /**
     * What {@link #check()} says of one job: fenced now ({@code why}, the attempt's message), or found with nothing left
     * to kill ({@code gone}, what became of it); with its silence, and whether this JVM's pause took in that silence;
     * and, for one fenced, its command's outcome to come ({@code ends}, null when not known), which says whether the
     * kill met a command that had already exited by itself.
     */
    private record Said(String jobId, String why, String silence, boolean stalled, String gone,
            CompletableFuture<JobOutcome> ends) {
    }

    /**
     * Says what {@link #check()} found, in its order: of a job fenced, that its processes are killed now, or, when
     * this node's watchdog had already killed them, that, or, when its command had exited by itself before the kill
     * (its exit seen only after the check: tryout34 F1), that; such a job is not counted among those this node fenced.
     * When a job was fenced, the lines are said once its watchdog (if one runs) has answered whether it killed them
     * (at most its answer's bound, {@link Watchdog#ask}) and then the kill's outcome is known (at most {@link
     * #outcomeWait}), by the thread that completes the last of those: the fencing thread never waits for them.
     */
    private void say(List<Said> jobs) {
        Watchdog guard = watchdog.get();
        java.util.Map<String, AttemptMarker> markers = new java.util.HashMap<>();
        if (guard != null) {
            for (Said job : jobs) {
                Integer attempt = job.why() == null ? null : running.attempt(job.jobId());
                if (attempt != null) {
                    markers.put(job.jobId(), AttemptMarker.of(job.jobId(), attempt));
                }
            }
        }
        if (jobs.stream().allMatch(job -> job.why() == null)) {
            say(jobs, markers, java.util.Map.of(), java.util.Map.of());
            return;
        }
        jobs.forEach(job -> unsaid.add(job.jobId()));
        CompletableFuture<java.util.Map<AttemptMarker, Watchdog.Kill>> answer = markers.isEmpty()
                ? CompletableFuture.completedFuture(java.util.Map.of()) : guard.ask(markers.values());
        answer.exceptionally(failure -> java.util.Map.of()).thenCompose(kills -> {
            java.util.Map<AttemptMarker, Watchdog.Kill> known = kills == null ? java.util.Map.of() : kills;
            // The kill's outcome, but for a job its watchdog had killed (that kill is what happened) and for a bound:
            // a process that does not die (a hung kernel call) must not keep its line unsaid.
            java.util.Map<String, CompletableFuture<JobOutcome>> ends = new java.util.HashMap<>();
            for (Said job : jobs) {
                AttemptMarker marker = markers.get(job.jobId());
                if (job.ends() != null && (marker == null || !known.containsKey(marker))) {
                    ends.put(job.jobId(), job.ends().copy().completeOnTimeout(null, outcomeWait.toNanos(),
                            java.util.concurrent.TimeUnit.NANOSECONDS));
                }
            }
            return CompletableFuture.allOf(ends.values().toArray(CompletableFuture[]::new)).handle((done, failure) -> {
                java.util.Map<String, JobOutcome> outcomes = new java.util.HashMap<>();
                ends.forEach((jobId, end) -> {
                    JobOutcome outcome = end.isCompletedExceptionally() ? null : end.getNow(null);
                    if (outcome != null) {
                        outcomes.put(jobId, outcome);
                    }
                });
                say(jobs, markers, known, outcomes);
                return null;
            });
        }).whenComplete((done, failure) -> {
            jobs.forEach(job -> unsaid.remove(job.jobId()));
            if (failure != null) {
                LOG.warn("could not say what self-fencing did of jobs {}: {}", jobs.stream().map(Said::jobId).toList(),
                        failure.toString());
            }
        });
    }

    /**
     * {@link #say(List)} once the watchdog's kills of the attempts ({@code markers}, by job) and the outcomes of the
     * fenced jobs' commands ({@code outcomes}, by job; those not known within the bound left out) are known.
     */
    private void say(List<Said> jobs, java.util.Map<String, AttemptMarker> markers,
            java.util.Map<AttemptMarker, Watchdog.Kill> kills, java.util.Map<String, JobOutcome> outcomes) {
        for (Said job : jobs) {
            AttemptMarker marker = markers.get(job.jobId());
            Watchdog.Kill kill = marker == null ? null : kills.get(marker);
            String gone = kill != null ? killedByWatchdog(kill) : job.gone();
            if (gone != null) {
                // As a later check would say it (alreadyGone), once: the next checks find the same and say nothing.
                saidEnded.add(job.jobId());
                LOG.warn("job {}: {}; {}: nothing is left to kill, and its end is recorded {}", job.jobId(),
                        job.silence(), gone, recorded(job));
                continue;
            }
            String exited = job.why() == null ? null : exitedByItself(outcomes.get(job.jobId()));
            if (exited != null) {
                // The kill met a command that had already exited (its exit seen only after the check): it keeps its own
                // outcome, which its record says; "killed" here contradicted it (tryout34 F1).
                saidEnded.add(job.jobId());
                LOG.warn("job {}: {}; its command had already ended by itself ({}) before this node's kill: only what it"
                        + " left running, if anything, is killed, and its end is recorded {}", job.jobId(),
                        job.silence(), exited, recorded(job));
                continue;
            }
            fenced.put(job.jobId(), java.time.Instant.now());
            LOG.warn("job {}: {}; its processes are killed now (self-fencing); it runs again {}", job.jobId(),
                    job.why(), job.stalled() ? "on the next pick" : "once the store answers");
        }
    }

    /**
     * When the end of a job found with nothing left to kill is recorded: once the store answers; or, when this JVM's own
     * pause took in the silence, as the node runs again (tryout45 F2: "once the store answers" blamed a store that was
     * fine, the JVM alone having been paused), unless the store does not answer either.
     */
    private static String recorded(Said job) {
        return job.stalled() ? "now that this node runs again (or once the store answers, if it does not)"
                : "once the store answers";
    }

    /**
     * How a fenced command's outcome says it ended by itself ({@code exited with 0}), as its record will (a kill of a
     * program that had exited keeps its own outcome, {@link org.buildhook.runner.exec.RunningJob#cancel()}); null when
     * it was killed, or its outcome is not known.
     */
    private static String exitedByItself(JobOutcome outcome) {
        if (outcome == null || outcome.exitCode() == null || (outcome.result() != JobOutcome.Result.SUCCEEDED
                && outcome.result() != JobOutcome.Result.FAILED)) {
            return null;
        }
        return "exited with " + outcome.exitCode();
    }

    /**
     * How long this JVM did not run between {@code from} and {@code to} ({@link System#nanoTime()}), by the stalls
     * kept: in milliseconds, 0 or more.
     */
    private long stalledMillis(long from, long to) {
        long stalled = 0;
        for (long[] stall : stalls) {
            stalled += Math.max(0, Math.min(stall[1], to) - Math.max(stall[0], from));
        }
        return stalled / 1_000_000;
    }

    /** What became of an attempt the watchdog killed, in a fencing line. */
    private static String killedByWatchdog(Watchdog.Kill kill) {
        return "its processes were already killed by this node's watchdog at " + kill.at();
    }

    /** The jobs fenced since the store last answered ({@link #storeAnswered}), by job id, with when. */
    java.util.Map<String, java.time.Instant> fenced() {
        return java.util.Map.copyOf(fenced);
    }

    /** The store answered (this node renewed its claim): the jobs fenced before are no longer news. */
    void storeAnswered() {
        fenced.clear();
    }

    /**
     * What became of the job's command if nothing of it is left to kill: its watchdog's kill, or its own end
     * ({@code its command had already ended: exited with 0 at …}); null while it runs.
     */
    private String alreadyGone(String jobId) {
        Watchdog guard = watchdog.get();
        Integer attempt = running.attempt(jobId);
        if (guard != null && attempt != null) {
            Watchdog.Kill kill = guard.killed(AttemptMarker.of(jobId, attempt));
            if (kill != null) {
                return killedByWatchdog(kill);
            }
        }
        JobOutcome ended = running.endedWith(jobId);
        if (ended == null) {
            return null;
        }
        if (ended.exitCode() == null && running.fencedFor(jobId) != null) {
            // Killed by this node's own fencing (a fence whose line was said before the store last answered, or the
            // fence of every job when this node's id was taken over), not cancelled by anyone (tryout46 F4).
            return "its processes were already killed by this node (self-fencing" + (ended.ended() == null ? ")"
                    : ") at " + ended.ended());
        }
        String how = ended.exitCode() != null ? "exited with " + ended.exitCode()
                : ended.result().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        return "its command had already ended (" + how + (ended.ended() == null ? "" : " at " + ended.ended())
                + ") and its end could not be recorded";
    }
}
