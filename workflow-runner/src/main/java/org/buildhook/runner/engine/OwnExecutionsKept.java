package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.task.DeadExecutionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * db-scheduler's dead-execution revival, except for the executions this very node is still
 * handling. Every node looks for executions whose heartbeat is older than the dead-node limit —
 * its own included. After a store outage longer than that limit, this node's own executions look
 * dead although their commands ran (and their outcomes wait to be recorded): reviving them here
 * would start the same job again on the node that has just run it. They are left alone; their
 * heartbeats resume with the store. Any other dead execution is revived as usual.
 */
final class OwnExecutionsKept implements DeadExecutionHandler<Void> {

    private static final Logger LOG = LoggerFactory.getLogger(OwnExecutionsKept.class);

    private final String node;
    private final RunningJobs running;
    private final DeadExecutionHandler<Void> revive = new DeadExecutionHandler.ReviveDeadExecution<>();

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
        revive.deadExecution(complete, operations);
    }
}
