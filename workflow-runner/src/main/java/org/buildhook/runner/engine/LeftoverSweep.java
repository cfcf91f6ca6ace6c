package org.buildhook.runner.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.exec.Leftovers;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.NodeEnd;
import org.buildhook.runner.store.RunningAttempt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills what a dead node left running on this host, before its jobs run again: the store records,
 * for every running attempt, the host boot and the JVM of its node and the attempt's first process;
 * every process of an attempt carries its {@link AttemptMarker}. A node sweeps when it starts
 * (before it picks any job), every heartbeat interval (so a node killed beside a live one has its
 * leftovers ended long before the dead-node limit lets its jobs run elsewhere), and before it runs
 * a job whose previous attempt is still marked running on this host.
 *
 * <p>An attempt of another host is not touched: its own node kills it (self-fencing), or its host
 * died with it, or a node that starts again there kills it.
 */
final class LeftoverSweep {

    private static final Logger LOG = LoggerFactory.getLogger(LeftoverSweep.class);
    /** Between SIGTERM and SIGKILL for leftovers. */
    static final long GRACE_MILLIS = 5_000;

    private final ExecutionLedger ledger;
    private final String node;
    private final NodeIdentity self = NodeIdentity.current();
    /**
     * What this node killed of an attempt whose record then failed (the store could not write: a
     * full disk, an outage), by the attempt's marker value ({@code job id/attempt}): said by the
     * record of a later try, which finds nothing left to kill, instead of "none of its processes was
     * left" (tryout12 F3).
     */
    private final Map<String, List<String>> killedNotRecorded = new ConcurrentHashMap<>();
    /** The keys of {@link #killedNotRecorded} already said once at WARN. */
    private final Set<String> warnedNotRecorded = ConcurrentHashMap.newKeySet();

    /**
     * The jobs ({@code job id/attempt}) whose attempt's outcome kept by this node's last stop was recorded by
     * {@link #recordKnownOutcomes} and said there, at INFO: the sweep of that attempt, the release of its dead node and
     * the job's conclusion say the same event again, so at DEBUG only (tryout28 F8: one event, four lines, three WARNs,
     * for a job that ended as designed).
     */
    private final Set<String> saidRecorded = ConcurrentHashMap.newKeySet();
    /**
     * The keys of kept outcomes whose record the store refuses now ({@link #recordKnownOutcome}), with the refusal's
     * count and times, for its words: said at WARN when it begins, and again every {@link StoreOutageWait#SAID_AGAIN}.
     */
    private final Map<String, Refusal> refused = new ConcurrentHashMap<>();
    /**
     * By key, the version at which this node holds the execution of a job whose kept outcome the store refuses ({@link
     * ExecutionLedger#holdKeptOutcomesPick}): put back in the queue once the record goes through.
     */
    private final Map<String, Long> held = new ConcurrentHashMap<>();
    /** Whether a thread of this node runs a job now (its engine's), by job id. */
    private volatile java.util.function.Predicate<String> executing = jobId -> false;
    /** This host's clock, the one its engine's reach of the store ({@link StoreReach}) is kept by. */
    private volatile java.time.Clock hostClock = java.time.Clock.systemUTC();

    /** How long the store has refused the record of a kept outcome, and when that was said last. */
    private static final class Refusal {
        final java.time.Instant since;
        java.time.Instant said;
        int tries;

        Refusal(java.time.Instant since) {
            this.since = since;
            this.said = since;
        }
    }

    /** The time of the refusals' words ({@link #refused}): the engine's clock. */
    private final java.time.Clock clock;

    /** What this node's last stop cut short without recording it (tryout20 F2). */
    private final StopsNotRecorded stops;
    /** Held while an outcome {@link #stops} kept is recorded, by the sweep or by a job's pick ({@link #beforePick}). */
    private final Object recording = new Object();
    /** Whether {@link #takeBackDeaths} was done, at the first sweep that reached the store; on the sweeping thread. */
    private volatile boolean deathsTakenBack;
    /** The jobs whose noted attempts' deaths {@link #beforePick} took back before {@link #takeBackDeaths} was done. */
    private final Set<String> deathsTakenBackOf = ConcurrentHashMap.newKeySet();

    /** The bounds of this node on its jobs' attempts cut short in a row, for the words of the attempts it ends. */
    private final ExecutionLedger.InARow inARow;
    /** Since when this node reaches the store without a break; {@code null} where no other node runs jobs (SQLite). */
    private final StoreReach reach;
    /** The dead-node limit, counted from this node's return to the store for another node's attempts ({@link #reach}). */
    private final java.time.Duration deadNodeLimit;
    /**
     * Whether this node's start is over ({@link #startDone}): only then does a sweep's answer from the store count in
     * {@link #reach}. The start's own work between its claim and its end (beforeJobs, the sweeps) is no break in its
     * reach of the store (review28 R4), and the start's sweep came before the engine said so (SlowStartNotABreakTest).
     */
    private volatile boolean started;

    LeftoverSweep(ExecutionLedger ledger, String node) {
        this(ledger, node, StopsNotRecorded.none(node));
    }

    /** @param stops what this node's last stop cut short and could not record, read from its data folder */
    LeftoverSweep(ExecutionLedger ledger, String node, StopsNotRecorded stops) {
        this(ledger, node, stops, ExecutionLedger.InARow.DEFAULT);
    }

    /**
     * @param stops   what this node's last stop cut short and could not record, read from its data folder
     * @param inARow  this node's {@code runner.deaths-in-a-row} and {@code runner.stops-in-a-row}: an attempt whose end
     *                makes such a row is said not to run again (tryout22 F1)
     */
    LeftoverSweep(ExecutionLedger ledger, String node, StopsNotRecorded stops, ExecutionLedger.InARow inARow) {
        this(ledger, node, stops, inARow, null, java.time.Duration.ZERO);
    }

    /**
     * @param reach         since when this node reaches the store without a break, or {@code null} where no other node
     *                      can run a job (SQLite)
     * @param deadNodeLimit the dead-node limit (heartbeat interval × missed heartbeats): how long after this node's own
     *                      return to the store another node of this host whose JVM is gone keeps its attempts
     */
    LeftoverSweep(ExecutionLedger ledger, String node, StopsNotRecorded stops, ExecutionLedger.InARow inARow,
            StoreReach reach, java.time.Duration deadNodeLimit) {
        this(ledger, node, stops, inARow, reach, deadNodeLimit, java.time.Clock.systemUTC());
    }

