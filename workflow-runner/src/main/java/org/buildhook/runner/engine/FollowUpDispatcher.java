package org.buildhook.runner.engine;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.WebhookException;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.rules.FollowUpParent;
import org.buildhook.runner.rules.FollowUps;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryDetail;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the follow-ups ({@code on-success}, {@code on-failure}, {@code on-cancel}) of jobs that
 * reached a final state, and the {@code on-approval-request} of jobs that await an approval: at once when an attempt
 * of this node ends, and every polling interval for the rest (a job cancelled before it ran, a node that died between the end of a job and its
 * follow-up). Each follow-up is stored exactly once, whichever nodes look at the same time (see
 * {@link org.buildhook.runner.store.FollowUpLedger}); it is then an ordinary job, run by any node.
 */
final class FollowUpDispatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FollowUpDispatcher.class);
    private static final int BATCH = 100;

    private final Store store;
    /** A job's page on the status page from its id, or null ({@link EngineConfig#jobPage}). */
    private final java.util.function.Function<String, String> jobPage;
    private final BuildEventParser parser = new BuildEventParser();
    private final ScheduledExecutorService thread;
    private final AtomicBoolean sweepQueued = new AtomicBoolean();
    /**
     * Jobs awaiting an approval that start no {@code on-approval-request} from this node: it could not be planned (said
     * once), or their follow-ups name it but have none (a candidate only by its text: {@code FollowUpLedger}). They stay
     * candidates, so each look skips them without reading their delivery; this thread's. Kept to the candidates: after
     * each round of looks over them, only those seen in that round are kept (review49 F2: a cap of 100, never cleared,
     * had the 101st said at every look).
     */
    private final java.util.Set<String> startsNoRequest = new java.util.HashSet<>();
    /** Of {@link #startsNoRequest}, those seen as candidates in this round of looks. */
    private final java.util.Set<String> seenThisRound = new java.util.HashSet<>();
    /** The last candidate of the previous look ({@code ""}: the round begins again from the oldest). */
    private String requestsAfter = "";

    FollowUpDispatcher(Store store, java.util.function.Function<String, String> jobPage) {
        this.store = store;
        this.jobPage = jobPage;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "buildhook-follow-ups");
            t.setDaemon(true);
            return t;
        });
    }

    /** Looks for finished jobs every {@code everyMillis}. */
    void start(long everyMillis) {
        thread.scheduleWithFixedDelay(this::sweepQuietly, 0, everyMillis, TimeUnit.MILLISECONDS);
    }

    /** Looks now (an attempt ended); several calls before the look are one look. */
    void poke() {
        if (sweepQueued.compareAndSet(false, true)) {
            try {
                thread.execute(this::sweepQuietly);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                sweepQueued.set(false); // stopping
            }
        }
    }

    private void sweepQuietly() {
        sweepQueued.set(false);
        try {
            store.look(() -> {
                List<String> pending;
                do {
                    pending = store.followUps().pending(BATCH);
                    pending.forEach(this::start);
                } while (pending.size() == BATCH && !Thread.currentThread().isInterrupted());
                lookForApprovalRequests();
            });
        } catch (RuntimeException e) {
            LOG.debug("looking for follow-ups to start failed; next time: {}", e.toString());
        }
    }

    private void start(String parentId) {
        Optional<Job> found = store.ledger().job(parentId);
        if (found.isEmpty()) {
            return;
        }
        Job parent = found.get();
        PlannedJob followUp = plan(parent);
        store.followUps().start(parent, followUp).ifPresent(id -> {
            LOG.info("job {} ended {}: started its follow-up {} ({})", parentId, parent.state(), id, followUp.ruleName());
            store.notifyJobsQueued();
        });
    }

    /**
     * One batch a look (a job that starts none stays a candidate, and must not loop), each look from where the last one
     * stopped: older candidates that start none never hide newer ones' requests (review49 F2), which start within
     * {@code candidates / 100 + 1} looks.
     */
    private void lookForApprovalRequests() {
        List<String> candidates = store.followUps().awaitingRequests(requestsAfter, BATCH);
        for (String id : candidates) {
            if (startsNoRequest.contains(id)) {
                seenThisRound.add(id);
            } else {
                startApprovalRequest(id);
            }
        }
        if (candidates.size() < BATCH) { // the round is over: the next look begins from the oldest again
            startsNoRequest.retainAll(seenThisRound);
            seenThisRound.clear();
            requestsAfter = "";
        } else {
            requestsAfter = candidates.get(candidates.size() - 1);
        }
    }

    /**
     * Starts the {@code on-approval-request} of job {@code id}, which awaits an approval: once, whichever nodes look
     * ({@link org.buildhook.runner.store.FollowUpLedger#startApprovalRequest}); none once it no longer waits.
     */
    private void startApprovalRequest(String id) {
        Optional<Job> found = store.ledger().job(id);
        if (found.isEmpty() || found.get().state() != JobState.AWAITING_APPROVAL) {
            return;
        }
        Job parent = found.get();
        PlannedJob request = plan(parent);
        if (request == null) {
            startsNoRequest.add(id); // none to start (said, if it could not be planned): skipped by later looks
            seenThisRound.add(id);
            return;
        }
        store.followUps().startApprovalRequest(parent, request).ifPresent(started -> {
            LOG.info("job {} awaits an approval: started its {} {} ({})", id, "on-approval-request", started,
                    request.ruleName());
            store.notifyJobsQueued();
        });
    }

    /** The follow-up to store, or null when the outcome starts none or it cannot be planned (logged). */
    private PlannedJob plan(Job parent) {
        if (FollowUps.keyFor(parent.state().name(), parent.attempts()).isEmpty()) {
            return null;
        }
        Optional<Delivery> delivery = store.delivery(parent.deliveryId()).map(DeliveryDetail::delivery);
        if (delivery.isEmpty() || delivery.get().body() == null) {
            LOG.error("job {}: its delivery is gone, so its follow-up cannot be started", parent.id());
            return null;
        }
        try {
            BuildEvent event = parser.parse(delivery.get().body());
            FollowUpParent followed = new FollowUpParent(parent.id(), parent.ruleName(), parent.state().name(),
                    parent.exitCode(), parent.attempts(), parent.logPath(), jobPage.apply(parent.id()));
            return FollowUps.plan(parent.workflow().followUps(), delivery.get().endpoint(), event, parent.runName(),
                    followed).orElse(null);
        } catch (WebhookException | RunnerException e) {
            // Stored by another version, or no longer a valid event: say so once, never loop on it.
            LOG.error("job {}: its follow-up cannot be planned and is not started: {}", parent.id(), e.getMessage());
            return null;
        }
    }

    /**
     * At a graceful stop, after its grace period: one last look for the follow-ups of jobs that ended (a job that ended
     * during the grace poked a look that may not have run yet), then closes. Before, the stop closed at once and
     * dropped a look still queued, so such a follow-up was stored only at a next start (ci-a:
     * SqliteFollowUpTest#aJobThatEndsDuringAGracefulStopHasItsFollowUpStoredForTheNextNode, 1 of 7 under load).
     *
     * @param bound how long the look may take (it waits for the store like any other); past it, it is interrupted and
     *              what it did not store is stored at a next start of any node, as before
     */
    void closeAfterALastLook(java.time.Duration bound) {
        sweepQueued.set(false);
        poke();
        thread.shutdown(); // the look queued runs; the periodic one does not come again
        try {
            if (!thread.awaitTermination(bound.toMillis(), TimeUnit.MILLISECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
