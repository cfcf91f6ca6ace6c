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

    /** What this node's last stop cut short without recording it (tryout20 F2). */
    private final StopsNotRecorded stops;

    /** The bounds of this node on its jobs' attempts cut short in a row, for the words of the attempts it ends. */
    private final ExecutionLedger.InARow inARow;

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
        this.ledger = ledger;
        this.node = node;
        this.stops = stops;
        this.inARow = inARow;
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
        return stops.contains(attempt.node(), attempt.jobId(), attempt.attempt())
                || stops.begunUnder(attempt.node(), attempt.jobId(), attempt.attempt());
    }

    /**
     * How an attempt whose node is gone ended, as far as this node can know: its own last stop noted in its data
     * folder the attempts it cut short and could not record (the store could not be reached), and, as it began, the
     * attempts it was about to cut short (a node killed during its stop), which were not a death.
     */
    private String gone(RunningAttempt attempt, String otherwise) {
        if (!stopped(attempt)) {
            return otherwise;
        }
        Optional<StopsNotRecorded.Known> known = stops.outcome(attempt.node(), attempt.jobId(), attempt.attempt());
        if (known.isPresent()) {
            return "its node " + attempt.node() + " was stopped after " + describe(known.get()) + ", and the stop could"
                    + " not record it (the store could not be reached)";
        }
        return stops.contains(attempt.node(), attempt.jobId(), attempt.attempt())
                ? "its node " + attempt.node() + " was stopped before the attempt ended, and the stop could not record its end"
                        + " (the store could not be reached)"
                : "its node " + attempt.node() + " was killed during its stop, before the stop could record the attempt's end"
                        + " (a stop timeout shorter than the stop: docs/deploying.md, \"Stopping: the stop timeout\")";
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
        for (Map.Entry<String, StopsNotRecorded.Known> entry : stops.outcomesToRecord().entrySet()) {
            String[] key = entry.getKey().split(" ");
            String by = key[0];
            String jobId = key[1];
            int attempt;
            try {
                attempt = Integer.parseInt(key[2]);
            } catch (NumberFormatException e) {
                stops.taken(entry.getKey());
                continue;
            }
            StopsNotRecorded.Known known = entry.getValue();
            org.buildhook.runner.exec.Decision decision = new org.buildhook.runner.exec.Decision(known.result(),
                    known.exitCode(), known.logFile());
            if (ledger.recordKnownOutcome(jobId, attempt, by, decision, known.ended())) {
                LOG.info("job {} attempt {}: {} before node {} stopped, which could not record it then; recorded now:"
                        + " the job goes on from that outcome, and its command is not run again", jobId, attempt,
                        describe(known), by);
            } else {
                Optional<ExecutionLedger.LatestAttempt> latest = ledger.latestAttempt(jobId);
                String since = latest.filter(a -> a.attempt() > attempt)
                        .map(a -> "; the job was taken over meanwhile: it ran again on node " + a.node() + " (attempt "
                                + a.attempt() + ", " + a.outcome() + ")")
                        .orElse("; the store already had the attempt's end, or the job is gone");
                LOG.warn("job {} attempt {}: {} before node {} stopped, which could not record it then; not recorded"
                        + " now{}", jobId, attempt, describe(known), by, since);
            }
            stops.taken(entry.getKey());
        }
    }

    /** Kills the leftovers of every attempt of this host boot whose node process is gone, and records them. */
    void sweepDeadNodes() throws InterruptedException {
        recordKnownOutcomes();
        List<RunningAttempt> running = ledger.runningAttempts(self.bootId());
        for (RunningAttempt attempt : running) {
            if (attempt.nodeProcess() != null && !attempt.nodeProcess().isAlive()) {
                // Its JVM is gone (node_died counts it), but whether the attempt had ended is not known here: only that
                // its end was not recorded (tryout21 F3: a stop whose store could not be reached, a self-fencing).
                end(attempt, gone(attempt, "its node " + attempt.node() + " was gone before the attempt's end was"
                        + " recorded"));
            }
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

    /** How many attempts this node killed leftovers of without their record committing yet (for tests). */
    int killedNotRecorded() {
        return killedNotRecorded.size();
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
            end(attempt, gone(attempt, "its node " + attempt.node() + (alive ? " stopped heart-beating" : " was gone")
                    + " before the attempt's end was recorded"));
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
     * Whether an attempt's recorded boot id carries no host-and-namespace identity a node can check
     * (null before version 3, no PID namespace before the namespace check, empty where unreadable).
     */
    static boolean withoutIdentity(String bootId) {
        return bootId == null || !bootId.contains("/pid:");
    }

    private void end(RunningAttempt attempt, String what) throws InterruptedException {
        if (self.process().sameProcess(attempt.nodeProcess())) {
            return; // This very JVM: its own attempts are ended by its engine, never swept.
        }
        AttemptMarker marker = AttemptMarker.of(attempt.jobId(), attempt.attempt());
        String key = marker.value();
        // Its node's stop (noted in this data folder: not a death), or its death; both count in a row (review21 R2).
        NodeEnd end = stopped(attempt) ? NodeEnd.STOPPED : NodeEnd.DIED;
        // "run again", or why not: a cancel, a supersede or a timeout it had come to (tryout9, F2), or the row of its
        // node's ends that this one completes, after which the next pick ends the job FAILED (tryout22 F1).
        String next = ledger.afterCutShort(attempt.jobId(), attempt.attempt(), end, inARow);
        Optional<String> recorded;
        try {
            recorded = ledger.interruptLeftover(attempt.jobId(), attempt.attempt(), () -> {
                List<String> killed = new ArrayList<>(killedNotRecorded.getOrDefault(key, List.of()));
                List<String> now = Leftovers.kill(marker, attempt.process(), GRACE_MILLIS);
                killed.addAll(now);
                if (!now.isEmpty()) {
                    killedNotRecorded.put(key, List.copyOf(killed)); // until the record below commits
                }
                return what + "; " + (killed.isEmpty() ? ExecutionLedger.NONE_LEFT
                        : "node " + node + " killed what it left: " + String.join(", ", killed)) + "; " + next;
            }, end);
        } catch (RuntimeException e) {
            List<String> killed = killedNotRecorded.get(key);
            if (killed != null && warnedNotRecorded.add(key)) {
                LOG.warn("job {} attempt {}: {}; node {} killed what it left ({}), but could not record it: {}. The"
                        + " job shows as running until the store can write again; then this is recorded and the job"
                        + " goes on", attempt.jobId(), attempt.attempt(), what, node, String.join(", ", killed),
                        e.getMessage());
            }
            throw e;
        }
        killedNotRecorded.remove(key);
        warnedNotRecorded.remove(key);
        recorded.ifPresent(message -> LOG.warn("job {} attempt {}: {}", attempt.jobId(), attempt.attempt(), message));
    }
}
