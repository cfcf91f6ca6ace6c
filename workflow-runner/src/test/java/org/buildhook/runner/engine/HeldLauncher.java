package org.buildhook.runner.engine;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.buildhook.runner.exec.JobLauncher;
import org.buildhook.runner.exec.JobRequest;
import org.buildhook.runner.exec.NodeFolders;
import org.buildhook.runner.exec.RunningJob;
import org.buildhook.runner.exec.StartGate;

/**
 * A real launcher whose {@link #start} runs {@code before} once the engine has decided to launch and before the real
 * launcher is asked (its gate, asked just before the exec, comes after it: review26 R6), and {@code after} once the real
 * launcher has returned and before the engine knows the command (review26 R1). Each waits for an event.
 */
final class HeldLauncher implements JobLauncher {

    private final JobLauncher real;
    private final Runnable before;
    private final Consumer<RunningJob> after;
    /** Run inside the gate, just before the exec, or null. */
    private final Runnable inCreation;

    /** Holds the launch's return only: {@code hold} runs after the command has started (the R1 window). */
    HeldLauncher(JobLauncher real, Runnable hold) {
        this(real, () -> { }, started -> hold.run());
    }

    /** @param after given what the real launcher returned */
    HeldLauncher(JobLauncher real, Runnable before, Consumer<RunningJob> after) {
        this(real, before, after, null);
    }

    @Override
    public RunningJob start(JobRequest request) {
        return start(request, StartGate.OPEN);
    }

    /**
     * Holds the launch inside its gate, after the gate's looks and before the exec ({@code hold}), as a pause of the JVM
     * there would (chaos33 F2).
     */
    static HeldLauncher inCreation(JobLauncher real, Runnable hold) {
        return new HeldLauncher(real, () -> { }, started -> { }, hold);
    }

    private HeldLauncher(JobLauncher real, Runnable before, Consumer<RunningJob> after, Runnable inCreation) {
        this.real = real;
        this.before = before;
        this.after = after;
        this.inCreation = inCreation;
    }

    @Override
    public RunningJob start(JobRequest request, StartGate gate) {
        before.run();
        StartGate held = inCreation == null ? gate : new StartGate() {
            @Override
            public void attempt(RunningJob attempt) {
                gate.attempt(attempt);
            }

            @Override
            public <T> T pass(Spawn<T> spawn) throws java.io.IOException {
                return gate.pass(() -> {
                    inCreation.run();
                    return spawn.create();
                });
            }
        };
        RunningJob started = real.start(request, held);
        after.accept(started);
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
