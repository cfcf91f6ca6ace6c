package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.exceptions.ExecutionException;
import com.github.kagkarlsson.scheduler.task.DeadExecutionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.store.NodeLeases;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * db-scheduler's dead-execution revival, in the execution's place in the queue, except for the
 * executions this very node is still handling. Every node looks for executions whose heartbeat is older than the dead-node limit —
 * its own included. After a store outage longer than that limit, this node's own executions look
 * dead although their commands ran (and their outcomes wait to be recorded): reviving them here
 * would start the same job again on the node that has just run it. They are left alone; their
 * heartbeats resume with the store. Any other dead execution is revived as db-scheduler does,
 * except that it is due when it was due at its pick, not now ({@link #dueInItsPlace}): it then runs
 * before the jobs queued after it, instead of behind them (tryout19 F8).
 *
 * <p>Where other nodes may take a job over (PostgreSQL), another node's execution is taken for dead only on
 * evidence this node could have had: its silence counts from its last heartbeat or from this node's own return
 * to the store after a break ({@link StoreReach}), whichever is later. When the store was away for every node past
 * the dead-node limit, the node that held the job has the whole limit after the store's return to renew its
 * heartbeat or record the job's end, instead of having its job run again by the first node back while its
 * command had ended during the outage (cluster27 F8). A node truly gone has its jobs revived once the limit
 * has passed since the store answered again.
 *
 * <p>And another node's execution is not taken over while that node is alive by the database's clock ({@link
 * NodeLeases#alive}: its claim renewed within the dead-node limit, its id's lock held). db-scheduler stamps heartbeats
 * with the clock of the host that writes them and finds them dead by the clock of the host that looks: with clocks
 * more than the limit less one heartbeat interval apart, the host ahead took every job of a live node over at once and
 * ran it beside it (review57b F1). The node's claim is renewed by the database's clock, which every node shares.
 *
 * <p>db-scheduler hands over the dead executions it read at its look; one whose row changed since (its own node's
 * thread handed it back or ended it, another node revived or took it first) is left as it is now, in one
 * {@code INFO} line, not db-scheduler's {@code ERROR} "Indicates a bug" with a stack trace.
 */
final class OwnExecutionsKept implements DeadExecutionHandler<Void> {

    private static final Logger LOG = LoggerFactory.getLogger(OwnExecutionsKept.class);

    private final String node;
    private final RunningJobs running;
    /** Since when this node reaches the store; {@code null} where no other node takes jobs over (SQLite). */
    private final StoreReach reach;
    private final Duration limit;
    /** Whether another node is alive by the database's clock; never, where no other node takes jobs over. */
    private final Function<String, Optional<NodeLeases.Alive>> alive;
    /** This host's clock, the one db-scheduler reads here. */
    private final Clock clock;
    /** The executions (job@version) said to be kept with their live node, each said once. */
    private final Set<String> saidAlive = ConcurrentHashMap.newKeySet();

    /** Where no other node takes jobs over (SQLite): db-scheduler's limit alone. */
    OwnExecutionsKept(String node, RunningJobs running) {
        this(node, running, null, Duration.ZERO, id -> Optional.empty(), Clock.systemUTC());
    }

    /**
     * @param reach since when this node reaches the store without a break, or {@code null} (SQLite)
     * @param limit the dead-node limit (heartbeat interval × missed heartbeats)
     */
    OwnExecutionsKept(String node, RunningJobs running, StoreReach reach, Duration limit) {
        this(node, running, reach, limit, id -> Optional.empty(), Clock.systemUTC());
    }

    /**
     * As above, where another node's execution is not taken over while {@code alive} says that node is alive.
     *
     * @param alive whether a node is alive by the database's clock ({@link NodeLeases#alive})
     * @param clock this host's clock, the one db-scheduler reads (the system clock)
     */
    OwnExecutionsKept(String node, RunningJobs running, StoreReach reach, Duration limit,
            Function<String, Optional<NodeLeases.Alive>> alive, Clock clock) {
        this.node = node;
        this.running = running;
        this.reach = reach;
        this.limit = limit;
        this.alive = alive;
        this.clock = clock;
    }

    @Override
    public void deadExecution(ExecutionComplete complete, ExecutionOperations<Void> operations) {
        Execution execution = complete.getExecution();
        if (node.equals(execution.pickedBy) && running.isExecuting(execution.taskInstance.getId())) {
            LOG.info("job {}: its heartbeat is old (the store was unavailable) but this node still handles it;"
                    + " not revived", execution.taskInstance.getId());
            return;
        }
        Instant now = clock.instant();
        if (reach != null && !node.equals(execution.pickedBy)) {
            // db-scheduler's look has just been answered: the store answers this node now.
            Instant back = reach.answered(now);
            if (reach.keepsWaiting(execution.taskInstance.getId() + "@" + execution.version, execution.lastHeartbeat,
                    back, now, limit, () -> LOG.info("job {}: no heartbeat of its node {} since {}, but this node could"
                            + " not reach the store itself until {}: its node is not taken for dead before the"
                            + " dead-node limit ({}) has passed since then (it may have been cut off from the same"
                            + " store, and record the job's end now)", execution.taskInstance.getId(),
                            execution.pickedBy, execution.lastHeartbeat, back,
                            org.buildhook.runner.rules.Durations.describe(limit)))) {
                return;
            }
        }
        if (reach != null && !node.equals(execution.pickedBy) && keptWithItsLiveNode(execution, now)) {
            return;
        }
        Instant due = dueInItsPlace(execution, now);
        try {
            operations.reschedule(complete, due);
        } catch (ExecutionException e) {
            if (!String.valueOf(e.getMessage()).contains("updated 0")) {
                throw e;
            }
            // The look that found it dead read it before this: its row is no longer at that version (or gone). Its
            // own job thread handed it back or ended it just then, or another node revived, took or ended it first
            // (chaos32 F1: thrown on, db-scheduler logged "Failed while handling dead execution … Indicates a bug."
            // with a stack trace). Whoever changed it has it; nothing is left to do here.
            LOG.info("job {}: picked by {} with no heartbeat since {}, but its queue entry changed before this node"
                    + " could put it back (its own node, or another node, put it back, took it or ended it meanwhile);"
                    + " left as it is now", execution.taskInstance.getId(), execution.pickedBy,
                    execution.lastHeartbeat);
            return;
        }
        if (node.equals(execution.pickedBy)) {
            // This node is alive and does not handle the job (pgcrash31: the line said "its node vm-917 is taken for
            // dead" of the node that said it). What picked it was an earlier run of this node (same id), or the store
            // lost what this node recorded after the pick (the attempt's end, or the pick's answer).
            LOG.info("job {}: picked by this node ({}) with no heartbeat since {}, but this node does not run it now"
                    + " (picked by an earlier run of this node, or the store lost what this node recorded of it since);"
                    + " put back in the queue in its place", execution.taskInstance.getId(), node,
                    execution.lastHeartbeat);
        } else {
            LOG.info("job {}: its node {} is taken for dead (no heartbeat); put back in the queue in its place",
                    execution.taskInstance.getId(), execution.pickedBy);
        }
    }

    /**
     * Whether {@code execution}, picked by another node, stays with it: that node is alive by the database's clock. Said
     * once per execution at WARN, with the clocks' difference: a heartbeat that looks older than the limit here while
     * its node renews its claim means the hosts' clocks differ (or that node's heartbeats of this job fail while its
     * claim is renewed: then its own fencing ends the job there). When the store cannot tell, not taken over now either:
     * the next look asks again.
     */
    private boolean keptWithItsLiveNode(Execution execution, Instant now) {
        String jobId = execution.taskInstance.getId();
        Optional<NodeLeases.Alive> live;
        try {
            live = alive.apply(execution.pickedBy);
        } catch (StoreUnavailableException e) {
            LOG.info("job {}: no heartbeat of its node {} since {}, but whether that node is alive could not be read"
                    + " ({}); not taken over now, looked at again at the next look", jobId, execution.pickedBy,
                    execution.lastHeartbeat, e.getMessage());
            return true;
        }
        if (live.isEmpty()) {
            return false;
        }
        if (saidAlive.size() > 10_000) {
            saidAlive.clear();
        }
        if (saidAlive.add(jobId + "@" + execution.version)) {
            Duration old = execution.lastHeartbeat == null ? null : Duration.between(execution.lastHeartbeat, now);
            LOG.warn("job {}: its last heartbeat, written by its node {} with that host's clock, looks {} old by this"
                    + " host's clock (the dead-node limit is {}), but {} renewed its claim {} ago by the database's"
                    + " clock and holds its id: it is alive, and the job is left with it, not run here. The hosts'"
                    + " clocks likely differ (this host's is {} the database's): keep every node's clock synchronised"
                    + " (NTP: chronyd or systemd-timesyncd), docs/deploying.md \"Clocks\"", jobId, execution.pickedBy,
                    old == null ? "unknown" : Durations.describe(old), Durations.describe(limit), execution.pickedBy,
                    Durations.describe(live.get().silent()), ClockSkew.describe(live.get().hostAhead()));
        }
        return true;
    }

    /**
     * When an execution put back in the queue after its pick is due again: when it was due at its
     * pick, so that it keeps its place among the waiting jobs (the pick takes the earliest due first),
     * but never later than {@code now} (a picked execution was due; this only guards a clock that
     * went back).
     *
     * @param execution the picked execution, as db-scheduler read it
     * @param now       the current time
     * @return its {@code execution_time}, or {@code now} if that is later or unknown
     */
    static Instant dueInItsPlace(Execution execution, Instant now) {
        Instant was = execution.executionTime;
        return was == null || was.isAfter(now) ? now : was;
    }
}
