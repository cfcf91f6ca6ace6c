package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.task.DeadExecutionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import java.time.Instant;
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
 */
final class OwnExecutionsKept implements DeadExecutionHandler<Void> {

    private static final Logger LOG = LoggerFactory.getLogger(OwnExecutionsKept.class);

    private final String node;
    private final RunningJobs running;

    OwnExecutionsKept(String node, RunningJobs running) {
        this.node = node;
        this.running = running;
    }

    @Override
    public void deadExecution(ExecutionComplete complete, ExecutionOperations<Void> operations) {
        Execution execution = complete.getExecution();
        if (node.equals(execution.pickedBy) && running.isExecuting(execution.taskInstance.getId())) {
            LOG.info("job {}: its heartbeat is old (the store was unavailable) but this node still handles it;"
                    + " not revived", execution.taskInstance.getId());
            return;
        }
        Instant due = dueInItsPlace(execution, Instant.now());
        LOG.info("job {}: its node {} is taken for dead (no heartbeat); put back in the queue in its place",
                execution.taskInstance.getId(), execution.pickedBy);
        operations.reschedule(complete, due);
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
