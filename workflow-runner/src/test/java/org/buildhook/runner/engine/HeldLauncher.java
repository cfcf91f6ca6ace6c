package org.buildhook.runner.engine;

import java.time.Duration;
import java.util.List;
import org.buildhook.runner.exec.JobLauncher;
import org.buildhook.runner.exec.JobRequest;
import org.buildhook.runner.exec.NodeFolders;
import org.buildhook.runner.exec.RunningJob;

/**
 * A real launcher whose {@link #start} runs {@code hold} after the command has started and before it returns: the
 * window in which the command runs and the engine does not know it yet (review26 R1). {@code hold} waits for an event.
 */
final class HeldLauncher implements JobLauncher {

    private final JobLauncher real;
    private final Runnable hold;

    HeldLauncher(JobLauncher real, Runnable hold) {
        this.real = real;
        this.hold = hold;
    }

    @Override
    public RunningJob start(JobRequest request) {
        RunningJob started = real.start(request);
        hold.run();
        return started;
    }

    @Override
    public RunningJob refuse(JobRequest request, String why) {
        return real.refuse(request, why);
    }

    @Override
    public List<NodeFolders.Folder> nodeFolders() {
        return real.nodeFolders();
    }

    @Override
    public Duration killGrace() {
        return real.killGrace();
    }
}
