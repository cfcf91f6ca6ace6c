package org.buildhook.runner.engine;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.buildhook.runner.exec.RunningJob;

/** The attempts running on this node, so that a shutdown can wait for them, then kill them. */
final class RunningJobs {

    private final Map<String, RunningJob> running = new ConcurrentHashMap<>();
    private final Set<String> stoppedByShutdown = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    void add(String jobId, RunningJob job) {
        running.put(jobId, job);
    }

    void remove(String jobId) {
        running.remove(jobId);
    }

    int size() {
        return running.size();
    }

    boolean isStopping() {
        return stopping;
    }

    void markStoppedByShutdown(String jobId) {
        stoppedByShutdown.add(jobId);
    }

    boolean wasStoppedByShutdown(String jobId) {
        return stoppedByShutdown.remove(jobId);
    }

    /** Stops taking jobs, waits up to {@code grace} for the running ones, then kills what is left. */
    void stop(Duration grace) throws InterruptedException {
        stopping = true;
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            while (!running.isEmpty() && System.nanoTime() < deadline) {
                wait(50);
            }
        }
        running.forEach((jobId, job) -> {
            stoppedByShutdown.add(jobId);
            job.cancel();
        });
    }
}
