package org.buildhook.servlet;

import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.InvalidEventException;
import org.buildhook.core.LogSafe;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.core.Verification;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.AcceptResult;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.RejectedDelivery;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The receiving pipeline of one delivery: verify the signature over the exact bytes, only then
 * parse, match the current rules, and store the delivery with its jobs in one transaction.
 * Never waits for a command.
 */
public final class DeliveryService {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryService.class);

    private final Map<String, SignatureVerifier> verifiers;
    private final BuildEventParser parser;
    private final Supplier<RuleSet> rules;
    private final Store store;
    private final Clock clock;
    private final SignatureRefusals refusals;
    private final BuildhookMetrics metrics;
    private final RefusalLog refusalLog;
    /** What becomes of a delivery whose signature holds: {@link #keep} here, a hand-over in a waiting copy. */
    private volatile java.util.function.BiFunction<NewDelivery, String, Receipt> keeper = this::keep;
    private final RefusedBuilds refusedBuilds;

    /** Without metrics of its own (they are never served). */
    public DeliveryService(Map<String, SignatureVerifier> verifiers, BuildEventParser parser, Supplier<RuleSet> rules,
            Store store, Clock clock) {
        this(verifiers, parser, rules, store, clock, BuildhookMetrics.create(verifiers.keySet(), false));
    }

    /** Counting signature failures in {@code metrics}. */
    public DeliveryService(Map<String, SignatureVerifier> verifiers, BuildEventParser parser, Supplier<RuleSet> rules,
            Store store, Clock clock, BuildhookMetrics metrics) {
        this(verifiers, parser, rules, store, clock, metrics, RefusalLog.unfolded());
    }

    /** Counting signature failures in {@code metrics}, logging refusals through {@code refusalLog}. */
    DeliveryService(Map<String, SignatureVerifier> verifiers, BuildEventParser parser, Supplier<RuleSet> rules,
            Store store, Clock clock, BuildhookMetrics metrics, RefusalLog refusalLog) {
        this(verifiers, parser, rules, store, clock, metrics, refusalLog, new RefusedBuilds(clock));
    }

    /**
     * As above, keeping the builds it answers 503 in {@code refusedBuilds}: the list a waiting copy of the web
     * application began ({@link #waiting}), carried into the copy once it has started.
     */
    DeliveryService(Map<String, SignatureVerifier> verifiers, BuildEventParser parser, Supplier<RuleSet> rules,
            Store store, Clock clock, BuildhookMetrics metrics, RefusalLog refusalLog, RefusedBuilds refusedBuilds) {
        this.metrics = metrics;
        this.refusalLog = refusalLog;
        this.verifiers = Map.copyOf(verifiers);
        this.parser = parser;
        this.rules = rules;
        this.store = store;
        this.clock = clock;
        this.refusals = new SignatureRefusals(clock);
        this.refusedBuilds = refusedBuilds;
    }

    /** The signatures this node refused lately, for the status page. */
    SignatureRefusals refusals() {
        return refusals;
    }

    /** The builds answered 503 (store unavailable) and not stored since: the ones to re-send. */
    RefusedBuilds refusedBuilds() {
        return refusedBuilds;
    }

    /** Where refused deliveries are logged (also the servlet's own refusals: too large). */
    RefusalLog refusalLog() {
        return refusalLog;
    }

    public Receipt receive(IncomingDelivery in) {
        return receive(in.endpoint(), in.body(), in.signatures(), in::headers, in.remote());
    }

    /**
     * {@link #receive(IncomingDelivery)}, with the headers kept with a delivery asked for only once its
     * signature holds: a refused delivery (unknown endpoint, bad signature) costs no header copies.
     *
     * @param keptHeaders the headers worth keeping (lower-case names), as {@link IncomingDelivery#headers}
     */
    Receipt receive(String endpoint, byte[] body, List<String> signatures, Supplier<Map<String, String>> keptHeaders,
            String remote) {
        SignatureVerifier verifier = verifiers.get(endpoint);
        if (verifier == null) {
            String safe = LogSafe.of(endpoint);
            refusalLog.refused(LOG, "deliveries to unknown endpoint '" + safe + "' refused", remote,
                    () -> LOG.warn("delivery from {} to unknown endpoint '{}' refused (configured: {})", remote,
                            safe, verifiers.keySet()));
            return Receipt.of(Receipt.Kind.UNKNOWN_ENDPOINT, "no endpoint named '" + endpoint + "'");
        }
        Verification verification = verifier.verify(body, Map.of(SignatureVerifier.HEADER, signatures));
        if (!verification.valid()) {
            metrics.signatureFailure(endpoint, verification.failure());
            refusals.record(endpoint, remote, verification.failure().description());
            // The precise reason is for the operator only; the client gets a generic 401.
            refusalLog.refused(LOG, "deliveries to endpoint '" + endpoint + "' refused: " + verification.reason(),
                    remote, () -> LOG.warn("delivery from {} to endpoint '{}' refused: {} ({} bytes)",
                            remote, endpoint, verification.reason(), body.length));
            return Receipt.of(Receipt.Kind.UNAUTHORIZED, verification.reason());
        }
        return keeper.apply(new NewDelivery(endpoint, clock.instant(), remote, keptHeaders.get(), body),
                verifier.secretCount() > 1 ? "; signed with secret #" + verification.secretIndex() : "");
    }

    /**
     * Stores a delivery whose signature was verified (here, or by the waiting copy of the web application that
     * handed it over: {@link DeliveryHandOver}): parses it, matches the rules in force, stores it with its jobs
     * and logs what became of it, as {@link #receive(IncomingDelivery)} does after the signature.
     *
     * @param secret what the log lines say of the secret that matched ({@link #accept(NewDelivery, String)})
     */
    Receipt keep(NewDelivery delivery, String secret) {
        try {
            // Each answer of PostgreSQL bounded (Store.forASender, 20 s: below the 30 s after which JobServ's sender
            // gives up, so that it gets the 503 and retries): one that never came (its server process stopped, the
            // database's host frozen, a network that drops the connection without a word) held the request thread
            // until TCP's keepalive gave up, two hours and more, and enough of them left no thread even for
            // /healthz. Not answered in time, the accept is a store outage: 503 with Retry-After, as when the store
            // cannot be reached. Its statement may have committed all the same (only its answer was lost): JobServ's
            // retry, or the operator's re-send, of the same body is then answered as a duplicate (store.dedup-window)
            // and starts nothing.
            return store.forASender(() -> accept(delivery, secret));
        } catch (StoreUnavailableException e) {
            return notStored(delivery, null, e); // storing a body that is no event (store.reject)
        }
    }

    /**
     * The pipeline of a copy of the web application that waits for its previous copy in this JVM to stop
     * ({@link BuildhookListener}): it verifies deliveries with its own endpoints and secrets, then hands each
     * to {@code started}'s pipeline once this copy runs, else to the previous copy ({@code handOver}, {@link
     * DeliveryHandOver}); when there is none (a version without the hand-over) or it is closed (its store is
     * closing), the delivery is not stored: answered 503, and logged naming its build, as a delivery the store
     * could not take. The builds answered 503 here, or by the previous copy through the hand-over, are kept in
     * {@link #refusedBuilds()}, which the copy keeps once started ({@link BuildhookApplication#start(BuildhookConfig,
     * java.util.function.Function, RefusedBuilds)}): the builds of a redeploy's 503 gap are listed to re-send.
     *
     * @param handOver the previous copy's hand-over, looked for at each delivery
     * @param started  this copy's own pipeline once it has started, else null
     * @param waitingFor what this copy waits for, for the log line of a delivery not stored
     */
    static DeliveryService waiting(Map<String, SignatureVerifier> verifiers, BuildhookMetrics metrics, Clock clock,
            Supplier<java.util.Optional<java.util.function.Function<Map<String, Object>, Map<String, Object>>>> handOver,
            Supplier<DeliveryService> started, String waitingFor) {
        DeliveryService service = new DeliveryService(verifiers, new BuildEventParser(), null, null, clock, metrics,
                RefusalLog.unfolded());
        service.keeper = (delivery, secret) -> {
            DeliveryService own = started.get();
            if (own != null) {
                return own.keep(delivery, secret);
            }
            java.util.Optional<java.util.function.Function<Map<String, Object>, Map<String, Object>>> previous =
                    handOver.get();
            Map<String, Object> answer = previous.isEmpty() ? null
                    : previous.get().apply(DeliveryHandOver.request(delivery, secret));
            BuildEvent event;
            try {
                event = service.parser.parse(delivery.body());
            } catch (InvalidEventException e) {
                event = null;
            }
            if (answer != null) {
                Receipt receipt = DeliveryHandOver.receipt(answer);
                if (event != null) {
                    // This copy's list, which it keeps once started (the previous copy's goes with it): a build the
                    // previous copy could not store is to re-send; one it stored (a retry) no longer is.
                    if (receipt.kind() == Receipt.Kind.UNAVAILABLE) {
                        service.refusedBuilds.refused(delivery.endpoint(), event.buildId(), event.project(),
                                event.status().value(), event.triggerName());
                    } else if (receipt.kind() == Receipt.Kind.ACCEPTED || receipt.kind() == Receipt.Kind.DUPLICATE) {
                        service.refusedBuilds.stored(delivery.endpoint(), event.buildId(), event.project(),
                                event.status().value(), event.triggerName());
                    }
                }
                return receipt;
            }
            String why = previous.isEmpty()
                    ? "no previous copy takes deliveries from this one (a version without the hand-over, or its store"
                            + " has closed)"
                    : "that copy's store has closed";
            return service.notStored(delivery, event, new StoreUnavailableException(waitingFor + ", and " + why
                    + ": this copy stores deliveries once it has started", null));
        };
        return service;
    }

    /**
     * The {@code 503} of a delivery the store could not take. Folded like the refusals: while the store
     * is out (a locked SQLite file, PostgreSQL down) every delivery meets the same cause, and a sender
     * retrying would write a line each. The build is named, in the full line and in the summary's kind
     * (so each build has a line of its own and its retries are folded into it): JobServ gives up after
     * about 7 s, and an outage longer than that leaves the operator to re-send exactly these builds. The build
     * is also kept in {@link #refusedBuilds()} until a later delivery of it is stored, for the status page,
     * {@code GET /api/refused-builds} and the gauge {@code buildhook_refused_builds} (tryout26 F4).
     *
     * @param event the delivery's event, or {@code null} when the body was not one
     */
    private Receipt notStored(NewDelivery delivery, BuildEvent event, StoreUnavailableException e) {
        String endpoint = delivery.endpoint();
        String remote = delivery.remoteAddress();
        String build = event == null ? "" : " (" + describe(event) + ")";
        boolean unknown = StoreUnavailableException.outcomeUnknown(e);
        if (event != null) {
            refusedBuilds.refused(endpoint, event.buildId(), event.project(), event.status().value(),
                    event.triggerName(), unknown ? delivery.receivedAt() : null);
        }
        if (unknown) {
            // PostgreSQL did not answer in time (Store.look), or the connection broke after the statement (or its
            // commit) was sent (a crash, pg_ctl stop -m immediate, a network cut: tryout50 F8): the delivery may be
            // stored all the same, only the answer was lost; "not stored" was untrue then. A re-send is harmless: a
            // duplicate, which starts nothing. The list of builds to re-send drops it once the store shows it stored.
            String how = StoreUnavailableException.unanswered(e) ? "not answered by the store in time"
                    : "not answered by the store (its connection broke after the delivery was sent)";
            refusalLog.refused(LOG, Level.ERROR, "deliveries to endpoint '" + endpoint + "' " + how + ", answered 503"
                    + build, remote,
                    () -> LOG.error("delivery from {} to endpoint '{}' {}, answering 503{}: {}; it may be stored all the"
                            + " same (only the store's answer was lost): JobServ's retry, or a re-send of this build, is"
                            + " then answered as a duplicate and starts nothing", remote, endpoint, how, build,
                            e.getMessage()));
            return Receipt.of(Receipt.Kind.UNAVAILABLE, e.getMessage());
        }
        refusalLog.refused(LOG, Level.ERROR, "deliveries to endpoint '" + endpoint + "' not stored: storage"
                + " unavailable, answered 503" + build, remote,
                () -> LOG.error("delivery from {} to endpoint '{}' not stored, answering 503{}: {}{}", remote, endpoint,
                        build, e.getMessage(), event == null ? "" : "; JobServ retries for about 7 s: if the store"
                                + " is not back by then, re-send this build"));
        return Receipt.of(Receipt.Kind.UNAVAILABLE, e.getMessage());
    }

    /**
     * Takes off {@link #refusedBuilds()} each build answered {@code 503} whose outcome was unknown (its statement sent,
     * the answer lost: {@link StoreUnavailableException#outcomeUnknown}) and that the store now shows stored: the
     * delivery of that build, endpoint and moment of receipt (tryout50 F8: its jobs ran, and the list still said to
     * re-send it). One read per such delivery, at most {@link RefusedBuilds#LOOKS_AT_ONCE} per call, each delivery
     * looked for again only {@link RefusedBuilds#LOOK_AGAIN_AFTER} after its last look and no more than
     * {@link RefusedBuilds#LOOKS} times in all when not found (review50b R15: every poll of every open status page asked
     * about every one, for as long as its build stayed listed); a store that does not answer leaves the list as it is.
     * Called by the status page and {@code GET /api/refused-builds} before they read the list.
     */
    void settleRefusedBuilds() {
        if (store == null || !store.healthy()) {
            return; // the list answers while the store is out (its health is looked at within a few seconds)
        }
        for (RefusedBuilds.Uncertain u : refusedBuilds.due(RefusedBuilds.LOOKS_AT_ONCE)) {
            try {
                boolean found = !store.deliveries(new org.buildhook.runner.store.DeliveryQuery(
                        org.buildhook.runner.store.DeliveryOutcome.ACCEPTED, u.endpoint(), null, null, u.receivedAt(),
                        u.receivedAt().plusMillis(1), null, 1, u.buildId())).items().isEmpty();
                if (found) {
                    refusedBuilds.stored(u.endpoint(), u.buildId(), u.project(), u.status(), u.trigger());
                } else {
                    refusedBuilds.notFound(u);
                }
            } catch (RuntimeException e) {
                LOG.debug("could not look whether build {} was stored after all: {}", u.buildId(), e.toString());
                return;
            }
        }
    }

    /** {@code build 67 PASSED of andy-corp/lmp (trigger containers-devel)}, as the accepted line says it. */
    private static String describe(BuildEvent event) {
        return "build " + event.buildId() + " " + LogSafe.of(event.status()) + " of " + (event.project().isEmpty()
                // An url of another shape gives no project (docs/signatures.md): say so.
                ? "no project (its url " + LogSafe.of(event.url()) + " has no /projects/<factory>/<project>/)"
                : LogSafe.of(event.project())) + " (trigger " + LogSafe.of(event.triggerName()) + ")";
    }

    /**
     * Stores a verified delivery and plans its jobs.
     *
     * @param secret what the accepted and duplicate lines say of the secret that matched: {@code ""} for an endpoint
     *     with one secret, else {@code "; signed with secret #N"} (N its position in the endpoint's list, never its
     *     value), so that a rotation's last step (docs/signatures.md) can be read off the log
     */
    private Receipt accept(NewDelivery delivery, String secret) {
        BuildEvent event;
        try {
            event = parser.parse(delivery.body());
        } catch (InvalidEventException e) {
            RejectedDelivery rejected = store.reject(delivery, e.getMessage());
            String id = rejected.deliveryId();
            if (rejected.repeat()) {
                // JobServ sends a body again after every answer but 2xx: the same answer, one row.
                LOG.warn("delivery from {} to endpoint '{}' rejected again: the same body as delivery {} ({} repeat(s)):"
                        + " {}", delivery.remoteAddress(), delivery.endpoint(), id, rejected.repeats(),
                        LogSafe.of(e.getMessage()));
            } else {
                LOG.warn("delivery {} from {} to endpoint '{}' rejected: {}", id, delivery.remoteAddress(),
                        delivery.endpoint(), LogSafe.of(e.getMessage()));
            }
            return new Receipt(Receipt.Kind.INVALID, id, List.of(), e.getMessage());
        }
        // One rule set per delivery: a reload in the middle cannot mix two versions.
        List<PlannedJob> jobs = rules.get().match(delivery.endpoint(), event);
        AcceptResult result;
        try {
            result = store.accept(delivery, DeliverySummary.of(event), jobs);
        } catch (StoreUnavailableException e) {
            return notStored(delivery, event, e);
        }
        // Stored now (or before): off the list of builds to re-send, if a 503 had put it there.
        refusedBuilds.stored(delivery.endpoint(), event.buildId(), event.project(), event.status().value(),
                event.triggerName());
        if (result.duplicate()) {
            LOG.info("delivery of build {} ({}) to endpoint '{}' is a duplicate of {}{}", event.buildId(),
                    LogSafe.of(event.status()), delivery.endpoint(), result.deliveryId(), secret);
            return new Receipt(Receipt.Kind.DUPLICATE, result.deliveryId(), List.of(), null);
        }
        if (LOG.isInfoEnabled()) {
            LOG.info("delivery {} accepted: {}, {} job(s){}{}", result.deliveryId(), describe(event), jobs.size(),
                    ruleNames(jobs), secret);
        }
        return new Receipt(Receipt.Kind.ACCEPTED, result.deliveryId(), result.jobIds(), null);
    }

    /**
     * The accepted line's end: {@code ""} without jobs, else a space and the jobs' rules, each once in
     * the order of the jobs, as a list prints ({@code " [build, notify]"}). Without a stream: this runs
     * at every accept, and under C1 a stream's pipeline cost more than the line's other arguments.
     */
    static String ruleNames(List<PlannedJob> jobs) {
        if (jobs.isEmpty()) {
            return "";
        }
        if (jobs.size() == 1) {
            return " [" + jobs.get(0).ruleName() + "]";
        }
        Set<String> names = new LinkedHashSet<>();
        for (PlannedJob job : jobs) {
            names.add(job.ruleName());
        }
        return " " + names;
    }
}