    /** @param clock the time of what it says every minute while the store refuses a kept outcome (its engine's) */
    LeftoverSweep(ExecutionLedger ledger, String node, StopsNotRecorded stops, ExecutionLedger.InARow inARow,
            StoreReach reach, java.time.Duration deadNodeLimit, java.time.Clock clock) {
        this.clock = clock;
        this.ledger = ledger;
        this.node = node;
        this.stops = stops;
        this.inARow = inARow;
        this.reach = reach;
        this.deadNodeLimit = deadNodeLimit;
    }

    /** Where this node notes an attempt its stop cut short and could not record, for its next start's words. */
    StopsNotRecorded stops() {
        return stops;
    }

    /**
     * Whether the attempt's node, the last to use this data folder, noted that its stop cut {@code attempt} short and
     * could not record it, or had begun under it when the node was killed (not a death). Any node id: the default one
     * is another at every start.
     */
    private boolean stopped(RunningAttempt attempt) {
        return stopped(attempt, stops);
    }

    /** As {@link #stopped(RunningAttempt)}, as {@code notes} (a data folder's stops-not-recorded) has it. */
    private static boolean stopped(RunningAttempt attempt, StopsNotRecorded notes) {
        return notes.contains(attempt.node(), attempt.jobId(), attempt.attempt())
                || notes.begunUnder(attempt.node(), attempt.jobId(), attempt.attempt());
    }

    /**
     * How an attempt whose node is gone ended, as far as this node can know: its own last stop noted in its data
     * folder the attempts it cut short and could not record (the store could not be reached), and, as it began, the
     * attempts it was about to cut short (a node killed during its stop), which were not a death.
     */
    private String gone(RunningAttempt attempt, String otherwise) {
        return gone(attempt, otherwise, stops);
    }

    /** As {@link #gone(RunningAttempt, String)}, as {@code stops} (a data folder's stops-not-recorded) noted it. */
    private static String gone(RunningAttempt attempt, String otherwise, StopsNotRecorded stops) {
        if (!stopped(attempt, stops)) {
            return otherwise;
        }
        if (stops.outcome(attempt.node(), attempt.jobId(), attempt.attempt()).isPresent()) {
            // What it had come to is said once, by what follows ("not run again: it had exited with 0"), and by the
            // job's pick that concludes it ("exited with 0; then …"); when, by the attempt's end (outcome21).
            return "its node " + attempt.node() + " was stopped after the attempt ended, and the stop could not record"
                    + " its end (the store could not be reached)";
        }
        Optional<StopsNotRecorded.Cut> cut = stops.cut(attempt.node(), attempt.jobId(), attempt.attempt());
        if (cut.isPresent() && cut.get().fenced() != null) {
            // Its node had killed it itself (self-fencing): its own words, as its record would have been (outcome21).
            // "; run again" ended a node-id takeover's words in notes written before they stopped saying a fate.
            return cut.get().fenced().replaceFirst("; run again$", "") + " (self-fencing"
                    + (cut.get().ended() == null ? "" : ", at " + cut.get().ended()) + "); its node " + attempt.node()
                    + " then stopped before it could record this (the store could not be reached)";
        }
        return stops.contains(attempt.node(), attempt.jobId(), attempt.attempt())
                ? "its node " + attempt.node() + " was stopped before the attempt ended, and the stop could not record its end"
                        + " (the store could not be reached)"
                : "its node " + attempt.node() + " was killed during its stop, before the stop could record the attempt's end"
                        // Why it was killed, this start cannot know: a stop timeout shorter than the stop, an
                        // operator's kill -9, the OOM killer, a host going down (tryout50 F11). Only an example.
                        + " (for example a stop timeout shorter than the stop, or a kill -9: docs/deploying.md,"
                        + " \"Stopping: the stop timeout\")";
    }

    /** {@code its command exited 0 at 2026-…Z}: what a stop knew of an attempt it could not record. */
    private static String describe(StopsNotRecorded.Known known) {
        String what = switch (known.result()) {
            case TIMED_OUT -> "its command timed out";
            case CANCELLED -> "it was cancelled";
            default -> "its command exited " + known.exitCode();
        };
        return what + (known.ended() == null ? "" : " at " + known.ended());
    }

    /**
     * Records what the last stop in this data folder knew of the attempts it could not record (tryout21 F3), while
     * the store still shows each as its job's latest attempt, running on that node; says plainly when another node
     * took the job over meanwhile (and ran it again). Each once; kept for the next sweep if the store cannot be reached.
     */
    private void recordKnownOutcomes() {
        for (String key : stops.outcomesToRecord().keySet()) {
            try {
                recordKnownOutcome(key);
            } catch (KeptOutcomeRefused e) {
                // Said once (recordKnownOutcome); the others, and the sweep of dead nodes' leftovers, go on.
                LOG.debug("{}", e.getMessage());
            }
        }
    }

    /**
     * The store refuses, with an error that is no outage (a trigger, a constraint, the role's privileges), the record of
     * an outcome the last stop kept ({@link #recordKnownOutcome}): said in buildhook's words as it begins and every
     * minute while it lasts (review54 F3: db-scheduler's WARN and stack trace at every retry, and nothing saying what
     * the job waited for), tried again by every sweep and every pick of the job; the job's execution stays picked by
     * this node meanwhile, its heartbeat renewed by the sweep ({@link ExecutionLedger#holdKeptOutcomesPick}), so that
     * no other node takes the job over and runs its command again while this one runs (review54 N1).
     */
    static final class KeptOutcomeRefused extends org.buildhook.runner.RunnerException {
        private static final long serialVersionUID = 1L;

