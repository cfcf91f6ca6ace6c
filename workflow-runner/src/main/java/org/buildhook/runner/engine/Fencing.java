package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.CurrentlyExecuting;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
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
 * should not kill jobs that early. Only where other nodes may take over
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

    Fencing(Supplier<List<CurrentlyExecuting>> executing, RunningJobs running, EngineConfig config) {
        this.executing = executing;
        this.running = running;
        this.limit = config.heartbeatInterval().multipliedBy(config.missedHeartbeats());
    }

    /** How often {@link #check()} must run: a quarter heartbeat interval, at least 50 ms. */
    static Duration every(EngineConfig config) {
        Duration quarter = config.heartbeatInterval().dividedBy(4);
        return quarter.compareTo(Duration.ofMillis(50)) < 0 ? Duration.ofMillis(50) : quarter;
    }

    /** Kills the commands of the executions whose heartbeat is too old to be sure this node still holds them. */
    void check() {
        for (CurrentlyExecuting current : executing.get()) {
            double dead = current.getHeartbeatState().getFractionDead();
            boolean failing = current.getHeartbeatState().getFailedHeartbeats() > 0;
            if (dead < (failing ? FENCE_AT : FENCE_AT_WHEN_LATE)) {
                continue;
            }
            String jobId = current.getTaskInstance().getId();
            long without = (long) (dead * limit.toMillis());
            String why = "killed by its own node: no heartbeat could be written for " + without + " ms (the store"
                    + (failing ? " is unreachable" : " does not answer") + "), and after " + limit.toMillis()
                    + " ms another node may run the job";
            if (running.fence(jobId, why)) {
                LOG.warn("job {}: {}; its processes are killed now (self-fencing); it runs again once the store"
                        + " answers", jobId, why);
            }
        }
    }
}
