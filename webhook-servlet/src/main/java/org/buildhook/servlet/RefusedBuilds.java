package org.buildhook.servlet;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The builds this node answered {@code 503} because its store could not take them (a full disk, a SQLite
 * database locked by another program, PostgreSQL away) and that no later delivery stored: the builds an
 * operator must have JobServ send again once JobServ's own retries (about 7 s) are over (tryout26 F4).
 *
 * <p>Kept in memory, since the store is what failed: a restart forgets them (the server log has every one,
 * {@code not stored, answering 503}). A build is one endpoint, project, build id, status and trigger; its
 * later {@code 202} or duplicate (JobServ's retry, or the operator's re-send) takes it off. At most
 * {@link #LIMIT} are kept, the oldest dropped first and counted in {@link View#dropped()}. Thread-safe.
 */
final class RefusedBuilds {

    /** The most builds kept; beyond, the oldest refused is dropped (and counted). */
    static final int LIMIT = 1000;

    /**
     * One build refused and not stored since.
     *
     * @param endpoint the endpoint it was sent to
     * @param buildId  JobServ's build number
     * @param project  {@code factory/project}, or {@code ""} when its url names none
     * @param status   the build's status as sent (PASSED, FAILED, RUNNING …)
     * @param trigger  the trigger's name
     * @param first    when it was first answered 503
     * @param last     when it was last answered 503
     * @param refusals how many 503 answers it got (JobServ's retries included)
     */
    record Build(String endpoint, long buildId, String project, String status, String trigger, Instant first,
            Instant last, int refusals) {
    }

    /**
     * What the list holds at one moment.
     *
     * @param builds  the builds still to re-send, oldest refused first
     * @param dropped builds refused but dropped from the list (beyond {@link #LIMIT}) since the start or the
     *                last {@link #dismiss()}
     */
    record View(List<Build> builds, long dropped) {
        View {
            builds = List.copyOf(builds);
        }

        /** Whether there is nothing to show. */
        boolean isEmpty() {
            return builds.isEmpty() && dropped == 0;
        }
    }

    private record Key(String endpoint, long buildId, String project, String status, String trigger) {
    }

    private final Clock clock;
    private final int limit;
    /** In the order of their first refusal. Guarded by this. */
    private final Map<Key, Build> builds = new LinkedHashMap<>();
    private long dropped;

    RefusedBuilds(Clock clock) {
        this(clock, LIMIT);
    }

    RefusedBuilds(Clock clock, int limit) {
        this.clock = clock;
        this.limit = limit;
    }

    /** How many times the store is asked about one delivery that may be stored (a look that finds nothing). */
    static final int LOOKS = 3;
    /** How long after a look at one delivery that may be stored it is looked at again. */
    static final java.time.Duration LOOK_AGAIN_AFTER = java.time.Duration.ofSeconds(10);
    /** The most deliveries that may be stored looked for at one call of {@link #due}'s caller. */
    static final int LOOKS_AT_ONCE = 20;

    /**
     * A delivery of a build answered {@code 503} that may be stored all the same (its statement sent, the answer lost):
     * {@link DeliveryService#settleRefusedBuilds()} looks for the delivery received at this moment.
     *
     * @param receivedAt when the delivery was received, to the millisecond (as the store keeps it)
     */
    record Uncertain(String endpoint, long buildId, String project, String status, String trigger,
            Instant receivedAt) {
    }

    /** One delivery that may be stored: how many looks found nothing yet, and when it may be looked at next. */
    private static final class Pending {
        final Instant at;
        int looks;
        Instant next = Instant.MIN;

        Pending(Instant at) {
            this.at = at;
        }
    }

    /** The listed builds some of whose 503s were of an unknown outcome, with their deliveries. Guarded by this. */
    private final Map<Key, List<Pending>> uncertain = new LinkedHashMap<>();

    /** Counts one {@code 503} of this build now. */
    synchronized void refused(String endpoint, long buildId, String project, String status, String trigger) {
        refused(endpoint, buildId, project, status, trigger, null);
    }

    /**
     * Counts one {@code 503} of this build now.
     *
     * @param mayBeStoredAt when the delivery answered so was received, if it may be stored all the same (its outcome
     *     unknown: {@link org.buildhook.runner.store.StoreUnavailableException#outcomeUnknown}); {@code null} when it
     *     was not stored
     */
    synchronized void refused(String endpoint, long buildId, String project, String status, String trigger,
            Instant mayBeStoredAt) {
        if (mayBeStoredAt != null) {
            List<Pending> at = uncertain.computeIfAbsent(new Key(endpoint, buildId, project, status, trigger),
                    k -> new ArrayList<>());
            if (at.size() < 20) { // JobServ's retries of one build: a few; bounded all the same
                at.add(new Pending(mayBeStoredAt.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)));
            }
        }
        // Milliseconds, as every other time of the admin API and the commands (tryout28 F4).
        Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Key key = new Key(endpoint, buildId, project, status, trigger);
        Build before = builds.get(key);
        builds.put(key, before == null ? new Build(endpoint, buildId, project, status, trigger, now, now, 1)
                : new Build(endpoint, buildId, project, status, trigger, before.first(), now, before.refusals() + 1));
        while (builds.size() > limit) {
            var oldest = builds.keySet().iterator();
            uncertain.remove(oldest.next());
            oldest.remove();
            dropped++;
        }
    }

    /** This build is stored now (accepted, or a duplicate of one stored): off the list. */
    void stored(String endpoint, long buildId, String project, String status, String trigger) {
        synchronized (this) {
            if (!builds.isEmpty()) {
                Key key = new Key(endpoint, buildId, project, status, trigger);
                builds.remove(key);
                uncertain.remove(key);
            }
        }
    }

    /**
     * The deliveries of listed builds that may be stored all the same, to look for in the store now: at most
     * {@code max}, each one not looked at in the last {@link #LOOK_AGAIN_AFTER} (review50b R15: every status-page poll
     * asked the store about every one, for as long as its build stayed listed). Each one handed out counts as looked
     * at now; {@link #notFound} after a look that found nothing, {@link #stored} once found.
     *
     * @param max the most to hand out, 0 or more
     * @return the deliveries to look for, oldest listed first
     */
    synchronized List<Uncertain> due(int max) {
        Instant now = clock.instant();
        List<Uncertain> list = new ArrayList<>();
        for (Map.Entry<Key, List<Pending>> e : uncertain.entrySet()) {
            Key k = e.getKey();
            for (Pending p : e.getValue()) {
                if (list.size() >= max) {
                    return list;
                }
                if (!p.next.isAfter(now)) {
                    p.next = now.plus(LOOK_AGAIN_AFTER);
                    list.add(new Uncertain(k.endpoint(), k.buildId(), k.project(), k.status(), k.trigger(), p.at));
                }
            }
        }
        return list;
    }

    /**
     * The store answered that this delivery is not stored: after {@link #LOOKS} such answers it is no longer looked
     * for (a statement of a delivery whose answer was lost commits or not soon after; its build stays listed).
     */
    synchronized void notFound(Uncertain delivery) {
        Key key = new Key(delivery.endpoint(), delivery.buildId(), delivery.project(), delivery.status(),
                delivery.trigger());
        List<Pending> pending = uncertain.get(key);
        if (pending == null) {
            return;
        }
        pending.removeIf(p -> p.at.equals(delivery.receivedAt()) && ++p.looks >= LOOKS);
        if (pending.isEmpty()) {
            uncertain.remove(key);
        }
    }

    /** The builds still to re-send, and how many were dropped. */
    synchronized View view() {
        return new View(new ArrayList<>(builds.values()), dropped);
    }

    /** How many builds are listed (for the gauge). */
    synchronized int size() {
        return builds.size();
    }

    /** Empties the list (the operator has re-sent them, or decided not to); returns how many it held. */
    synchronized int dismiss() {
        int n = builds.size();
        builds.clear();
        uncertain.clear();
        dropped = 0;
        return n;
    }
}