        KeptOutcomeRefused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Before this node's pick of job {@code jobId} looks at what the job's last attempt came to ({@link
     * ExecutionLedger#decided}) and starts its next one: records what the last stop in this data folder kept of the
     * job's attempts, as the sweep does ({@link #recordKnownOutcomes}, {@link #takeBackDeaths}), so that the pick
     * concludes from the outcome the stop kept instead of running the command again, and counts the attempts that stop
     * cut short as stops, not deaths, in the rows that end a job. The sweep at the start does it for every job, but
     * when the store cannot take writes then (a full disk) it is only tried again every heartbeat interval, and the
     * job's execution, revived after the dead-node limit, could be picked first once the store took writes again: the
     * command ran again and its kept exit was recorded late, in the attempt's history only (stopnote43, stopnote44).
     * No store call for a job the file does not name, nor again once done for the job or by the sweep.
     *
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached (then tried again
     *                                                              by the pick's wait, or the sweep)
     */
    void beforePick(String jobId) {
        beforePick(jobId, false);
    }

    /**
     * As {@link #beforePick(String)}; and, for a job whose last attempt is still marked running ({@code running}: the
     * job is {@code RUNNING}, its execution revived after the dead-node limit), records the outcome that the attempt's
     * node, gone from this host, noted in its own data folder at its stop ({@link #recordNotedInItsFolder}), as that
     * node's next start would have: the pick then concludes from it instead of running the command again. One store
     * read for such a job only, and only where other nodes' folders are read ({@link #readsFoldersOf}, PostgreSQL).
     *
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached
     * @throws KeptOutcomeRefused when the store refuses the record of what the last stop kept of the job
     */
    void beforePick(String jobId, boolean running) {
        if (running && readsFolders) {
            recordNotedInItsFolder(jobId);
        }
        if (stops.anyToRecord()) {
            for (String key : stops.outcomesToRecord().keySet()) {
                if (jobOf(key).equals(jobId)) {
                    recordKnownOutcome(key);
                }
            }
        }
        if (deathsTakenBack || deathsTakenBackOf.contains(jobId)) {
            return;
        }
        for (String noted : stops.noted()) {
            if (jobOf(noted).equals(jobId)) {
                takeBackDeath(noted);
            }
        }
        deathsTakenBackOf.add(jobId);
    }

    /** The job id of a key of {@link StopsNotRecorded} ({@code <node id> <job id> <attempt>}). */
    private static String jobOf(String key) {
        String[] words = key.split(" ");
        return words.length < 3 ? "" : words[1];
    }

    /**
     * Records the outcome the last stop kept of {@code key} ({@code <node id> <job id> <attempt>}), unless recorded
     * already: one at a time, by the sweep or by a job's pick ({@link #beforePick}), so that neither records it twice
     * nor goes on before the other's record is committed.
     */
    private void recordKnownOutcome(String key) {
        synchronized (recording) {
            Optional<StopsNotRecorded.Known> toRecord = stops.toRecord(key);
            if (toRecord.isEmpty()) {
                return;
            }
            String by = StopsNotRecorded.nodeOf(key); // review37 F3: the id as configured
            String jobId = jobOf(key);
            int attempt;
            try {
                attempt = Integer.parseInt(key.split(" ")[2]);
            } catch (NumberFormatException e) {
                stops.taken(key);
                return;
            }
            StopsNotRecorded.Known known = toRecord.get();
            org.buildhook.runner.exec.Decision decision = new org.buildhook.runner.exec.Decision(known.result(),
                    known.exitCode(), known.logFile());
            boolean recorded;
            try {
                recorded = ledger.recordKnownOutcome(jobId, attempt, by, decision, known.ended());
            } catch (RuntimeException e) {
                if (StoreOutages.passes(e)) {
                    throw e; // waited out, or tried again by the next sweep, as ever
                }
                String what = "job " + jobId + " attempt " + attempt + ": " + describe(known) + " before node " + by
                        + " stopped, which could not record it then; the store refuses to record it now ("
                        + e.getMessage() + ")";
                // While this node holds the outcome, the job stays picked by it: handed back to the queue, a node of
                // another host picked it and ran the command again (review54 N1). Tried again by every sweep.
                boolean holds = hold(key, jobId, attempt, by);
                java.time.Instant now = clock.instant();
                Refusal refusal = refused.computeIfAbsent(key, k -> new Refusal(now));
                refusal.tries++;
                if (refusal.tries == 1) {
                    LOG.warn("{}: its command is not run again meanwhile{}; the record is tried again every heartbeat"
                            + " interval, said every minute while the store refuses it and once it goes through. Look"
                            + " at what the store says: a trigger, a constraint, the role's privileges", what,
                            holds ? ", and the job stays with this node (no other node takes it over while this one"
                                    + " runs)" : "", e);
                } else if (!now.isBefore(refusal.said.plus(StoreOutageWait.SAID_AGAIN))) {
                    refusal.said = now;
                    LOG.warn("{}: refused {} times in {} s; the job {}, its command is not run again, and the record"
                            + " is tried again every heartbeat interval", what, refusal.tries,
                            java.time.Duration.between(refusal.since, now).toSeconds(), holds
                                    ? "stays with node " + node + " (no other node takes it over while this one runs)"
                                    : "waits");
                }
                throw new KeptOutcomeRefused(what, e);
            }
            Long heldAt = held.remove(key);
            if (heldAt != null && !executing.test(jobId)) {
                // Held while refused: back in the queue now, for a pick that concludes the job from what is recorded.
                try {
                    ledger.releaseKeptOutcomesPick(jobId, node, heldAt);
                } catch (RuntimeException e) {
                    LOG.debug("job {}: could not put it back in the queue now (then after the dead-node limit): {}", jobId,
                            e.toString());
                }
            }
            if (recorded) {
                saidRecorded.add(jobId + "/" + attempt);
                if (refused.remove(key) != null) {
                    LOG.info("job {} attempt {}: the store took the record it had refused", jobId, attempt);
                }
                LOG.info("job {} attempt {}: {} before node {} stopped, which could not record it then; recorded now:"
                        + " the job goes on from that outcome, and its command is not run again", jobId, attempt,
                        describe(known), by);
            } else {
                Optional<ExecutionLedger.LatestAttempt> later = ledger.latestAttempt(jobId)
                        .filter(a -> a.attempt() > attempt);
                String since = later.map(a -> "; the job was taken over meanwhile: it ran again on node " + a.node()
                        + " (attempt " + a.attempt() + ", " + a.outcome() + ")").orElse("");
                // Another node recorded it cut short (it took the node for gone): the attempt's row says what is
                // known, as the attempt's node records it when it stayed up (cluster27 F11); the job stays as is.
                Optional<String> late = ledger.recordLateOutcome(jobId, attempt, by, decision, known.ended(),
                        was -> lateOutcome(known, by, later, was));
                if (late.isPresent()) {
                    LOG.warn("job {} attempt {}: {} before node {} stopped, which could not record it then; recorded"
                            + " now in the attempt's history only{}; the job keeps the state that came after, and"
                            + " nothing runs again", jobId, attempt, describe(known), by,
                            later.isPresent() ? since : "; the job had ended meanwhile");
                } else {
                    LOG.warn("job {} attempt {}: {} before node {} stopped, which could not record it then; not"
                            + " recorded now{}", jobId, attempt, describe(known), by, later.isPresent() ? since
                            : "; the store already had the attempt's end, or the job is gone");
                }
                refused.remove(key);
            }
            stops.taken(key);
        }
    }

    /**
     * Keeps the execution of attempt {@code attempt}'s job picked by this node, its heartbeat renewed, while the store
     * refuses the record of what its stop kept ({@link ExecutionLedger#holdKeptOutcomesPick}); never throws.
     *
     * @return whether this node holds it
     */
    private boolean hold(String key, String jobId, int attempt, String by) {
        long version;
        try {
            version = ledger.holdKeptOutcomesPick(jobId, attempt, by, node);
        } catch (RuntimeException e) {
            LOG.debug("job {}: could not keep it picked by this node: {}", jobId, e.toString());
            return held.containsKey(key);
        }
        if (version < 0) {
            held.remove(key);
            return false;
        }
        held.put(key, version);
        return true;
    }

    /**
     * Whether this node holds the execution of job {@code jobId} because the store refuses the record of what its last
     * stop kept of the job's attempt ({@link #recordKnownOutcome}): its pick then leaves it picked here.
     */
    boolean holds(String jobId) {
        return held.keySet().stream().anyMatch(key -> jobOf(key).equals(jobId));
    }

    /** The jobs whose execution this node holds while the store refuses a kept outcome of theirs ({@link #holds}). */
    Set<String> heldJobs() {
        Set<String> jobs = new java.util.HashSet<>();
        held.keySet().forEach(key -> jobs.add(jobOf(key)));
        return jobs;
    }

    /** Whether the store refuses now the record of what this node's last stop kept of {@code attempt}. */
    private boolean refusedNow(RunningAttempt attempt) {
        return refused.keySet().stream().anyMatch(key -> jobOf(key).equals(attempt.jobId())
                && key.endsWith(" " + attempt.attempt()));
    }

    /** Tells this sweep which jobs a thread of its engine runs now (not put back in the queue under it). */
    void executing(java.util.function.Predicate<String> executing) {
        this.executing = executing;
    }

    /** Tells this sweep its host's clock (the system clock; another only in tests, for a host whose clock is off). */
    void hostClock(java.time.Clock clock) {
        this.hostClock = clock;
    }

    /**
     * The message of an attempt whose end its node {@code by} knew but could not record before it stopped, recorded
     * at its next start after another node had taken the job over ({@code later}: its later attempt, if any) or
     * ended it: {@code exited with 0 at 2026-…Z; recorded late, at the next start of node …}. The record it replaces
     * ({@code was}) is kept after it when a sweep killed processes the attempt had left (the command's end says
     * nothing of those); else it was only the other node's guess ({@link ExecutionLedger#NONE_LEFT}, or its node
     * stopped heart-beating), which this replaces.
     */
    static String lateOutcome(StopsNotRecorded.Known known, String by, Optional<ExecutionLedger.LatestAttempt> later,
            String was) {
        String what = switch (known.result()) {
            case TIMED_OUT -> "timed out";
            case CANCELLED -> "cancelled";
            default -> "exited with " + known.exitCode();
        };
        return what + (known.ended() == null ? "" : " at " + known.ended()) + "; recorded late, at the next start of"
                + " node " + by + ", which was stopped before it could record it (the store could not be reached)"
                + later.map(a -> "; " + ExecutionLedger.takenOver(a.attempt(), a.node())).orElse("")
                + (was != null && was.contains(" killed what it left: ") ? "; recorded before that: " + was : "");
    }

    /** Kills the leftovers of every attempt of this host boot whose node process is gone, and records them. */
    void sweepDeadNodes() throws InterruptedException {
        recordKnownOutcomes();
        List<RunningAttempt> running = ledger.runningAttempts(self.bootId());
        // The store has just answered this node: since when without a break (cluster27 F8's evidence rule).
        java.time.Instant now = hostClock.instant();
        java.time.Instant back = reach == null || !started ? null : reach.answered(now);
        for (RunningAttempt attempt : running) {
            if (attempt.nodeProcess() != null && !attempt.nodeProcess().isAlive()) {
                if (refusedNow(attempt) || waitsForItsNode(attempt, back, now) || leftToItsStop(attempt)) {
                    // refusedNow: this node holds what the attempt came to, which the store refuses to record; ended
                    // here with nothing of it recorded, the job ran again (review54 N1).
                    continue;
                }
                if (heldBesideAnotherServer(attempt)) {
                    continue; // not ended nor run again while another server's processes of it run (tryout58 F1)
                }
                // Its JVM is gone (node_died counts it), but whether the attempt had ended is not known here: only that
                // its end was not recorded (tryout21 F3: a stop whose store could not be reached, a self-fencing).
                end(attempt, gone(attempt, itsNode(attempt) + " was gone before the attempt's end was recorded"),
                        ended(attempt));
            }
        }
        if (!deathsTakenBack) {
            takeBackDeaths();
            deathsTakenBack = true;
            deathsTakenBackOf.clear(); // what the picks did before is done for every job now
        }
        stops.swept();
        if (!killedNotRecorded.isEmpty()) {
            // An attempt no longer running was recorded (by another node, whose sweep came first):
            // nothing of it is left to say. Every key is of this host's boot, as running is.
            Set<String> still = new java.util.HashSet<>();
            running.forEach(a -> still.add(AttemptMarker.of(a.jobId(), a.attempt()).value()));
            killedNotRecorded.keySet().retainAll(still);
            warnedNotRecorded.retainAll(still);
        }
    }

    /**
     * Where this node reads another node's data folder, by node id
     * ({@link org.buildhook.runner.store.NodeLeases#dataFolder}, PostgreSQL): none
     * by default (SQLite, where one node uses the store, and tests).
     */
    private volatile java.util.function.Function<String, Optional<java.nio.file.Path>> folders = id -> Optional.empty();

    /** The attempts {@link #leftToItsStop} said it leaves, once each ({@code job id/attempt}). */
    private final Set<String> saidLeftToItsStop = ConcurrentHashMap.newKeySet();

    /** Whether {@link #readsFoldersOf} was called: other nodes' data folders are read (PostgreSQL). */
    private volatile boolean readsFolders;

    /** Reads another node's data folder through {@code folders} from now on (see {@link #leftToItsStop}). */
    void readsFoldersOf(java.util.function.Function<String, Optional<java.nio.file.Path>> folders) {
        this.folders = folders;
        this.readsFolders = true;
    }

    /**
     * For the pick of job {@code jobId}, whose last attempt is still marked running: when that attempt's node is gone
     * from this host (its JVM ended) and its stop noted there, in its own data folder, what the attempt's command had
     * come to (it had exited, timed out or been cancelled, and the store could not record it), records that outcome as
     * that node's next start records it ({@link #recordKnownOutcome}: {@link ExecutionLedger#recordKnownOutcome}), so
     * that the pick concludes from it ({@link ExecutionLedger#decided}) and the command is not run again. {@link
     * #leftToItsStop} left the attempt to that start; the dead-node limit passed without it (review48 F5: the job was
     * run again, recorded "its node … was stopped after the attempt ended", and its known exit was lost).
     *
     * <p>Safe across nodes: the note names that node, the job and the attempt, so only that attempt's own stop wrote
     * it, after its command had ended; the record is the one that node's start makes, under the job's row lock and
     * only while the attempt is still the job's latest, running: a start of that node at the same moment records the
     * same outcome or finds it recorded (it then says so and records nothing again). The note is read only, never
     * taken out of that folder: that start still reads it. Nothing for this node's own data folder (its own start and
     * {@link #beforePick(String)} record those), an attempt of another host, or one whose node's JVM still runs.
     */
    private void recordNotedInItsFolder(String jobId) {
        Optional<RunningAttempt> previous = ledger.runningAttempt(jobId);
        if (previous.isEmpty()) {
            return;
        }
        RunningAttempt attempt = previous.get();
        if (attempt.node().equals(node) || !self.sameBoot(attempt.bootId()) || attempt.nodeProcess() == null
                || attempt.nodeProcess().isAlive()) {
            return;
        }
        StopsNotRecorded notes = notesOf(attempt);
        if (notes == stops) {
            return; // not noted in another folder: this node's own notes, or none
        }
        Optional<StopsNotRecorded.Known> known = notes.outcome(attempt.node(), jobId, attempt.attempt());
        if (known.isEmpty()) {
            return;
        }
        synchronized (recording) {
            org.buildhook.runner.exec.Decision decision = new org.buildhook.runner.exec.Decision(known.get().result(),
                    known.get().exitCode(), known.get().logFile());
            if (ledger.recordKnownOutcome(jobId, attempt.attempt(), attempt.node(), decision, known.get().ended())) {
                saidRecorded.add(jobId + "/" + attempt.attempt());
                LOG.info("job {} attempt {}: {} before its node {} (pid {} on this host) stopped, which could not record"
                        + " it then and noted it in {}; that node did not start again within the dead-node limit:"
                        + " recorded now by node {}: the job goes on from that outcome, and its command is not run"
                        + " again", jobId, attempt.attempt(), describe(known.get()), attempt.node(),
                        attempt.nodeProcess().pid(), notes.file(), node);
            }
        }
    }

    /**
     * Whether the attempt of another node of this host, whose JVM is gone, is left to that node's next start because
     * its data folder is another one and its stop noted the attempt there (stops-not-recorded), or that folder cannot
     * be read by this node (tryout47 F2). A graceful stop that could not reach the store keeps what the attempt came to
     * there, for its own next start to record; ending the attempt here at once, as a death, ran its command again
     * seconds after the stop, although README's promise gives a stopped node the whole dead-node limit to start and
     * record it. Left here, the attempt is taken over after the dead-node limit, as another host's node's is
     * (db-scheduler's dead-execution check, then {@link #beforeRerun}), if that node does not start first. A folder
     * this node shares with that node is read again here too: what {@link #stops} read at this node's start came before
     * that node's stop wrote its note (review47 F2); a note that was there at this node's start is this node's to
     * record (the last stop in its data folder), as before. Said once per attempt.
     */
    private boolean leftToItsStop(RunningAttempt attempt) {
        if (attempt.node().equals(node)) {
            return false;
        }
        Optional<java.nio.file.Path> folder;
        try {
            folder = folders.apply(attempt.node());
        } catch (RuntimeException e) {
            LOG.debug("could not read the data folder of node {}: {}", attempt.node(), e.toString());
            return true; // not known now: looked at again at the next sweep
        }
        if (folder.isEmpty()) {
            return false;
        }
        if (folder.equals(stops.folder()) && stops.notes(attempt.node(), attempt.jobId(), attempt.attempt())) {
            // This node's own data folder, whose last stop's notes it read at its start, whatever node wrote them: it
            // ends and records that attempt as that stop's here (end, ended), as before.
            return false;
        }
        StopsNotRecorded.Noted noted = StopsNotRecorded.notedIn(folder.get(), attempt.node(), attempt.jobId(),
                attempt.attempt());
        if (noted == StopsNotRecorded.Noted.NOT_NOTED) {
            return false;
        }
        if (saidLeftToItsStop.add(attempt.jobId() + "/" + attempt.attempt())) {
            LOG.info("job {} attempt {}: its node {} (pid {} on this host) is gone, and {} {}: what the attempt came to is"
                    + " left for that node's next start to record; if it does not start, the job is taken over once the"
                    + " dead-node limit has passed", attempt.jobId(), attempt.attempt(), attempt.node(),
                    attempt.nodeProcess().pid(), noted == StopsNotRecorded.Noted.NOTED
                            ? "its stop noted the attempt in" : "this node cannot read what its stop may have noted in",
                    folder.get().resolve(StopsNotRecorded.FILE_NAME));
        }
        return true;
    }

    /** This node's start is over: from now on a sweep's answer from the store counts in its reach of the store. */
    void startDone() {
        started = true;
    }

    /**
     * Whether the attempt of another node of this host, whose JVM is gone, is left for now because this node itself
     * could not reach the store until {@code back}, less than the dead-node limit ago (tryout45 F1). A store away for
     * every node (PostgreSQL hung, restarted, cut off) is no time to conclude what another node's attempt came to: that
     * node may have been stopped during the outage, and keep its command's exit in its own data folder
     * (stops-not-recorded) for its next start to record. Ending the attempt here at once, as soon as the store answered,
     * ran that command again before the node could start. It gets the whole limit after the store's return, as another
     * host's node does ({@link OwnExecutionsKept}); a node truly gone has its attempts ended once the limit has passed
     * since then ({@link StoreReach#keepsWaiting}, with no sign of life of its own: its JVM is gone). Its own
     * leftovers, if it was killed, are ended meanwhile by its watchdog. Said once per attempt.
     */
    private boolean waitsForItsNode(RunningAttempt attempt, java.time.Instant back, java.time.Instant now) {
        // back is null where there is no reach (SQLite) or before the start is done.
        if (back == null || attempt.node().equals(node)) {
            return false;
        }
        return reach.keepsWaiting(attempt.jobId() + "/" + attempt.attempt(), null, back, now, deadNodeLimit,
                () -> LOG.info("job {} attempt {}: its node {} (pid {} on this host) is gone, but this node could not"
                        + " reach the store itself until {}: what the attempt came to is not concluded before the"
                        + " dead-node limit ({}) has passed since then (its node may have been stopped during the same"
                        + " outage, and record the attempt's end at its next start)", attempt.jobId(),
                        attempt.attempt(), attempt.node(), attempt.nodeProcess().pid(), back,
                        org.buildhook.runner.rules.Durations.describe(deadNodeLimit)));
    }

    /**
     * At the start, before any pick: ends the attempts an earlier run of this node left marked running in another PID
     * namespace of this host (tryout23 F4: a container killed and started again, which gets a new namespace; see
     * {@link ExecutionLedger#runningAttemptsOfEarlierRuns} for why that run is over). Nothing can be killed across
     * namespaces, and nothing needs to be: a PID namespace ends with its first process (the container's init), the
     * kernel killing every process in it then, and a container is started again only once its init has ended. An
     * attempt whose namespace this node can still see a process of (a namespace under this one, e.g. {@code unshare
     * --pid}, whose first process outlived the JVM), or of the host's initial namespace (a server outside any
     * container, the data folder now used from one), is left alone: its processes may still run, and the job waits
     * for the dead-node limit as it would on another host. The same host name is required too: another container (another
     * host name, its id) whose JVM died may still run what that JVM started, if the JVM was not its init's only child.
     * Each such end counts as its node's death, as after a {@code kill -9} in the same namespace.
     *
     * @return the attempts it ended, for {@link org.buildhook.runner.store.DeadNodeRelease#releaseEarlierRuns}
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached
     */
    List<RunningAttempt> sweepEarlierRuns() throws InterruptedException {
        List<RunningAttempt> ended = new ArrayList<>();
        for (RunningAttempt attempt : ledger.runningAttemptsOfEarlierRuns(self, node)) {
            if (refusedNow(attempt)) {
                continue; // what it came to is this node's, refused by the store: not ended as a death (review54 N1)
            }
            String namespace = NodeIdentity.pidNamespace(attempt.bootId());
            if (namespace.equals(NodeIdentity.INITIAL_PID_NAMESPACE) || NodeIdentity.anyProcessIn(namespace)) {
                LOG.warn("job {} attempt {}: its node {} is gone, but PID namespace {}, where its processes ran, {}:"
                        + " they may still run, so the job is not run again before the dead-node limit; end them"
                        + " (they carry BUILDHOOK_ATTEMPT={}/{} in their environment)", attempt.jobId(),
                        attempt.attempt(), attempt.node(), namespace,
                        namespace.equals(NodeIdentity.INITIAL_PID_NAMESPACE)
                                ? "is the host's own (outside any container), which ends only with the host"
                                : "still has processes", attempt.jobId(), attempt.attempt());
                continue;
            }
            end(attempt, gone(attempt, itsNode(attempt) + " was gone before the attempt's end was recorded") + "; "
                    + inEndedNamespace(namespace), ended(attempt));
            ended.add(attempt);
        }
        return ended;
    }

    /**
     * {@code its node node-1}, the attempt's node; when that is this node's own id, {@code its node node-1's earlier
     * run (pid 6, started 2026-12-06T01:02:03Z)}, its JVM as recorded: a node started again under its {@code
     * runner.node-id}, or under the default {@code <hostname>-<pid>} in a container, where the JVM's pid is the same at
     * every start (tini's child): "its node … was gone" read as said of the very node that said it (tryout44 F7).
     */
    private String itsNode(RunningAttempt attempt) {
        org.buildhook.runner.exec.ProcessIdentity earlier = attempt.nodeProcess();
        if (!attempt.node().equals(node) || earlier == null) {
            return "its node " + attempt.node();
        }
        return "its node " + node + "'s earlier run (pid " + earlier.pid() + earlier.startedAt()
                .map(at -> ", started " + at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)).orElse("") + ")";
    }

    /** Where the processes of an attempt of an earlier run in another PID namespace were, and why they are gone. */
    static String inEndedNamespace(String namespace) {
        return "its processes were in PID namespace " + namespace + " of an earlier run on this host (a container"
                + " started again?), which this node cannot see: a PID namespace ends with its first process, and"
                + " every process in it with that";
    }

    /** How many attempts this node killed leftovers of without their record committing yet (for tests). */
    int killedNotRecorded() {
        return killedNotRecorded.size();
    }

    /** The attempts ({@code job id/attempt}) said held by {@link #heldBesideAnotherServer}, until they are not. */
    private final Set<String> saidHeld = ConcurrentHashMap.newKeySet();

    /**
     * Whether job {@code jobId}, whose last attempt is still marked running on this host, must not run again now:
     * processes of that attempt run for another buildhook server ({@link Leftovers#held}: they carry its marker with
     * another store's identity, and their server still runs, or cannot be looked for, or is not named). Its pick puts
     * it back to look again later. This JVM's own attempt, and one of another host, never.
     *
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached
     */
    boolean heldBesideAnotherServer(String jobId) {
        Optional<RunningAttempt> previous = ledger.runningAttempt(jobId);
        return previous.isPresent() && heldBesideAnotherServer(previous.get());
    }

    /**
     * Whether processes of {@code attempt} run for another buildhook server on this host ({@link Leftovers#held}): a
     * copy of this store's history whose server lives, or one this server cannot tell is gone. They are left alone, and
     * the attempt is neither ended nor its job run again while any lives (tryout58 F1: the job ran beside them). Said
     * at WARN once while it lasts, with what to do, and at INFO when they are gone.
     */
    private boolean heldBesideAnotherServer(RunningAttempt attempt) {
        if (!self.sameBoot(attempt.bootId()) || self.process().sameProcess(attempt.nodeProcess())) {
            return false;
        }
        AttemptMarker marker = AttemptMarker.of(attempt.jobId(), attempt.attempt());
        List<Leftovers.Held> held = Leftovers.held(marker, attempt.process());
        String key = marker.value();
        if (held.isEmpty()) {
            if (saidHeld.remove(key)) {
                LOG.info("job {} attempt {}: the processes another buildhook server ran of it are gone: the job goes"
                        + " on here", attempt.jobId(), attempt.attempt());
            }
            return false;
        }
        if (saidHeld.add(key)) {
            Leftovers.Held first = held.get(0);
            List<String> named = held.stream().map(Leftovers.Held::toString).toList();
            StringBuilder pids = new StringBuilder();
            held.forEach(h -> pids.append(pids.length() == 0 ? "" : " ").append(h.pid()));
            LOG.warn("job {} attempt {}: not run again while processes of it run for another buildhook server on this"
                    + " host: {} carry {} but {}={}, not this store's ({}): a copy of this store's history (a restored"
                    + " backup, a copied database file), and {}. They are left alone, and the job waits until they are"
                    + " gone (looked at again every heartbeat interval). What to do: stop one of the two servers (both"
                    + " run the same jobs), or end those processes (kill {}); the job then runs again here"
                    + " (docs/storage.md, \"Backing up and restoring\")", attempt.jobId(), attempt.attempt(),
                    Leftovers.describe(named), marker, AttemptMarker.STORE_VARIABLE, first.store(),
                    AttemptMarker.servedStore(), first.serverSays(), pids);
        }
        return true;
    }

    /**
     * Before the job runs again: kills what its attempt still marked running left on this host
     * (its node stopped heart-beating, so its lease is over even if its JVM still runs).
     */
    void beforeRerun(String jobId) throws InterruptedException {
        Optional<RunningAttempt> previous = ledger.runningAttempt(jobId);
        if (previous.isPresent() && self.sameBoot(previous.get().bootId())) {
            RunningAttempt attempt = previous.get();
            boolean alive = attempt.nodeProcess() != null && attempt.nodeProcess().isAlive();
            // A node whose JVM still runs (paused, stalled) neither died nor was stopped (review21 R3). One that is gone
            // may have noted the attempt in its own data folder at its stop (tryout46 F11).
            StopsNotRecorded notes = alive ? stops : notesOf(attempt);
            end(attempt, gone(attempt, itsNode(attempt) + (alive ? " stopped heart-beating" : " was gone")
                    + " before the attempt's end was recorded", notes), alive ? NodeEnd.NONE : ended(attempt, notes),
                    notes);
        } else if (previous.isPresent() && withoutIdentity(previous.get().bootId())) {
            // Nothing can be looked for: say so, once per job run again, rather than run it again in silence.
            RunningAttempt attempt = previous.get();
            LOG.warn("job {} runs again, but its attempt {} (node {}) was recorded without the host and process"
                    + " identity that lets a node find what it left (by a buildhook from before an upgrade, or on a"
                    + " host whose boot id cannot be read): if the server that started it still runs, that attempt"
                    + " may still run beside this one; stop that server (docs/storage.md, \"Crashes, outages and"
                    + " full disks\")", jobId, attempt.attempt(), attempt.node());
        }
    }

    /**
     * Before this node takes units of {@code resources}: kills what the attempts of this host's boot left whose job gave
     * its units back at a pick of another host's node ({@link ExecutionLedger#givenBackUnswept}), and records it. That
     * node could not reach them; their own node may be paused with its command still running ({@code runner.watchdog:
     * off}); a command started here with those units would run beside it (place31, units30 L1). The store holds the
     * units back from this host's takers until this is recorded. This very JVM's own attempts are left to its engine.
     *
     * @throws InterruptedException when interrupted while the leftovers are ended; nothing is recorded then
     * @throws org.buildhook.runner.store.StoreUnavailableException when the store cannot be reached
     */
    void givenBack(Set<String> resources) throws InterruptedException {
        for (RunningAttempt attempt : ledger.givenBackUnswept(self.bootId(), resources)) {
            if (self.process().sameProcess(attempt.nodeProcess())) {
                continue;
            }
            List<String> killed = Leftovers.kill(AttemptMarker.of(attempt.jobId(), attempt.attempt()),
                    attempt.process(), GRACE_MILLIS);
            String message = "its node " + attempt.node() + " stopped heart-beating before the attempt's end was"
                    + " recorded; " + (killed.isEmpty() ? ExecutionLedger.NONE_LEFT : "node " + node
                            + " killed what it left: " + Leftovers.describe(killed)) + "; its units were given back"
                    + " at a pick of another host's node, and it runs again once they are free";
            if (ledger.recordGivenBackSwept(attempt.jobId(), attempt.attempt(), message)) {
                LOG.warn("job {} attempt {}: {}", attempt.jobId(), attempt.attempt(), message);
            }
        }
    }

    /**
     * Whether an attempt's recorded boot id carries no host-and-namespace identity a node can check
     * (null before version 3, no PID namespace before the namespace check, empty where unreadable).
     */
    static boolean withoutIdentity(String bootId) {
        return bootId == null || !bootId.contains("/pid:");
    }

    /**
     * How an attempt whose node's JVM is gone counts ({@code node_died}): its node's stop when the last stop in this
     * data folder noted it (review21 R2), neither when it noted that its self-fencing had killed it (the node's own
     * account of another end), else its death.
     */
    private NodeEnd ended(RunningAttempt attempt) {
        return ended(attempt, stops);
    }

    /** As {@link #ended(RunningAttempt)}, as {@code notes} (a data folder's stops-not-recorded) has it. */
    private static NodeEnd ended(RunningAttempt attempt, StopsNotRecorded notes) {
        if (!stopped(attempt, notes)) {
            return NodeEnd.DIED;
        }
        return notes.cut(attempt.node(), attempt.jobId(), attempt.attempt()).map(c -> c.fenced() != null).orElse(false)
                ? NodeEnd.NONE : NodeEnd.STOPPED;
    }

    /**
     * The notes that say how the attempt of a gone node of this host ended: this node's own data folder's (read at
     * its start), or else, for another node's attempt, that node's own data folder's, read now (read only), when its
     * stop noted the attempt there. {@link #leftToItsStop} left such an attempt to that node's next start; when that
     * node did not start within the dead-node limit and the job is taken over ({@link #beforeRerun}), the attempt is
     * its stop's, counted as a stop ({@code runner.stops-in-a-row}) and said so, not as a death ({@code
     * runner.deaths-in-a-row}: three such stops in a row, a node drained during database maintenance, ended the job
     * {@code FAILED} as if its command had killed its node; tryout46 F11).
     */
    private StopsNotRecorded notesOf(RunningAttempt attempt) {
        if (stopped(attempt) || attempt.node().equals(node)) {
            return stops;
        }
        try {
            Optional<java.nio.file.Path> folder = folders.apply(attempt.node());
            if (folder.isPresent() && StopsNotRecorded.notedIn(folder.get(), attempt.node(), attempt.jobId(),
                    attempt.attempt()) == StopsNotRecorded.Noted.NOTED) {
                return new StopsNotRecorded(folder.get().resolve(StopsNotRecorded.FILE_NAME), attempt.node());
            }
        } catch (RuntimeException e) {
            LOG.debug("could not read the data folder of node {}: {}", attempt.node(), e.toString());
        }
        return stops;
    }

    /** Whether the last stop in this data folder noted that its node's self-fencing had killed the attempt. */
    private boolean fenced(String node, String jobId, int attempt) {
        return stops.cut(node, jobId, attempt).map(c -> c.fenced() != null).orElse(false);
    }

    /**
     * Once, at the start's first sweep: the attempts the last stop in this data folder noted (cut short, begun under,
     * fenced, with an outcome) are not deaths, though another node (a taker on another host, a sweep of this host
     * that did not know) recorded them as such before this start (review21 R3); only those still recorded
     * {@code INTERRUPTED} of the node id that noted them.
     */
    private void takeBackDeaths() {
        for (String noted : stops.noted()) {
            takeBackDeath(noted);
        }
    }

    /** As {@link #takeBackDeaths}, for one noted attempt ({@code <node id> <job id> <attempt>}). */
    private void takeBackDeath(String noted) {
        String[] key = noted.split(" ");
        int attempt;
        try {
            attempt = Integer.parseInt(key[2]);
        } catch (NumberFormatException e) {
            return;
        }
        String by = StopsNotRecorded.nodeOf(noted); // review37 F3: the id as configured
        boolean fenced = fenced(by, key[1], attempt);
        if (ledger.notADeath(key[1], attempt, by, fenced ? NodeEnd.NONE : NodeEnd.STOPPED)) {
            LOG.info("job {} attempt {}: recorded by another node as cut short by the death of its node {}, which"
                    + " was only {} (noted in {} in this data folder): not counted among the deaths in a row"
                    + " that end a job (runner.deaths-in-a-row){}", key[1], attempt, by,
                    fenced ? "fenced by itself and stopped" : "stopped", StopsNotRecorded.FILE_NAME,
                    fenced ? "" : ", but among the stops (runner.stops-in-a-row)");
        }
    }

    /**
     * Kills what {@code attempt} left and records it as interrupted with {@code what}; {@code end}: how it counts
     * ({@code node_died}: its node's death, its stop, or neither).
     */
    private void end(RunningAttempt attempt, String what, NodeEnd end) throws InterruptedException {
        end(attempt, what, end, stops);
    }

    /**
     * As {@link #end(RunningAttempt, String, NodeEnd)}, the attempt's end as {@code notes} (the stops-not-recorded of
     * the data folder that noted it: this node's, or its gone node's own, {@link #notesOf}) has it.
     */
    private void end(RunningAttempt attempt, String what, NodeEnd end, StopsNotRecorded notes)
            throws InterruptedException {
        if (self.process().sameProcess(attempt.nodeProcess())) {
            return; // This very JVM: its own attempts are ended by its engine, never swept.
        }
        // Ended when its node's stop (or self-fencing) killed its process tree, as noted, not now (tryout22 F5); also
        // as noted in the gone node's own data folder, not when this node took the job over (review48 F5).
        notes.cut(attempt.node(), attempt.jobId(), attempt.attempt()).map(StopsNotRecorded.Cut::ended).ifPresent(
                ended -> ledger.recordNotedEnd(attempt.jobId(), attempt.attempt(), attempt.node(), ended));
        AttemptMarker marker = AttemptMarker.of(attempt.jobId(), attempt.attempt());
        String key = marker.value();
        // "run again", or why not: a cancel, a supersede or a timeout it had come to (tryout9, F2), or the row of its
        // node's ends that this one completes, after which the next pick ends the job FAILED (tryout22 F1).
        String next = ledger.afterCutShort(attempt.jobId(), attempt.attempt(), end, inARow);
        Optional<String> recorded;
        try {
            recorded = ledger.interruptLeftover(attempt.jobId(), attempt.attempt(), () -> {
                if (!self.sameBoot(attempt.bootId())) {
                    return what + "; " + next; // another PID namespace: nothing here to kill, as what says
                }
                List<String> killed = new ArrayList<>(killedNotRecorded.getOrDefault(key, List.of()));
                List<String> now = Leftovers.kill(marker, attempt.process(), GRACE_MILLIS);
                killed.addAll(now);
                if (!now.isEmpty()) {
                    killedNotRecorded.put(key, List.copyOf(killed)); // until the record below commits
                }
                return what + "; " + (killed.isEmpty() ? ExecutionLedger.NONE_LEFT
                        : "node " + node + " killed what it left: " + Leftovers.describe(killed)) + "; " + next;
            }, end);
        } catch (RuntimeException e) {
            List<String> killed = killedNotRecorded.get(key);
            if (killed != null && warnedNotRecorded.add(key)) {
                LOG.warn("job {} attempt {}: {}; node {} killed what it left ({}), but could not record it: {}. The"
                        + " job shows as running until the store can write again; then this is recorded and the job"
                        + " goes on", attempt.jobId(), attempt.attempt(), what, node, Leftovers.describe(killed),
                        e.getMessage());
            }
            throw e;
        }
        killedNotRecorded.remove(key);
        warnedNotRecorded.remove(key);
        recorded.ifPresent(message -> {
            if (saidRecorded(attempt.jobId(), attempt.attempt())) {
                LOG.debug("job {} attempt {}: {}", attempt.jobId(), attempt.attempt(), message);
            } else {
                LOG.warn("job {} attempt {}: {}", attempt.jobId(), attempt.attempt(), message);
            }
        });
    }

    /**
     * Whether this node recorded and logged (at INFO) the outcome its last stop kept for attempt {@code attempt} of
     * job {@code jobId}: what else follows from that event (the attempt's sweep, its node's release, the job's
     * conclusion) is then logged at DEBUG, not said again.
     *
     * @param attempt the attempt's number, from 1; 0 for any attempt of the job
     */
    boolean saidRecorded(String jobId, int attempt) {
        if (attempt > 0) {
            return saidRecorded.contains(jobId + "/" + attempt);
        }
        return saidRecorded.stream().anyMatch(key -> key.startsWith(jobId + "/"));
    }
}
