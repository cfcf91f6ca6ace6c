package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.task.CompletionHandler;
import com.github.kagkarlsson.scheduler.task.ExecutionContext;
import com.github.kagkarlsson.scheduler.task.ExecutionHandler;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.buildhook.runner.exec.JobLauncher;
import org.buildhook.runner.exec.JobOutcome;
import org.buildhook.runner.exec.JobRequest;
import org.buildhook.runner.exec.RunningJob;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one db-scheduler execution of a job: one attempt, then what comes next (done, retry later,
 * wait for a slot, or back to the queue after a shutdown). The job row is the truth: a job whose
 * row is already final is never run again, even if its execution survived a crash.
 */
final class JobTask implements ExecutionHandler<Void> {

    private static final Logger LOG = LoggerFactory.getLogger(JobTask.class);
    static final String PAYLOAD_ENV = "BUILDHOOK_PAYLOAD";

    private final Store store;
    private final ExecutionLedger ledger;
    private final JobLauncher launcher;
    private final EngineConfig config;
    private final RunningJobs running;
    private final Clock clock;
    private final JobEvents events;

    JobTask(Store store, JobLauncher launcher, EngineConfig config, RunningJobs running, Clock clock,
            JobEvents events) {
        this.events = events;
        this.store = store;
        this.ledger = store.ledger();
        this.launcher = launcher;
        this.config = config;
        this.running = running;
        this.clock = clock;
    }

    @Override
    public CompletionHandler<Void> execute(TaskInstance<Void> instance, ExecutionContext context) {
        String jobId = instance.getId();
        Optional<Job> found = ledger.job(jobId);
        if (found.isEmpty()) {
            return remove();
        }
        Job job = found.get();
        if (job.state().isFinal()) {
            return remove();
        }
        if (job.cancelRequested()) {
            ledger.markCancelled(jobId, "cancelled before it ran");
            return remove();
        }
        if (running.isStopping()) {
            return rescheduleIn(Duration.ZERO);
        }
        if (job.concurrency() > 0 && !ledger.tryAcquireSlot(job.ruleName(), job.concurrency(), jobId, config.nodeId())) {
            return rescheduleIn(config.slotRetryDelay());
        }
        try {
            return runAttempt(job);
        } finally {
            if (job.concurrency() > 0) {
                ledger.releaseSlot(jobId);
            }
        }
    }

    private CompletionHandler<Void> runAttempt(Job job) {
        String jobId = job.id();
        int attempt = ledger.startAttempt(jobId, config.nodeId());
        byte[] body = ledger.body(job.deliveryId()).orElse(new byte[0]);
        Map<String, String> env = new HashMap<>(job.env());
        Path payload = PayloadFiles.write(store.payloadFile(job.deliveryId()), body);
        env.put(PAYLOAD_ENV, payload.toString());
        JobRequest request = new JobRequest(jobId, attempt, job.argv(), env, job.workdir(), job.stdin() ? body : null,
                job.timeout());
        RunningJob process = launcher.start(request);
        running.add(jobId, process);
        JobOutcome outcome;
        try {
            outcome = await(jobId, process);
        } finally {
            running.remove(jobId);
        }
        if (running.wasStoppedByShutdown(jobId)) {
            ledger.interruptAttempt(jobId, attempt, outcome, "stopped by the shutdown of " + config.nodeId()
                    + "; run again");
            tell(job, JobEvents.Ending.INTERRUPTED, outcome);
            return rescheduleIn(Duration.ZERO);
        }
        if (outcome.succeeded()) {
            ledger.finishAttempt(jobId, attempt, outcome, JobState.SUCCEEDED);
            tell(job, JobEvents.Ending.SUCCEEDED, outcome);
            return remove();
        }
        if (outcome.result() == JobOutcome.Result.CANCELLED) {
            ledger.finishAttempt(jobId, attempt, outcome, JobState.CANCELLED);
            tell(job, JobEvents.Ending.CANCELLED, outcome);
            return remove();
        }
        int failures = ledger.failedAttempts(jobId) + 1;
        if (failures <= job.retries()) {
            Duration delay = job.backoff().multipliedBy(1L << Math.min(failures - 1, 30));
            ledger.finishAttempt(jobId, attempt, outcome, JobState.QUEUED);
            tell(job, ending(outcome), outcome);
            LOG.info("job {} attempt {} {}; retry in {}", jobId, attempt, outcome.message(), delay);
            return rescheduleIn(delay);
        }
        JobState last = outcome.result() == JobOutcome.Result.TIMED_OUT ? JobState.TIMED_OUT : JobState.FAILED;
        ledger.finishAttempt(jobId, attempt, outcome, last);
        tell(job, ending(outcome), outcome);
        return remove();
    }

    private static JobEvents.Ending ending(JobOutcome outcome) {
        switch (outcome.result()) {
            case SUCCEEDED:
                return JobEvents.Ending.SUCCEEDED;
            case TIMED_OUT:
                return JobEvents.Ending.TIMED_OUT;
            case CANCELLED:
                return JobEvents.Ending.CANCELLED;
            case FAILED_TO_START:
                return JobEvents.Ending.FAILED_TO_START;
            default:
                return JobEvents.Ending.FAILED;
        }
    }

    /** After the store has the attempt: metrics must never decide what happens to a job. */
    private void tell(Job job, JobEvents.Ending ending, JobOutcome outcome) {
        Duration duration = outcome.started() == null || outcome.ended() == null ? Duration.ZERO
                : Duration.between(outcome.started(), outcome.ended());
        try {
            events.attemptEnded(job.ruleName(), ending, duration.isNegative() ? Duration.ZERO : duration);
        } catch (RuntimeException e) {
            LOG.warn("job events listener failed for job {}: {}", job.id(), e.toString());
        }
    }

    /** Waits for the attempt, cancelling it when someone asks to through the store. */
    private JobOutcome await(String jobId, RunningJob process) {
        long every = config.cancelCheck().toMillis();
        boolean cancelled = false;
        while (true) {
            try {
                return process.outcome().get(every, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (!cancelled && ledger.cancelRequested(jobId)) {
                    cancelled = true;
                    process.cancel();
                }
            } catch (InterruptedException e) {
                // db-scheduler interrupts only when its own shutdown wait ran out: kill, then record.
                running.markStoppedByShutdown(jobId);
                process.cancel();
                Thread.currentThread().interrupt();
                return process.outcome().join();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a RunningJob outcome must not fail", e);
            } catch (RuntimeException e) {
                // The store is unreachable while we wait: keep waiting for the process itself.
                LOG.warn("cannot read the cancel flag of job {}: {}", jobId, e.getMessage());
            }
        }
    }

    private static CompletionHandler<Void> remove() {
        return (complete, operations) -> operations.remove();
    }

    private CompletionHandler<Void> rescheduleIn(Duration delay) {
        Instant at = clock.instant().plus(delay);
        return (complete, operations) -> operations.reschedule(complete, at);
    }
}
