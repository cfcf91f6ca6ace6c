package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.InvalidEventException;
import org.buildhook.core.LogSafe;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.StoredJobCheck;
import org.buildhook.runner.store.ActionQuery;
import org.buildhook.runner.store.AdminAction;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryCancel;
import org.buildhook.runner.store.DeliveryDetail;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.NodeLeases;
import org.buildhook.runner.store.Page;
import org.buildhook.runner.store.QueuePosition;
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

    /** Who acts: {@code <user or "token">@<remote address>}, as the audit trail records it. */
    String actor() {
        return actor;
    }

    LogFollows logFollows() {
        return app.logFollows();
    }

    Store store() {
        return app.store();
    }

    /** What this node's stop knew of a job's attempt and could not record: {@link BuildhookApplication#endNotRecorded}. */
    java.util.function.Function<String, java.util.Optional<org.buildhook.runner.engine.EndNotRecorded>> endsNotRecorded() {
        return app::endNotRecorded;
    }

    Path logDirectory() {
        return app.config().launcher().logDirectory();
    }

    /**
     * {@code GET /api/refused-builds}: the builds this node answered 503 (store unavailable) and stored by no
     * later delivery, oldest first, with {@code dropped} (beyond the list's 1,000), {@code node} and {@code store}
     * ({@code SQLITE}: this node alone; {@code POSTGRESQL}: each node of the cluster keeps a list of its own); in
     * memory, so it answers while the store is out.
     */
    JsonAnswer refusedBuilds() {
        app.deliveries().settleRefusedBuilds(); // a 503 of unknown outcome since stored: off the list (tryout50 F8)
        RefusedBuilds.View view = app.deliveries().refusedBuilds().view();
        return new JsonAnswer().with("items", view.builds().stream().map(AdminRequests::refusedBuild).toList())
                .with("dropped", view.dropped()).with("node", nodeId())
                .with("store", app.store().dialect().name());
    }

    private static Map<String, Object> refusedBuild(RefusedBuilds.Build b) {
        Map<String, Object> item = new java.util.LinkedHashMap<>();
        item.put("endpoint", b.endpoint());
        item.put("build", b.buildId());
        item.put("project", b.project());
        item.put("status", b.status());
        item.put("trigger", b.trigger());
        item.put("firstRefusedAt", b.first().toString());
        item.put("lastRefusedAt", b.last().toString());
        item.put("refusals", b.refusals());
        return item;
    }

    /**
     * {@code DELETE /api/refused-builds}: empties the list (the builds were re-sent, or will not be); logged
     * with the actor, not in the audit trail (the store may be what is out).
     */
    JsonAnswer dismissRefusedBuilds() {
        int n = app.deliveries().refusedBuilds().dismiss();
        LOG.info("{} dismissed the list of {} build(s) refused 503 to re-send", actor, n);
        return new JsonAnswer().with("dismissed", n);
    }

    /**
     * {@code GET /api/nodes}: the cluster's nodes ({@link NodesView}), this node first, with {@code node} (this
     * node's id), {@code deadNodeLimit}, {@code store} ({@code SQLITE}: this node alone; {@code POSTGRESQL}) and
     * {@code answeringJvms} (this node and the running ones: with this node's id taken over by another JVM, one more
     * than the running ones, nodes49).
     */
    JsonAnswer nodes() {
        NodesView view = NodesView.of(app);
        return new JsonAnswer().with("items", view.items()).with("node", nodeId())
                .with("deadNodeLimit", org.buildhook.runner.rules.Durations.describe(view.deadLimit()))
                .with("store", view.dialect().name()).with("answeringJvms", view.answeringJvms());
    }

    /**
     * {@code DELETE /api/nodes/{id}}: forgets a node killed and never started again ({@link NodeLeases#forget}), so the
     * nodes list and {@code buildhook_cluster_nodes} no longer count it; {@code 200 {"forgotten": id, ...}}, with
     * {@code "gone": true} for a node taken for gone before the dead-node limit (its process on this host ended). Refused
     * {@code 409} with what, why and what to do for this node, a node that runs (heard from within the dead-node
     * limit), one that holds jobs or resource units not yet taken over, or one whose database session still holds its
     * id; {@code 404} for an id no node claims. Logged with the actor and recorded in the audit trail.
     *
     * @param nodeId the node's {@code runner.node-id} as {@code GET /api/nodes} lists it
     * @throws ApiError 404 or 409 as above
     */
    JsonAnswer forgetNode(String nodeId) {
        java.time.Duration limit = app.config().engine().deadNodeLimit();
        String dead = org.buildhook.runner.rules.Durations.describe(limit);
        // The audit row is written in the forget's own transaction: forgotten and recorded, or neither (lock30).
        NodeLeases.Forget f = store().forgetNode(nodeId, nodeId(), limit, actor, done -> "node " + nodeId + " ("
                + done.holder().orElseThrow().describe() + "), " + forgottenAs(done, limit));
        String quoted = "node '" + LogSafe.of(nodeId) + "'";
        String heard = org.buildhook.runner.rules.Durations.describe(f.silentFor());
        // Not silent past the limit, yet taken for gone: its process on this host has ended (the list says "gone");
        // "silent for 2.7s" read as a contradiction of the dead-node limit (tryout29 F6).
        boolean gone = gone(f, limit);
        String state = gone ? "gone (its process on this host has ended; heard from " + heard + " ago)"
                : "silent (for " + heard + ")";
        switch (f.outcome()) {
            case UNKNOWN -> throw ApiError.notFound(store().dialect() == org.buildhook.runner.store.Dialect.SQLITE
                    // tryout29 F6: true, but an earlier run's id (<hostname>-<pid>) is no node to forget there.
                    ? "no " + quoted + " is known to the store: a SQLite store has one node, this one ('"
                            + LogSafe.of(nodeId()) + "'), and keeps no claim of any other, so there is no node to"
                            + " forget (the id of an earlier run of this server is none)"
                    : "no " + quoted + " is known to the store (none claims that id); GET /api/nodes lists them");
            case SELF -> throw new ApiError(409, quoted + " is the node answering this request: it runs, so it"
                    + " is not forgotten. Forget a node that is silent (GET /api/nodes, \"state\": \"silent\"), from any"
                    + " other node");
            case NOT_SILENT -> throw new ApiError(409, quoted + " is running: it was heard from " + heard
                    + " ago, within the dead-node limit (" + dead + "). Only a node silent for longer than that is"
                    + " forgotten; stop it first (its clean stop removes it from the list by itself). If it was"
                    + " killed, try again once it has been silent for the dead-node limit (GET /api/nodes, \"state\":"
                    + " \"silent\")");
            case HOLDS_WORK -> throw new ApiError(409, quoted + " is " + state + " but still"
                    + " holds " + f.pickedJobs() + " job(s) and " + f.heldUnits() + " unit(s) of shared resources that no"
                    + " other node has taken over yet; forgetting it now would hide them. The other nodes take them over"
                    + " within about the dead-node limit (" + dead + ") after its last heartbeat: try again then (GET"
                    + " /api/nodes, \"runningJobs\": 0)");
            case SESSION_OPEN -> throw new ApiError(409, quoted + " is silent (for " + heard + ") but a"
                    + " database session still holds its node id: its process is paused or its host is cut off"
                    + " with its connection open, and it may come back. Stop or kill its process (PostgreSQL then ends"
                    + " the session) and try again; or start a node with its id, which takes it over");
            case FORGOTTEN -> {
                NodeLeases.Holder h = f.holder().orElseThrow();
                LOG.info("{} forgot {} ({}), {}: no longer listed", actor, quoted, LogSafe.of(h.describe()),
                        forgottenAs(f, limit));
                return new JsonAnswer().with("forgotten", nodeId).with("host", h.host())
                        .with("pid", h.process().pid()).with("lastHeartbeatAt", h.renewedAt().toString())
                        .with("silentForMillis", f.silentFor().toMillis()).with("gone", gone);
            }
            default -> throw new IllegalStateException(f.outcome().name());
        }
    }

    /** Whether a forgotten node was taken for gone before the dead-node limit (its process on this host ended). */
    private static boolean gone(NodeLeases.Forget f, java.time.Duration limit) {
        return f.silentFor().compareTo(limit) <= 0;
    }

    /** How a node forgotten was found, for the log line and the audit row: "silent for 2h", or "gone: …". */
    private static String forgottenAs(NodeLeases.Forget f, java.time.Duration limit) {
        String heard = org.buildhook.runner.rules.Durations.describe(f.silentFor());
        return gone(f, limit) ? "gone: its process on this host had ended (heard from " + heard + " ago)"
                : "silent for " + heard;
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
        JobQuery query = AdminFilters.jobs(request);
        Page<Job> page = store().jobs(query);
        JsonAnswer answer = new JsonAnswer().with("items", withInterrupted(page.items()))
                .with("next", page.nextCursor());
        if (page.items().isEmpty() && query.ruleName() != null) {
            unknownRule(query.ruleName()).ifPresent(unknown -> answer.with("unknownRule", unknown));
        }
        // tryout51 F3: parent=<a delivery's id> (both are ULIDs) matches nothing: said, as logs and replay say it.
        if (page.items().isEmpty() && query.parentId() != null
                && store().deliveryRow(query.parentId()).isPresent()) {
            answer.with("parentIsDelivery", true);
        }
        return answer;
    }

    /**
     * Where each of {@code jobs} that waits only its turn ({@link Job#waitsItsTurn}) stands in the queue now, in one
     * read for the page (tryout49 F5); none asked for when no job of the page waits so.
     */
    private Map<String, QueuePosition> queuePositions(List<Job> jobs) {
        List<String> waiting = jobs.stream().filter(Job::waitsItsTurn).map(Job::id).toList();
        return waiting.isEmpty() ? Map.of() : store().queuePositions(waiting);
    }

    /**
     * For an empty list asked with {@code rule=NAME}: when no rule in force (enabled or {@code enabled: false}) has
     * that name and no stored job has it, {@code {"rule": NAME, "rulesInForce": [...], "nearest": "<name>"|null}}: a
     * misspelt rule name read as "nothing ran" (tryout47b F12). Otherwise empty (a rule that simply has no job of
     * the other filters). The stored jobs are asked for one job of that name (the rule's index), not for every name.
     */
    private java.util.Optional<Map<String, Object>> unknownRule(String name) {
        RuleSet rules = currentRules();
        List<String> inForce = new java.util.ArrayList<>(rules.ruleNames());
        inForce.addAll(rules.disabledRuleNames());
        // tryout51 F3: a follow-up's name (deploy/on-success) is a name its jobs have, and one to suggest.
        List<String> followUps = rules.followUpNames();
        if (inForce.contains(name) || followUps.contains(name)
                || !store().jobs(new JobQuery(null, name, null, null, 1)).items().isEmpty()) {
            return java.util.Optional.empty();
        }
        List<String> candidates = new java.util.ArrayList<>(inForce);
        candidates.addAll(followUps);
        Map<String, Object> unknown = new java.util.LinkedHashMap<>();
        unknown.put("rule", name);
        unknown.put("rulesInForce", inForce);
        unknown.put("nearest", org.buildhook.runner.rules.Suggestions.nearest(name, candidates).orElse(null));
        return java.util.Optional.of(unknown);
    }

    /**
     * The jobs as {@link AdminViews#job}, each with {@code interruptedAttempts}: how many of its attempts its
     * node cut short, which use no retry (final18 F9). Every answer that lists jobs has it, so a job run
     * again after a restart reads as its second run wherever it is listed (tryout20 F7). And {@code
     * notStartedAttempts}: how many of those never started their command (tryout42 F10).
     */
    private List<Map<String, Object>> withInterrupted(List<Job> jobs) {
        List<String> ids = jobs.stream().map(Job::id).toList();
        Map<String, Integer> interrupted = store().interruptedAttempts(ids);
        Map<String, Integer> notStarted = interrupted.isEmpty() ? Map.of() : store().notStartedAttempts(ids);
        Map<String, QueuePosition> positions = queuePositions(jobs);
        return AdminViews.all(jobs, j -> {
            Map<String, Object> item = AdminViews.job(j);
            item.put("interruptedAttempts", interrupted.getOrDefault(j.id(), 0));
            item.put("notStartedAttempts", notStarted.getOrDefault(j.id(), 0));
            item.put("queuePosition", AdminViews.queuePosition(positions.get(j.id())));
            return item;
        });
    }

    /**
     * The 404 for an id that is no job's. An operator who pasted a delivery's id (both are ULIDs, and
     * {@code deliveries} lists them first) is told so, with the jobs the delivery has: the ids to use.
     */
    static ApiError noJob(Store store, String id) {
        // The delivery's row and its newest jobs only: not its body, nor the thousands of jobs re-runs and
        // replays can give it, for one line of an error (lists14).
        String hint = store.deliveryRow(id).map(d -> {
            Page<Job> newest = store.jobs(new JobQuery(null, null, id, null, HINTED_JOBS));
            String ids = oldestFirst(newest.items()).stream().map(Job::id)
                    .collect(java.util.stream.Collectors.joining(", "));
            return newest.items().isEmpty() ? "; " + id + " is a delivery's id, and no rule fired for it"
                    : newest.nextCursor() == null ? "; " + id + " is a delivery's id; its job(s): " + ids
                    : "; " + id + " is a delivery's id; its newest " + HINTED_JOBS + " jobs: " + ids
                            + " (buildhook jobs --delivery " + id + " lists all)";
        }).orElse("");
        return ApiError.notFound("no job " + id + hint);
    }

    /**
     * The 404 of a replay for an id that is no delivery's. An operator who pasted a job's id ({@code jobs} lists them
     * first) is told so, with its delivery and rule and the two commands meant (tryout47b F5: it said only "no delivery
     * X", where {@code logs} given a delivery's id names its jobs).
     */
    static ApiError noDelivery(Store store, String id) {
        String hint = store.job(id).map(detail -> {
            Job job = detail.job();
            return "; " + id + " is a job's id (rule " + job.ruleName() + ") of delivery " + job.deliveryId()
                    + ": buildhook replay " + job.deliveryId() + " --rule " + job.ruleName() + " plans its rule"
                    + " again for that build, buildhook rerun " + id + " runs this job again";
        }).orElse("");
        return ApiError.notFound("no delivery " + id + hint);
    }

    /** The jobs a 404 for a delivery's id given as a job's names. */
    static final int HINTED_JOBS = 20;

    JsonAnswer actions(HttpServletRequest request) {
        Page<AdminAction> page = store().actions(AdminFilters.actions(request));
        return new JsonAnswer().with("items", AdminViews.all(page.items(), AdminViews::action))
                .with("next", page.nextCursor());
    }

    /**
     * The delivery with its body, its jobs and the actions on it. Both lists grow with every re-run and
     * replay: {@code ?jobs=N} and {@code ?actions=N} bound each to its newest N (still oldest first) and
     * add {@code jobsNext} / {@code actionsNext}, the cursor of the rest in {@code GET /api/jobs?delivery=}
     * and {@code GET /api/actions?delivery=}. Without them the answer is what it always was: every one.
     */
    JsonAnswer delivery(String id, HttpServletRequest request) {
        Integer jobs = AdminFilters.newest(request, "jobs");
        Integer actions = AdminFilters.newest(request, "actions");
        JsonAnswer answer = new JsonAnswer();
        if (jobs == null) {
            DeliveryDetail d = store().delivery(id).orElseThrow(() -> ApiError.notFound("no delivery " + id));
            answer.with("delivery", AdminViews.deliveryDetail(d.delivery()))
                    .with("jobs", withInterrupted(d.jobs()));
        } else {
            Delivery d = store().deliveryWithBody(id).orElseThrow(() -> ApiError.notFound("no delivery " + id));
            Page<Job> page = store().jobs(new JobQuery(null, null, id, null, jobs));
            answer.with("delivery", AdminViews.deliveryDetail(d))
                    .with("jobs", withInterrupted(oldestFirst(page.items())))
                    .with("jobsNext", page.nextCursor());
        }
        if (actions == null) {
            return answer.with("actions", AdminViews.all(store().actionsOnDelivery(id), AdminViews::action));
        }
        Page<AdminAction> page = store().actions(ActionQuery.onDelivery(id, actions));
        return answer.with("actions", AdminViews.all(oldestFirst(page.items()), AdminViews::action))
                .with("actionsNext", page.nextCursor());
    }

    /**
     * The job with its attempts and the actions on it; {@code ?actions=N} bounds those to the newest N
     * (still oldest first) and adds {@code actionsNext}, the cursor of the rest in
     * {@code GET /api/actions?job=}: a job re-run thousands of times has thousands.
     */
    /** The attempts as this node shows them: each log where this node reads it ({@link JobLogSender#here}). */
    private List<JobAttempt> hereAll(List<JobAttempt> attempts) {
        org.buildhook.runner.exec.JobLogs logs = new org.buildhook.runner.exec.JobLogs(logDirectory());
        return attempts.stream().map(a -> JobLogSender.here(a, logs)).toList();
    }

    JsonAnswer job(String id, HttpServletRequest request) {
        Integer actions = AdminFilters.newest(request, "actions");
        JobDetail j = store().job(id).orElseThrow(() -> noJob(store(), id));
        Map<String, Object> job = AdminViews.jobDetail(j.job());
        job.put("interruptedAttempts", Job.interrupted(j.attempts()));
        job.put("notStartedAttempts", Job.notStarted(j.attempts()));
        job.put("queuePosition", AdminViews.queuePosition(queuePositions(List.of(j.job())).get(id)));
        JsonAnswer answer = new JsonAnswer().with("job", job)
                .with("attempts", AdminViews.all(hereAll(j.attempts()), AdminViews::attempt));
        if (actions == null) {
            return answer.with("actions", AdminViews.all(store().actionsOnJob(id), AdminViews::action));
        }
        Page<AdminAction> page = store().actions(ActionQuery.onJob(id, actions));
        return answer.with("actions", AdminViews.all(oldestFirst(page.items()), AdminViews::action))
                .with("actionsNext", page.nextCursor());
    }

    private static <T> List<T> oldestFirst(List<T> newestFirst) {
        List<T> list = new java.util.ArrayList<>(newestFirst);
        java.util.Collections.reverse(list);
        return list;
    }

    /**
     * What a re-run of the job would warn of, without making it ({@code GET /api/jobs/{id}/rerun-warnings}), so a
     * client can ask before it acts: a newer build's job of its rule that succeeded ({@link OlderBuildWarning}); and,
     * since a re-run runs the old job's stored plan, that its rule in force plans another command, environment or
     * working directory for the delivery now, or none ({@link StoredCommandWarning}, approve41).
     */
    JsonAnswer rerunPreview(String jobId) {
        RuleSet rules = currentRules();
        Job job = store().job(jobId).orElseThrow(() -> noJob(store(), jobId)).job();
        String project = store().deliveryRow(job.deliveryId()).map(d -> d.summary().project()).orElse(null);
        java.util.Optional<String> refused = refusal(jobId);
        if (refused.isPresent()) {
            return new JsonAnswer().with("job", jobId).with("rule", job.ruleName()).with("refused", refused.get())
                    .with("warnings", List.of("a re-run is refused: " + refused.get()));
        }
        List<String> warnings = new java.util.ArrayList<>();
        OlderBuildWarning.of(store(), job.ruleName(), job.workflow().buildId(), project, "this re-run")
                .ifPresent(warnings::add);
        warnings.addAll(rerunRuleWarnings(rules, job));
        return new JsonAnswer().with("job", jobId).with("rule", job.ruleName()).with("warnings", warnings);
    }

    /**
     * What a re-run of {@code job} sets off that one may not expect of its rule, as it runs the command the job was
     * stored with: its rule is not in {@code rules} (disabled, removed, or renamed away: tryout41 F2, where the cancel
     * message's advice to re-run ran the removed rule's command without a word), said with the command and, when a rule
     * in force takes it over ({@code renamed-from}, or the same {@code run}: {@link #inForceFor}), the replay that makes
     * a job of that rule; or its rule in force plans another command, environment or working directory for its
     * delivery now ({@link StoredCommandWarning}). The same words before the re-run (its preview) and after (its
     * answer). Empty when neither.
     */
    private List<String> rerunRuleWarnings(RuleSet rules, Job job) {
        if (job.workflow().parentId() != null) {
            // A follow-up ("deploy/on-failure") is of its parent's rule: said only when that rule is not in force at all.
            String rule = job.ruleName().contains("/") ? job.ruleName().substring(0, job.ruleName().indexOf('/'))
                    : job.ruleName();
            return rules.ruleNames().contains(rule) ? List.of() : List.of("its rule '" + rule + "' is not in the rules"
                    + " in force on node " + nodeId() + " (" + rules.source() + "): a re-run of its follow-up '"
                    + job.ruleName() + "' runs the command it was stored with all the same: "
                    + StoredCommandWarning.command(job.argv(), job.id()) + ". If that is not meant, do not re-run it");
        }
        java.util.Optional<String> inForce = inForceFor(rules, job);
        java.util.Optional<String> changed = inForce.flatMap(rule -> StoredCommandWarning.of(store(), rules, job, rule,
                nodeId(), StoredCommandWarning.Act.RERUN));
        if (changed.isPresent()) {
            return List.of(changed.get()); // it names the rule in force and the replay already
        }
        if (inForce.isPresent() && inForce.get().equals(job.ruleName())) {
            return List.of();
        }
        String command = StoredCommandWarning.command(job.argv(), job.id());
        String notInForce = "its rule '" + job.ruleName() + "' is not in the rules in force on node " + nodeId() + " ("
                + rules.source() + ")";
        return List.of(inForce.map(to -> notInForce + "; rule '" + to + "' takes it over (" + (rules.renamedFrom()
                .getOrDefault(to, List.of()).contains(job.ruleName()) ? "renamed-from" : "the same run") + "): a"
                + " re-run makes a job of the old name '" + job.ruleName() + "', which runs the command it was stored"
                + " with: " + command + ". For a job of the rule in force, replay its delivery instead: buildhook"
                + " replay " + job.deliveryId() + " --rule " + to)
                .orElse(notInForce + ": a re-run runs the command it was stored with all the same: " + command
                        + ". If the rule was disabled or removed on purpose, do not re-run the job; once re-run,"
                        + " only a cancel of the new job stops it (buildhook cancel NEW_JOB)"));
    }

    JsonAnswer rerun(String jobId) {
        Job old = store().job(jobId).orElseThrow(() -> noJob(store(), jobId)).job();
        // A re-run runs the job's stored plan: one this build refuses would be cancelled at its start (tryout42 F7).
        refusal(jobId).ifPresent(why -> {
            LOG.warn("admin {} asked to re-run job {}, refused: {}", actor, jobId, why);
            throw new ApiError(409, "job " + jobId + " cannot be re-run: " + why);
        });
        // rename34: a rule that asks for an approval now has its re-runs await one, whatever the old job's plan said.
        // review36: so does the rule in force that took the old job's rule's name over (renamed-from, or the same run);
        // takeover42: not one in force beside it (inForceFor), whose approval is its own.
        RuleSet rules = currentRules();
        List<String> ruleWarnings = rerunRuleWarnings(rules, old);
        String asking = inForceFor(rules, old).orElse(old.ruleName());
        java.time.Duration approval = rules.approvalExpiries().get(asking);
        boolean gated = approval != null && !old.workflow().needsApproval() && old.workflow().parentId() == null;
        String askedBy = asking.equals(old.ruleName()) ? "its rule '" + old.ruleName() + "'"
                : "rule '" + asking + "' (renamed from '" + old.ruleName() + "')";
        String id;
        try {
            id = store().rerun(jobId, approval, rules.approvalRequests().get(asking));
        } catch (StoreUnavailableException e) {
            throw e;
        } catch (RunnerException e) {
            // Retention deleted the job with its delivery since it was read above: as if it had been gone.
            if (store().job(jobId).isEmpty()) {
                throw noJob(store(), jobId);
            }
            throw e;
        }
        store().recordAction(actor, "rerun", old.deliveryId(), jobId, "new job " + id + (gated ? ", awaiting the"
                + " approval " + askedBy + " asks for now (job " + jobId + " was planned without one)" : ""));
        if (gated) {
            LOG.info("job {}, re-run of job {}, awaits the approval {} asks for in the rules in force now (job {} was"
                    + " planned without one); approve it with buildhook approve {}", id, jobId, askedBy, jobId, id);
        }
        // tryout41 F2: what the preview said of its rule, in the same words (a client that said it need not again).
        ruleWarnings.forEach(w -> LOG.warn("admin {} re-ran job {} as job {}: {}", actor, jobId, id, w));
        if (old.state().isFinal()) {
            LOG.info("admin {} re-ran job {} as job {}", actor, jobId, id);
            return new JsonAnswer().with("job", id).with("state", stateOf(id)).with("warnings", ruleWarnings);
        }
        // tryout16 F8: two jobs of one build, both waiting; approving both ran the build twice.
        String newState = stateOf(id);
        String warning = notEndedWarning(jobId, old.state(), id, newState);
        LOG.warn("admin {} re-ran job {} as job {}, but {}", actor, jobId, id, warning);
        List<String> warnings = new java.util.ArrayList<>(ruleWarnings);
        warnings.add(warning);
        // tryout35 F2: the one who asked is told too, not only the server log; the answer stays 202.
        return new JsonAnswer().with("job", id).with("state", newState)
                .with("warnings", warnings)
                .header("Deprecation", UnboundedDetails.DEPRECATION);
    }

    /**
     * What the answer to a re-run of a job that has not ended says ({@code warnings}), for the one who asked, and
     * the server log. A job awaiting an approval has not run: the two run the build twice only if both are
     * approved, and the remedy is {@code reject}, since {@code cancel} of such a job starts its on-cancel
     * (tryout36 F10: it said "both will run" and advised cancel).
     */
    static String notEndedWarning(String jobId, JobState state, String newId, String newState) {
        String deprecated = " A re-run of a job that has not ended is deprecated since 2026-12-01: a later version"
                + " answers 409 (";
        if (state == JobState.AWAITING_APPROVAL) {
            String both = JobState.AWAITING_APPROVAL.name().equals(newState)
                    ? "job " + newId + ", its re-run, awaits one too: approving both runs the build twice; reject"
                            + " one of them if that was not meant (buildhook reject " + newId + ")"
                    : "job " + newId + ", its re-run, does not wait for one: approving job " + jobId + " as well"
                            + " runs the build twice; reject it if that was not meant (buildhook reject " + jobId
                            + ")";
            return "job " + jobId + " has not run yet: it awaits an approval (AWAITING_APPROVAL); " + both + "."
                    + deprecated + "approve or reject the job first, instead; a reject starts no follow-up,"
                    + " a cancel starts its on-cancel)";
        }
        return "job " + jobId + " has not ended (" + state + "): both will run, as two jobs of the same build;"
                + " cancel one of them if that was not meant (buildhook cancel " + newId + ")." + deprecated
                + "cancel the job first, or approve it, instead)";
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
        // Its state now: a job cancelled before it ran has ended (CANCELLED), a running one is still
        // RUNNING until its node stops it, so a client can say which (tryout21 F8.6); and its message, which says
        // what the cancel met (a job in its retry's backoff had run: tryout25 F3).
        Job now = store().job(jobId).map(d -> d.job()).orElse(job);
        return new JsonAnswer().with("cancelled", cancelled).with("state", now.state().name())
                .with("message", now.message());
    }

    /**
     * {@code POST /api/deliveries/{id}/cancel}: cancels every job of the delivery that has not ended, each as {@link
     * #cancel} cancels it alone, in one transaction ({@link Store#cancelDelivery}). 200 with {@code delivery}, {@code
     * jobs} (each job not ended when read, oldest first: {@code id}, {@code rule}, {@code runName}, {@code parent},
     * {@code cancelled} as a single cancel's, {@code state} after it, {@code message}), {@code cancelled} (how many
     * were) and {@code ended} (how many of its jobs had ended when the cancel came to them, left as they were, or were
     * past their approval's expiry, now EXPIRED; one that ended as the cancel read it, and an expired one, is listed
     * too, not cancelled: each job is in one of the two counts); 404 for an unknown delivery.
     * The jobs the delivery gets after it (the {@code on-cancel} follow-ups it starts, a re-run, a replay) are not in
     * it.
     */
    JsonAnswer cancelDelivery(String deliveryId) {
        DeliveryCancel done = store().cancelDelivery(deliveryId, actor).orElseThrow(() -> ApiError.notFound(
                "no delivery " + deliveryId + store().job(deliveryId).map(d -> "; " + deliveryId + " is a job's id"
                        + " (rule " + d.job().ruleName() + ") of delivery " + d.job().deliveryId() + ": buildhook"
                        + " cancel " + deliveryId + " cancels that job, buildhook cancel --delivery "
                        + d.job().deliveryId() + " every job of its delivery not ended").orElse("")));
        List<Map<String, Object>> jobs = new java.util.ArrayList<>();
        int cancelled = 0;
        for (DeliveryCancel.JobCancel j : done.jobs()) {
            Map<String, Object> item = new java.util.LinkedHashMap<>();
            item.put("id", j.id());
            item.put("rule", j.rule());
            item.put("runName", j.runName());
            item.put("parent", j.parentId());
            item.put("cancelled", j.cancelled());
            item.put("state", j.state().name());
            item.put("message", j.message());
            jobs.add(item);
            cancelled += j.cancelled() ? 1 : 0;
        }
        LOG.info("admin {} cancelled delivery {}: {} job(s) cancelled {}, {} had ended", actor, deliveryId, cancelled,
                done.jobs().stream().filter(DeliveryCancel.JobCancel::cancelled).map(DeliveryCancel.JobCancel::id)
                        .toList(), done.ended());
        return new JsonAnswer().with("delivery", deliveryId).with("jobs", jobs).with("cancelled", cancelled)
                .with("ended", done.ended());
    }

    /**
     * Approves or rejects a job awaiting an approval (the store records who and when); 409 when it
     * is not awaiting one. An approval first puts a rules file edited since the last look in force (tryout39 F6): its
     * reload cancels the jobs of a rule it removed, so one approved the moment after is refused 409 with that reason
     * rather than run its stored command and be cancelled once it may have started.
     */
    JsonAnswer decide(String jobId, boolean approve) {
        RuleSet rules = approve ? currentRules() : null;
        Job job = store().job(jobId).orElseThrow(() -> noJob(store(), jobId)).job();
        if (approve && job.state() == JobState.AWAITING_APPROVAL) {
            refusal(jobId).ifPresent(why -> {
                LOG.warn("admin {} asked to approve job {}, refused: {}", actor, jobId, why);
                throw new ApiError(409, "job " + jobId + " cannot be approved: " + why + "; to drop it: buildhook"
                        + " reject " + jobId);
            });
            // tryout57 F4: its rule is taken out by the rules in force, and the reload's cancel of its jobs did not get
            // through (the store refused it): cancelled now, with the same words, so that the approval below is
            // refused as after that cancel.
            app.ruleTakenOut(job).ifPresent(why -> store().cancelJobOfRuleNotInForce(jobId, why));
        }
        // What it superseded, as its transaction found the jobs, locked: ended SUPERSEDED by then, they are read in it
        // (review56 F3); a read before it named a job that started meanwhile as queued (review57a F3).
        java.util.Optional<Store.Decision> approved = approve ? store().approveSaying(jobId, actor)
                : java.util.Optional.empty();
        boolean done = approve ? approved.isPresent() : store().reject(jobId, actor);
        if (!done) {
            Job read = store().job(jobId).map(d -> d.job()).orElse(job);
            // A cancelled job says why: its rule may be disabled or removed in the rules in force (tryout24 F1).
            String why = read.state() == JobState.CANCELLED && read.message() != null ? ": " + read.message() : "";
            throw new ApiError(409, "job " + jobId + " is " + read.state() + ", not awaiting an approval" + why);
        }
        LOG.info("admin {} {} job {}", actor, approve ? "approved" : "rejected", jobId);
        JsonAnswer answer = new JsonAnswer().with(approve ? "approved" : "rejected", true).with("job", jobId);
        List<String> warnings = approve ? approvalWarnings(rules, job,
                SupersedeWarning.of(approved.get().superseded(), job)) : List.of();
        if (!warnings.isEmpty()) {
            warnings.forEach(w -> LOG.warn("admin {} approved job {}: {}", actor, jobId, w));
            answer.with("warnings", warnings);
        }
        return answer;
    }

    /**
     * What an approval of the job would warn of, without giving it ({@code GET /api/jobs/{id}/approve-warnings},
     * tryout39 F6): {@link #approvalWarnings}, in the words the approval's answer has, so that a client asks before it
     * acts (the answer came once the job had started). Empty for a job whose rule in force plans what it was stored
     * with, and for one not awaiting an approval (its approval is refused 409).
     */
    JsonAnswer approvePreview(String jobId) {
        RuleSet rules = currentRules();
        Job job = store().job(jobId).orElseThrow(() -> noJob(store(), jobId)).job();
        java.util.Optional<String> refused = job.state() == JobState.AWAITING_APPROVAL
                ? refusal(jobId).or(() -> app.ruleTakenOut(job)) : java.util.Optional.empty();
        if (refused.isPresent()) {
            return new JsonAnswer().with("job", jobId).with("rule", job.ruleName()).with("refused", refused.get())
                    .with("warnings", List.of("an approval is refused: " + refused.get()));
        }
        return new JsonAnswer().with("job", jobId).with("rule", job.ruleName()).with("warnings",
                job.state() == JobState.AWAITING_APPROVAL
                        ? approvalWarnings(rules, job, SupersedeWarning.of(store(), job)) : List.of());
    }

    /**
     * Why this build refuses to run job {@code jobId} as stored (tryout42 F7: its rule as stored, planned by an older
     * build, holds the payload's text in shell code; values43 V2: a payload value it was stored with is one planning
     * refuses; {@link StoredJobCheck}); empty when it would run it. Read with its real environment, as the engine
     * reads it; its delivery's body only when its rule writes a payload value.
     */
    private java.util.Optional<String> refusal(String jobId) {
        return store().ledger().job(jobId).flatMap(job -> StoredJobCheck.refusal(job)
                .or(() -> StoredJobCheck.valuesRefusal(job, () -> store().ledger().body(job.deliveryId()).orElse(null),
                        id -> store().ledger().job(id))));
    }

    /**
     * What an approval of {@code job} sets off that its approver may not expect, as it runs the command it was stored
     * with: its rule is not in {@code rules} ({@link #ruleNotInForce}); or its rule in force (or the one that took it
     * over) plans another command, environment or working directory for its delivery now, or none (approve41,
     * {@link StoredCommandWarning}); and another job of its rule ran, runs or awaits an approval for its delivery
     * ({@link SameRuleJobsWarning}); and the approval's {@link SupersedeWarning}. Empty when none.
     *
     * @param supersedes the approval's {@link SupersedeWarning}: for the preview, what it would supersede; for the
     *                   approval's answer, what its transaction superseded
     */
    private List<String> approvalWarnings(RuleSet rules, Job job, java.util.Optional<String> supersedes) {
        java.util.Optional<String> inForce = inForceFor(rules, job);
        List<String> warnings = new java.util.ArrayList<>();
        if (inForce.isEmpty()) {
            warnings.add(ruleNotInForce(rules, job));
        } else {
            StoredCommandWarning.of(store(), rules, job, inForce.get(), nodeId(), StoredCommandWarning.Act.APPROVAL)
                    .ifPresent(warnings::add);
        }
        // tryout42 F6: and that another job of its rule (or of the rule that takes it over) ran, runs or waits for the
        // delivery: approved, it runs the rule for the delivery once more.
        SameRuleJobsWarning.of(store(), job, inForce.orElse(null), other -> inForceFor(rules, other))
                .ifPresent(warnings::add);
        // tryout55 F1: and that it supersedes older builds' jobs of its key, stopping a running one under running: cancel.
        supersedes.ifPresent(warnings::add);
        return warnings;
    }

    /**
     * The rule of {@code rules} that runs {@code job}'s rule now: that rule itself when in force, else the first rule
     * in force (in file order) that takes it over: by {@code renamed-from}, or by the same {@code run} word for word
     * unless it was in force beside the job's rule, which shows in the store as a job of it with that {@code run}
     * planned together with one of the job's rule for the job's delivery ({@link Store#plannedBeside}; takeover42: a
     * rule in force all along beside a rule disabled since, both with one {@code run}, was taken as its new name, and
     * a re-run's warning advised a replay that would run it a second time for the delivery). Empty when none does.
     * Without reload history, so every node with these rules answers the same; reads the store only for a rule not
     * in force that a rule in force has the same {@code run} as.
     */
    private java.util.Optional<String> inForceFor(RuleSet rules, Job job) {
        if (rules.ruleNames().contains(job.ruleName())) {
            return java.util.Optional.of(job.ruleName());
        }
        org.buildhook.runner.store.RuleRenames renames = org.buildhook.runner.store.RuleRenames.of(
                rules.renamedFrom(), rules.snapshots());
        // Read once, and only when a rule has the same run: in force beside the job's rule with this run, it is not
        // its new name.
        List<Map<String, java.util.Set<String>>> beside = new java.util.ArrayList<>(1);
        return renames.takenBy(job.ruleName(), job.ruleSnapshot(), rule -> {
            if (beside.isEmpty()) {
                beside.add(store().plannedBeside(job.deliveryId(), job.ruleName()));
            }
            return beside.get(0).getOrDefault(rule, java.util.Set.of()).stream().anyMatch(s -> renames.sameRun(rule, s));
        }).map(Map.Entry::getKey);
    }

    /**
     * What an approval of {@code job}, whose rule is not in {@code rules} and taken over by no rule that is ({@code
     * renamed-from}, or the same {@code run}: {@link #inForceFor}), sets off that its approver may not expect (tryout38
     * F1): its rule was removed while the server was stopped (a rule merely absent at a start is not cancelled), or is
     * left while the nodes' rules differ, so the job runs the command it was stored with, which this says (tryout39
     * F6). The same words before the approval (its preview) and after (its answer): true of both, and a client that
     * said the first need not say the second.
     */
    private String ruleNotInForce(RuleSet rules, Job job) {
        String command = StoredCommandWarning.command(job.argv(), job.id());
        return "its rule '" + job.ruleName() + "' is not in the rules in force on node " + nodeId() + " ("
                + rules.source() + "): approved, it runs the command it was stored with: " + command + ". If the"
                + " rule was removed on purpose, reject the job instead (buildhook reject " + job.id() + "); once"
                + " approved, only a cancel stops it (buildhook cancel " + job.id() + ")";
    }

    /**
     * Matches the stored body against the rules in force now and queues what they plan: every firing rule's jobs,
     * or only those of {@code rules} when given ({@link ReplayedRules}).
     *
     * @param rules the {@code ?rule=NAME} values, or null for every firing rule
     */
    JsonAnswer replay(String deliveryId, String[] rules) {
        List<PlannedJob> planned = replayPlan(deliveryId, rules).jobs();
        List<String> ids;
        try {
            ids = planned.isEmpty() ? List.of() : store().replay(deliveryId, planned);
        } catch (StoreUnavailableException e) {
            throw e; // 503 with Retry-After (AdminApiServlet), not a conflict
        } catch (RunnerException e) {
            throw new ApiError(409, e.getMessage());
        }
        store().recordAction(actor, "replay", deliveryId, null, ids.size() + " job(s) " + ids
                + (rules == null || rules.length == 0 ? "" : " of rule(s) " + LogSafe.escape(String.join(", ",
                        new java.util.LinkedHashSet<>(List.of(rules))))));
        LOG.info("admin {} replayed delivery {}: {} job(s) {}", actor, deliveryId, ids.size(),
                planned.stream().map(PlannedJob::ruleName).toList());
        return new JsonAnswer().with("jobs", ids)
                .with("rules", planned.stream().map(PlannedJob::ruleName).toList())
                .with("states", ids.stream().map(this::stateOf).toList());
    }

    /**
     * What a replay would plan and warn of, without making a job ({@code GET /api/deliveries/{id}/replay-warnings}): the rules of
     * the jobs it would plan and, for each rule, one line: that its jobs end superseded at once, as the replayed build is
     * older than the newest of its supersede key, and the re-run that runs the build's job instead ({@link
     * SupersededReplayWarning}, tryout45 F5); else, when its newer build's job succeeded, that the replay runs the older
     * build over it ({@link OlderBuildWarning}).
     */
    JsonAnswer replayPreview(String deliveryId, String[] rules) {
        ReplayPlan plan = replayPlan(deliveryId, rules);
        List<String> names = plan.jobs().stream().map(PlannedJob::ruleName).toList();
        List<String> warnings = new java.util.ArrayList<>();
        for (String rule : new java.util.LinkedHashSet<>(names)) {
            List<PlannedJob> ofRule = plan.jobs().stream().filter(j -> j.ruleName().equals(rule)).toList();
            java.util.Optional<String> superseded = SupersededReplayWarning.of(store(), ofRule, deliveryId,
                    plan.event().project());
            superseded.or(() -> OlderBuildWarning.of(store(), rule, plan.event().buildId(), plan.event().project(),
                    "this replay")).ifPresent(warnings::add);
        }
        return new JsonAnswer().with("rules", names).with("warnings", warnings);
    }

    private record ReplayPlan(BuildEvent event, List<PlannedJob> jobs) {
    }

    private ReplayPlan replayPlan(String deliveryId, String[] rules) {
        // Its body, not its jobs: a delivery replayed many times has thousands (lists14).
        Delivery d = store().deliveryWithBody(deliveryId).orElseThrow(() -> noDelivery(store(), deliveryId));
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
        return new ReplayPlan(event, ReplayedRules.plan(currentRules(), d.endpoint(), event, deliveryId, rules));
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
