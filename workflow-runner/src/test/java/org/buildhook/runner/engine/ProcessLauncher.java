package org.buildhook.runner.engine;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.buildhook.runner.exec.JobLauncher;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.JobRequest;
import org.buildhook.runner.exec.RunningJob;

/**
 * A small test launcher with real child processes (no shell of its own) until the Commons Exec
 * launcher lands: log file per attempt, stdin, timeout and cancel kill the process tree.
 */
final class ProcessLauncher implements JobLauncher {

    private final Path logDir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "test-launcher-timer");
        t.setDaemon(true);
        return t;
    });

    ProcessLauncher(Path logDir) {
        this.logDir = logDir;
    }

    @Override
    public RunningJob start(JobRequest request) {
        Instant started = Instant.now();
        Path log = logDir.resolve(request.jobId() + "-" + request.attempt() + ".log");
        ProcessBuilder builder = new ProcessBuilder(request.argv()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(request.env());
        if (request.workdir() != null) {
            builder.directory(request.workdir().toFile());
        }
        if (request.stdin() == null) {
            builder.redirectInput(Redirect.from(new java.io.File("/dev/null")));
        }
        Process process;
        try {
            Files.createDirectories(logDir);
            process = builder.start();
        } catch (IOException e) {
            JobOutcome failed = new JobOutcome(JobOutcome.Result.FAILED_TO_START, null, started, Instant.now(),
                    "cannot start " + request.argv().get(0) + ": " + e.getMessage(), log, false);
            return new Finished(failed);
        }
        if (request.stdin() != null) {
            byte[] bytes = request.stdin();
            Thread writer = new Thread(() -> {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(bytes);
                } catch (IOException e) {
                    // the command did not read its input
                }
            }, "test-launcher-stdin");
            writer.setDaemon(true);
            writer.start();
        }
        return new Running(process, started, log, request);
    }

    private final class Running implements RunningJob {
        private final Process process;
        private final CompletableFuture<JobOutcome> outcome = new CompletableFuture<>();
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final AtomicBoolean timedOut = new AtomicBoolean();

        Running(Process process, Instant started, Path log, JobRequest request) {
            this.process = process;
            var timeout = timer.schedule(() -> {
                timedOut.set(true);
                killTree();
            }, request.timeout().toMillis(), TimeUnit.MILLISECONDS);
            process.onExit().thenAccept(p -> {
                timeout.cancel(false);
                int code = p.exitValue();
                JobOutcome.Result result = cancelled.get() ? JobOutcome.Result.CANCELLED
                        : timedOut.get() ? JobOutcome.Result.TIMED_OUT
                        : code == 0 ? JobOutcome.Result.SUCCEEDED : JobOutcome.Result.FAILED;
                String message = switch (result) {
                    case CANCELLED -> "cancelled";
                    case TIMED_OUT -> "timed out after " + request.timeout();
                    default -> "exited with " + code;
                };
                Integer exit = result == JobOutcome.Result.CANCELLED || result == JobOutcome.Result.TIMED_OUT ? null : code;
                outcome.complete(new JobOutcome(result, exit, started, Instant.now(), message, log, false));
            });
        }

        @Override
        public CompletableFuture<JobOutcome> outcome() {
            return outcome;
        }

        @Override
        public void cancel() {
            if (cancelled.compareAndSet(false, true)) {
                killTree();
            }
        }

        private void killTree() {
            List<ProcessHandle> children = process.descendants().toList();
            children.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private record Finished(JobOutcome done) implements RunningJob {
        @Override
        public CompletableFuture<JobOutcome> outcome() {
            return CompletableFuture.completedFuture(done);
        }

        @Override
        public void cancel() {
            // already over
        }
    }
}
