package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.InvalidEventException;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryDetail;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Page;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What each admin API call does, given one authenticated caller ({@code actor}, for the audit trail). */
final class AdminRequests {

    private static final Logger LOG = LoggerFactory.getLogger(AdminRequests.class);

    private final BuildhookApplication app;
    private final String actor;

    AdminRequests(BuildhookApplication app, String actor) {
        this.app = app;
        this.actor = actor;
    }

    LogFollows logFollows() {
        return app.logFollows();
    }

    Store store() {
        return app.store();
    }

    Path logDirectory() {
        return app.config().launcher().logDirectory();
    }

    /** This node's id ({@code runner.node-id}), as attempts record it. */
    String nodeId() {
        return app.config().engine().nodeId();
    }

    JsonAnswer deliveries(HttpServletRequest request) {
        Page<Delivery> page = store().deliveries(AdminFilters.deliveries(request));
        return new JsonAnswer().with("items", AdminViews.all(page.items(), AdminViews::delivery))
                .with("next", page.nextCursor());
    }

    JsonAnswer jobs(HttpServletRequest request) {
        Page<Job> page = store().jobs(AdminFilters.jobs(request));
        return new JsonAnswer().with("items", AdminViews.all(page.items(), AdminViews::job))
                .with("next", page.nextCursor());
    }

    /**
     * The 404 for an id that is no job's. An operator who pasted a delivery's id (both are ULIDs, and
     * {@code deliveries} lists them first) is told so, with the jobs the delivery has: the ids to use.
     */
    static ApiError noJob(Store store, String id) {
        String hint = store.delivery(id).map(d -> d.jobs().isEmpty()
                ? "; " + id + " is a delivery's id, and no rule fired for it"
                : "; " + id + " is a delivery's id; its job(s): " + d.jobs().stream().map(Job::id)
                        .collect(java.util.stream.Collectors.joining(", "))).orElse("");
        return ApiError.notFound("no job " + id + hint);
    }

    JsonAnswer delivery(String id) {
        DeliveryDetail d = store().delivery(id).orElseThrow(() -> ApiError.notFound("no delivery " + id));
        return new JsonAnswer().with("delivery", AdminViews.deliveryDetail(d.delivery()))
                .with("jobs", AdminViews.all(d.jobs(), AdminViews::job))
                .with("actions", AdminViews.all(store().actionsOnDelivery(id), AdminViews::action));
    }

    JsonAnswer job(String id) {
        JobDetail j = store().job(id).orElseThrow(() -> noJob(store(), id));
        return new JsonAnswer().with("job", AdminViews.jobDetail(j.job()))
                .with("attempts", AdminViews.all(j.attempts(), AdminViews::attempt))
                .with("actions", AdminViews.all(store().actionsOnJob(id), AdminViews::action));
    }

    JsonAnswer rerun(String jobId) {
        Job old = store().job(jobId).orElseThrow(() -> noJob(store(), jobId)).job();
        String id;
        try {
            id = store().rerun(jobId);
        } catch (StoreUnavailableException e) {
            throw e;
        } catch (RunnerException e) {
            // Retention deleted the job with its delivery since it was read above: as if it had been gone.
            if (store().job(jobId).isEmpty()) {
                throw noJob(store(), jobId);
            }
            throw e;
        }
        store().recordAction(actor, "rerun", old.deliveryId(), jobId, "new job " + id);
        LOG.info("admin {} re-ran job {} as job {}", actor, jobId, id);
        return new JsonAnswer().with("job", id).with("state", stateOf(id));
    }

    /**
     * The state of a job just made: {@code AWAITING_APPROVAL} for a rule with {@code approval},
     * {@code SUPERSEDED} for a build older than its key's newest, else queued (and maybe already
     * running or done), so an operator is never told "queued" of a job that waits for someone.
     */
    private String stateOf(String jobId) {
        return store().job(jobId).map(d -> d.job().state().name()).orElse(null);
    }

    JsonAnswer cancel(String jobId) {
        Job job = store().job(jobId).orElseThrow(() -> noJob(store(), jobId)).job();
        boolean cancelled = store().cancel(jobId);
        store().recordAction(actor, "cancel", job.deliveryId(), jobId,
                cancelled ? "cancelled" : "already ended (" + job.state() + ")");
        LOG.info("admin {} cancelled job {}: {}", actor, jobId, cancelled ? "cancelled" : "it had already ended");
        return new JsonAnswer().with("cancelled", cancelled);
    }

    /**
     * Approves or rejects a job awaiting an approval (the store records who and when); 409 when it
     * is not awaiting one.
     */
    JsonAnswer decide(String jobId, boolean approve) {
        Job job = store().job(jobId).orElseThrow(() -> noJob(store(), jobId)).job();
        boolean done = approve ? store().approve(jobId, actor) : store().reject(jobId, actor);
        if (!done) {
            JobState now = store().job(jobId).map(d -> d.job().state()).orElse(job.state());
            throw new ApiError(409, "job " + jobId + " is " + now + ", not awaiting an approval");
        }
        LOG.info("admin {} {} job {}", actor, approve ? "approved" : "rejected", jobId);
        return new JsonAnswer().with(approve ? "approved" : "rejected", true).with("job", jobId);
    }

    /** Matches the stored body against the rules in force now and queues what they plan. */
    JsonAnswer replay(String deliveryId) {
        Delivery d = store().delivery(deliveryId).orElseThrow(() -> ApiError.notFound("no delivery " + deliveryId))
                .delivery();
        if (d.outcome() != DeliveryOutcome.ACCEPTED || d.body() == null) {
            throw new ApiError(409, "delivery " + deliveryId + " is " + d.outcome()
                    + "; only accepted deliveries can be replayed" + (d.duplicateOf() == null ? ""
                            : " (replay the first one, " + d.duplicateOf() + ")"));
        }
        BuildEvent event;
        try {
            event = new BuildEventParser().parse(d.body());
        } catch (InvalidEventException e) {
            throw new ApiError(409, "the stored body is no longer a valid event: " + e.getMessage());
        }
        List<PlannedJob> planned = currentRules().match(d.endpoint(), event);
        List<String> ids;
        try {
            ids = planned.isEmpty() ? List.of() : store().replay(deliveryId, planned);
        } catch (StoreUnavailableException e) {
            throw e; // 503 with Retry-After (AdminApiServlet), not a conflict
        } catch (RunnerException e) {
            throw new ApiError(409, e.getMessage());
        }
        store().recordAction(actor, "replay", deliveryId, null, ids.size() + " job(s) " + ids);
        LOG.info("admin {} replayed delivery {}: {} job(s) {}", actor, deliveryId, ids.size(),
                planned.stream().map(PlannedJob::ruleName).toList());
        return new JsonAnswer().with("jobs", ids)
                .with("rules", planned.stream().map(PlannedJob::ruleName).toList())
                .with("states", ids.stream().map(this::stateOf).toList());
    }

    private RuleSet currentRules() {
        if (app.rules() != null) {
            // An operator who just edited the rules and replays expects the edit to count.
            app.rules().checkNow();
        }
        return app.rules() == null ? RuleSet.empty(Path.of("(no rules file)"),
                Clock.systemUTC().instant()) : app.rules().current();
    }
}
