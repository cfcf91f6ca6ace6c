package org.buildhook.runner.store;

import org.buildhook.runner.exec.ProcessIdentity;

/**
 * An attempt the store still marks running, with where it runs: what a node needs to tell
 * whether the attempt's node is gone and to find the processes it left.
 *
 * @param jobId   the job
 * @param attempt the attempt number
 * @param node    the node that started it
 * @param bootId  the boot id of that node's host, or null for attempts recorded before version 3
 * @param nodeProcess the node's JVM (pid and start time), or null when not recorded
 * @param process the attempt's first process (pid, session, start time), or null when it was not
 *                recorded (the node died before, or the command never started)
 */
public record RunningAttempt(String jobId, int attempt, String node, String bootId, ProcessIdentity nodeProcess,
        ProcessIdentity process) {
}
