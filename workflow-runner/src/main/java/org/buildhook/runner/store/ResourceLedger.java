package org.buildhook.runner.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Shared resources (named capacities of the rules file): units a job holds for one attempt.
 *
 * <p>First come, first served across rules and nodes: a job that needs resources and cannot have
 * them is {@link JobState#WAITING} from the time it first asked; it may take units only when every
 * unit it needs is free <em>and</em> no job that started waiting before it needs any of the same
 * resources. So a job needing many units is never overtaken for ever by jobs needing few (no
 * starvation). Each resource's {@code resource_locks} row, locked in name order, serialises the
 * nodes (PostgreSQL); SQLite has one writer.
 *
 * <p>Units held by a job whose execution is no longer picked anywhere (it ended, or was put back in the
 * queue) are freed by the next look: never while the dead node's execution is still held, so never before
 * the job is taken over. A job cut short whose execution was revived for another node to take over (its
 * attempt still marked running) keeps them until that node picks it and takes its units again, as from
 * just before it took them, ahead of the jobs that started waiting meanwhile (cluster27 F12). Holding all it
 * needs, with room for it, it goes on with them even when a job put back ahead of it waits for the same
 * resource; short of room (a capacity lowered), it gives them back only to another such job ahead of it
 * that holds units and needs these, and then waits in its place, {@link JobState#WAITING} (review29 R3), its
 * attempt ended first as this node's start of it would end it. A node of the attempt's host ends what it
 * left before the take ({@code JobTask}), after which the job waits in its place as any job cut short whose
 * end is recorded (units30). Units a job cut short takes again are recorded as taken when it first took them for
 * this run of it ({@code acquired_at}), so its place holds across any number of cuts (tryout30 F4).
 *
 * <p>Each unit of a resource of capacity N has a number from 1 to N ({@code resource_holds.unit_numbers}, units32):
 * a take gets the lowest numbers no other hold of the resource has, so no two jobs hold one number at once (the
 * take reads and writes them under the resources' locks, as it counts the units). A job that still holds units
 * when it takes them again (cut short and revived, or back in its place after a sweep, its holds kept) keeps its
 * own numbers, those of them within the capacity: a number above a lowered capacity stays held until it is given
 * back, and is never given to a take. A hold written before the numbers were recorded (V17) has none: its units
 * count against the capacity as before, and its job, which was told no number, keeps no number when it takes its
 * units again.
 */
public final class ResourceLedger {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ResourceLedger.class);

    private final Database db;
    private final Clock clock;
    private final ExecutionLedger lease;
    private final UnitWake wake;

    ResourceLedger(Database db, Clock clock, ExecutionLedger lease) {
        this.db = db;
        this.clock = clock;
        this.lease = lease;
        this.wake = new UnitWake(db.dialect(), clock);
    }

    /**
     * Takes the units {@code job} needs for its next attempt on {@code node}, under the pick this node
     * made, or marks it WAITING (and leaves it so) when it cannot have them yet. Units the job itself
     * still holds from an earlier pick are given back as it takes them (or as it is marked WAITING; a job
     * taken over with its attempt still marked running keeps them then, and so its place); that is right
     * only while this node holds the job's pick, so the same transaction checks the pick as its last step
     * and is rolled back when the pick is no longer this node's (see {@link ExecutionLedger#holdLease}).
     * On PostgreSQL it locks the resources' rows in name order, then the job's (its update), then the
     * execution's: the job's before the execution's, as every writer of both does.
     *
     * @param version the version of the job's execution as this node picked it; negative for no check
     * @return {@link ExecutionLedger.Take#TAKEN}, {@link ExecutionLedger.Take#NOT_FREE} (the job is
     *         WAITING), or {@link ExecutionLedger.Take#PICK_LOST} (nothing taken, freed or marked)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public ExecutionLedger.Take tryAcquire(Job job, String node, long version) {
        return acquire(job, node, version).take();
    }

    /**
     * What {@link #acquire} did.
     *
     * @param take  as {@link #tryAcquire} returns it
     * @param units when {@link ExecutionLedger.Take#TAKEN}, the numbers of the units taken (each from 1 to the
     *              resource's capacity, ascending, as many as the job needs), by resource name; else empty
     */
    public record Acquired(ExecutionLedger.Take take, Map<String, List<Integer>> units) {
    }

    /**
     * As {@link #tryAcquire}, telling which units were taken: the lowest numbers no other job holds, a job that still
     * held units keeping its own (see the class comment).
     *
     * @param version the version of the job's execution as this node picked it; negative for no check
     * @return what was done, with the numbers taken
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public Acquired acquire(Job job, String node, long version) {
        Map<String, Integer> need = job.workflow().resources();
        try {
            return take(job, node, version, need);
        } catch (ExecutionLedger.PickLost e) {
            return new Acquired(ExecutionLedger.Take.PICK_LOST, Map.of());
        }
    }

    private Acquired take(Job job, String node, long version, Map<String, Integer> need) {
        int[] woken = new int[1];
        Acquired result = db.inTransaction("take shared resources", Durability.DEFERRED, c -> {
            woken[0] = 0;
            // The resources of holds left by jobs no longer picked are locked too (with the job's, in name order,
            // before any row lock), so that the look below frees them under their locks and wakes the job waiting
            // for them, as a give-back does: freed without, they stayed idle until that job's next try (wake36).
            java.util.Set<String> stale = staleResources(c, db.dialect());
            java.util.Set<String> locked = new java.util.TreeSet<>(need.keySet());
            locked.addAll(stale);
            lock(c, locked);
            // The capacities as the job's row says them now, under the resources' locks: a reload may have
            // given it the capacities in force (applyCapacities) after this node read the job (rules23, F7).
            Map<String, Integer> capacity = capacities(c, job);
            freeStale(c, db.dialect(), locked);
            Place place = place(c, job.id());
            long now = clock.millis();
            long since = place.since(now);
            List<Map<String, List<Integer>>> earlier = earlierWaiters(c, job.id(), since);
            Map<String, Integer> inUse = inUse(c, need.keySet(), job.id());
            Map<String, java.util.Set<Integer>> numbered = numbersOfOthers(c, need.keySet(), job.id());
            Map<String, Integer> own = place.cutShort() ? held(c, job.id()) : Map.of();
            List<String> short_ = new ArrayList<>();
            // Units a job cut short gave back at a pick of another host's node, which could not end what its attempt
            // left on its host, go to no taker of that host until one of them has ended it (JobTask does before it
            // takes): there its paused node's command may still run (runner.watchdog: off), and a taker sweeps only
            // its own job's leftovers (place31, units30 L1). Read under the resources' locks, as the give-back wrote it.
            List<RunningAttempt> unswept = ExecutionLedger.givenBackUnswept(c,
                    org.buildhook.runner.exec.NodeIdentity.current().bootId(), need.keySet());
            for (RunningAttempt a : unswept) {
                short_.add("what job " + a.jobId() + " (attempt " + a.attempt() + ", its units given back at another"
                        + " host's pick) left on this host to be ended first");
            }
            boolean byCapacity = false;
            for (Map.Entry<String, Integer> n : need.entrySet()) {
                // Counted by units and by the numbers free within the capacity, which agree (every hold has as many
                // numbers as units, none above the capacity but one kept from before a lowered capacity): the lower.
                int free = Math.min(capacity.get(n.getKey()) - inUse.getOrDefault(n.getKey(), 0),
                        freeNumbers(capacity.get(n.getKey()), numbered.get(n.getKey())));
                boolean queueAhead = earlier.stream().anyMatch(w -> w.containsKey(n.getKey()));
                byCapacity |= free < n.getValue();
                if (free < n.getValue() || queueAhead) {
                    short_.add(n.getKey() + ": " + n.getValue() + " wanted, " + Math.max(free, 0) + " of "
                            + capacity.get(n.getKey()) + " free" + (queueAhead ? ", jobs ahead in the queue" : ""));
                }
            }
            // Taken over with its attempt still marked running, holding all it needs, with room for it: it goes on
            // with the units it held, though a job put back ahead of it waits for the same resource. Given back, they
            // went to that job before this one's pick could end what its cut-short attempt left (review29 R3).
            boolean keepsItsTurn = !byCapacity && unswept.isEmpty() && need.entrySet().stream()
                    .allMatch(n -> own.getOrDefault(n.getKey(), 0) >= n.getValue());
            if (!short_.isEmpty() && !keepsItsTurn) {
                if (place.cutShort() && !needed(cutShortAhead(c, job.id(), since, db.dialect()), need)) {
                    // Still short (a capacity lowered meanwhile): it keeps the units it held, and so its place,
                    // until it can have all it needs.
                    woken[0] = wake.wake(c, stale);
                    lease.holdLease(c, job.id(), version);
                    return new Acquired(ExecutionLedger.Take.NOT_FREE, Map.of());
                }
                freeOwn(c, job.id());
                // A job cut short that gives its units back waits as any other (WAITING): shown among the jobs waiting
                // for units, and counted in buildhook_jobs_waiting (units30: it stayed RUNNING, shown running).
                try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET state = ?, waiting_since = ?,"
                        + " message = ? WHERE id = ? AND state IN (?, ?, ?)")) {
                    p.setString(1, JobState.WAITING.name());
                    p.setLong(2, since);
                    p.setString(3, "waiting for " + String.join("; ", short_));
                    p.setString(4, job.id());
                    p.setString(5, JobState.QUEUED.name());
                    p.setString(6, JobState.WAITING.name());
                    p.setString(7, place.cutShort() ? JobState.RUNNING.name() : JobState.WAITING.name());
                    p.executeUpdate();
                }
                if (place.cutShort()) {
                    // Another job cut short, ahead of it, holds units and needs these (a capacity lowered while both
                    // held theirs): kept, neither moved until the capacity was raised again (review29 R3). It gives
                    // them back and waits in its place, behind that job and ahead of those that came after. Given back,
                    // they may go to that job at once: so its attempt is ended first, as this node's start of it would
                    // end it (after the job's row, as every writer of both). What it left on this node's host was ended
                    // by this pick's sweep (JobTask), which left it WAITING, not RUNNING; still running, its attempt is
                    // of another host (or recorded without the identity a sweep needs), taken for ended after the dead-
                    // node limit as startAttempt takes it (units30: given back unswept, a paused node's command of this
                    // host, with runner.watchdog: off, ran on beside the command of the job that took them).
                    // One this very process started (same node, host boot, pid and process start) left nothing: this
                    // process takes a job only once its thread that ran it before has left, which it does once it
                    // has recorded the attempt's end. So the store lost that record (fence32, as startAttempt says
                    // it): no death of its node, and nothing for a sweep of this host, so its units are held back
                    // from none of this host's takers (no sweep of this host ends this process's own attempts).
                    try (PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET outcome = ?, ended_at = ?,"
                            + " message = CASE WHEN " + ExecutionLedger.THIS_PROCESS + " THEN ? ELSE ? END,"
                            + " node_died = CASE WHEN " + ExecutionLedger.THIS_PROCESS + " THEN 0 ELSE 1 END"
                            + " WHERE job_id = ? AND outcome = ?")) {
                        org.buildhook.runner.exec.NodeIdentity self = org.buildhook.runner.exec.NodeIdentity.current();
                        p.setString(1, AttemptOutcome.INTERRUPTED.name());
                        p.setLong(2, clock.millis());
                        ExecutionLedger.bindThisProcess(p, 3, node, self);
                        p.setString(7, ExecutionLedger.LOST_END_PICKED + node + ExecutionLedger.GIVEN_BACK);
                        p.setString(8, ExecutionLedger.UNSWEPT_END + node + ExecutionLedger.GIVEN_BACK);
                        ExecutionLedger.bindThisProcess(p, 9, node, self);
                        p.setString(13, job.id());
                        p.setString(14, AttemptOutcome.RUNNING.name());
                        p.executeUpdate();
                    }
                }
                // Units of a stale hold freed above may serve a job waiting ahead of this one, or for another resource.
                woken[0] = wake.wake(c, stale);
                lease.holdLease(c, job.id(), version);
                return new Acquired(ExecutionLedger.Take.NOT_FREE, Map.of());
            }
            Map<String, List<Integer>> units = new TreeMap<>();
            Map<String, List<Integer>> mine = ownNumbers(c, job.id());
            if (place.cutShort() || place.lastCut()) {
                // Its own units freed before this take (its dead node's holds freed by DeadNodeRelease after the sweep
                // recorded its end, or given back to a job ahead): the numbers its attempt cut short ran with, when no
                // other job holds them (pick, under the resources' locks, as the counts), so it goes on with the same
                // board rather than the lowest free one (units32 L1).
                Map<String, List<Integer>> before = lastAttemptsNumbers(c, job.id());
                for (Map.Entry<String, List<Integer>> b : before.entrySet()) {
                    mine.putIfAbsent(b.getKey(), b.getValue());
                }
            }
            for (Map.Entry<String, Integer> n : need.entrySet()) {
                units.put(n.getKey(), pick(n.getValue(), capacity.get(n.getKey()), mine.get(n.getKey()),
                        numbered.get(n.getKey())));
            }
            freeOwn(c, job.id());
            // A job cut short takes them again as from when it first took them for this run of it, its place: taken as
            // from now, a second cut placed it behind the jobs that started waiting while it held them (tryout30 F4).
            long acquired = place.resumed() ? Math.min(since + 1, now) : now;
            try (PreparedStatement p = c.prepareStatement("INSERT INTO resource_holds (job_id, resource, units, node,"
                    + " acquired_at, unit_numbers) VALUES (?, ?, ?, ?, ?, ?)")) {
                for (Map.Entry<String, Integer> n : need.entrySet()) {
                    p.setString(1, job.id());
                    p.setString(2, n.getKey());
                    p.setInt(3, n.getValue());
                    p.setString(4, node);
                    p.setLong(5, acquired);
                    p.setString(6, units.get(n.getKey()).stream().map(String::valueOf)
                            .collect(java.util.stream.Collectors.joining(",")));
                    p.executeUpdate();
                }
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET waiting_since = NULL, message = NULL,"
                    + " state = ? WHERE id = ? AND state IN (?, ?)")) {
                p.setString(1, JobState.QUEUED.name());
                p.setString(2, job.id());
                p.setString(3, JobState.QUEUED.name());
                p.setString(4, JobState.WAITING.name());
                p.executeUpdate();
            }
            // Units left after this take may serve the next job waiting for them (two freed at once): woken now, it
            // does not wait for its next try (tryout35 F4, UnitWake).
            // So may those of a stale hold freed above.
            woken[0] = wake.wake(c, locked);
            lease.holdLease(c, job.id(), version);
            return new Acquired(ExecutionLedger.Take.TAKEN, units);
        });
        if (woken[0] > 0) {
            lease.madeDue();
        }
        return result;
    }

    /**
     * Puts the execution of {@code job}, refused its units ({@link ExecutionLedger.Take#NOT_FREE}) under the pick at
     * {@code version}, back in the queue: for {@code retryAt}, or for now when the units it waits for came back since
     * the refusal and it is first in line for them ({@link UnitWake#served}). Under the resources' locks, as the
     * give-back that wakes a job put back already: so a give-back between the refusal and this put-back wakes it all
     * the same (tryout35 F4: it waited for its next try, one {@code runner.poll-interval} with a board free).
     *
     * @return {@link ExecutionLedger.Take#PUT_BACK}, or {@link ExecutionLedger.Take#PICK_LOST} when the execution is no
     *         longer picked at {@code version} (nothing done)
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public ExecutionLedger.Take putBackWaiting(Job job, long version, java.time.Instant retryAt) {
        java.util.Set<String> names = job.workflow().resources().keySet();
        boolean[] now = new boolean[1];
        try {
            db.inTransaction("put a job waiting for shared resources back in the queue", Durability.DEFERRED, c -> {
                lock(c, names);
                now[0] = UnitWake.served(c, names).contains(job.id()) && ExecutionLedger.givenBackUnswept(c,
                        org.buildhook.runner.exec.NodeIdentity.current().bootId(), names).isEmpty();
                lease.putBack(c, job.id(), version, now[0] ? clock.instant() : retryAt);
                return null;
            });
        } catch (ExecutionLedger.PickLost e) {
            return ExecutionLedger.Take.PICK_LOST;
        }
        if (now[0]) {
            lease.madeDue();
        }
        return ExecutionLedger.Take.PUT_BACK;
    }

    /**
     * The unit numbers a take gets: the job's own ({@code mine}, those within {@code capacity}) first, then the lowest
     * free; {@code taken} are the numbers other jobs hold. The caller made sure there are enough
     * ({@link #freeNumbers}).
     */
    static List<Integer> pick(int units, int capacity, List<Integer> mine, java.util.Set<Integer> taken) {
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>();
        java.util.Set<Integer> others = taken == null ? java.util.Set.of() : taken;
        if (mine != null) {
            for (int number : mine) {
                if (out.size() < units && number >= 1 && number <= capacity && !others.contains(number)) {
                    out.add(number);
                }
            }
        }
        for (int number = 1; number <= capacity && out.size() < units; number++) {
            if (!others.contains(number)) {
                out.add(number);
            }
        }
        if (out.size() < units) {
            throw new IllegalStateException("only " + out.size() + " of " + units + " unit numbers free");
        }
        return List.copyOf(out);
    }

    /** How many of the numbers 1 to {@code capacity} no hold in {@code taken} has. */
    private static int freeNumbers(int capacity, java.util.Set<Integer> taken) {
        return taken == null ? capacity : capacity - (int) taken.stream().filter(n -> n >= 1 && n <= capacity).count();
    }

    /** The numbers held for jobs other than {@code jobId}, by resource (holds written before V17 have none). */
    private static Map<String, java.util.Set<Integer>> numbersOfOthers(Connection c, java.util.Set<String> names,
            String jobId) throws SQLException {
        Map<String, java.util.Set<Integer>> out = new LinkedHashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT unit_numbers FROM resource_holds WHERE resource = ?"
                + " AND job_id <> ? AND unit_numbers IS NOT NULL")) {
            for (String name : names) {
                java.util.Set<Integer> taken = new java.util.HashSet<>();
                p.setString(1, name);
                p.setString(2, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        taken.addAll(numbers(rs.getString(1)));
                    }
                }
                out.put(name, taken);
            }
        }
        return out;
    }

    /** The numbers of the units {@code jobId} holds now, by resource; a hold written before V17 gives none. */
    private static Map<String, List<Integer>> ownNumbers(Connection c, String jobId) throws SQLException {
        Map<String, List<Integer>> out = new TreeMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT resource, unit_numbers FROM resource_holds"
                + " WHERE job_id = ? AND unit_numbers IS NOT NULL")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), numbers(rs.getString(2)));
                }
            }
        }
        return out;
    }

    /**
     * The numbers of the units the job's latest attempt held, by resource, as its start recorded them ({@code
     * job_attempts.unit_numbers}, V20); empty for an attempt started before V20 or holding none.
     */
    private static Map<String, List<Integer>> lastAttemptsNumbers(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT a.unit_numbers FROM job_attempts a JOIN jobs j"
                + " ON j.id = a.job_id AND a.attempt = j.attempts WHERE j.id = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                String json = rs.next() ? rs.getString(1) : null;
                return json == null ? Map.of() : Rows.resourceMap(json);
            }
        }
    }

    /** {@code "1,3"} as [1, 3]; empty for null or empty text. */
    static List<Integer> numbers(String text) {
        List<Integer> out = new ArrayList<>();
        if (text != null && !text.isEmpty()) {
            for (String part : text.split(",")) {
                out.add(Integer.parseInt(part.trim()));
            }
        }
        return out;
    }

    /** The capacity of each resource as the job's row says it now; the job's as read when the row is gone. */
    private static Map<String, Integer> capacities(Connection c, Job job) throws SQLException {
        Map<String, Integer> out = new LinkedHashMap<>(job.workflow().capacities());
        try (PreparedStatement p = c.prepareStatement("SELECT resources FROM jobs WHERE id = ?")) {
            p.setString(1, job.id());
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next() && rs.getString(1) != null) {
                    Rows.resourceMap(rs.getString(1)).forEach((name, stored) -> out.put(name, stored.get(1)));
                }
            }
        }
        return out;
    }

    /**
     * What {@link #applyCapacities} changed for one resource.
     *
     * @param resource the resource's name
     * @param from     the capacity the first job changed had been stored with (jobs are read oldest first)
     * @param to       the capacity the rules file now declares
     * @param jobs     how many jobs still to run that need it were given it, at least 1
     */
    public record CapacityChange(String resource, int from, int to, int jobs) {
    }

    /**
     * Gives the jobs still to run (queued, waiting, awaiting an approval, or running: a retry takes its
     * units again) the capacities the rules file now declares, as {@link ExecutionLedger#applyLimits} gives
     * them a rule's {@code concurrency}: each job stored the capacity it was planned with ({@code {"name":
     * [units, capacity]}}), and a job stored before a reload that lowered a capacity started beside the
     * running ones under the old one, two jobs on a pool just cut to one board (tryout24 F7); a raised
     * capacity let none of the jobs already waiting use the new units. The capacities in a job's follow-up
     * specification are given too, so that a follow-up planned after the reload goes by the capacity in
     * force. A resource the file no longer declares is left as stored (its jobs keep the capacity they were
     * planned with). The units already held stay held: a lowered capacity lets no job take units until fewer
     * than the new capacity are in use. A job picked at the moment reads its row's capacity when it takes
     * its units ({@link #tryAcquire}), so it goes by the new one too.
     *
     * <p>The jobs of every resource whose capacity changes are written in one transaction that holds those
     * resources' locks (taken first by every take, in the same order), each job only if it is still
     * as read: a take sees all of them with the old capacity or all with the new one. Written one by one, each in a
     * transaction of its own outside the locks, a job not written yet took a unit beyond a capacity just lowered
     * beside the jobs holding the rest (review57b F3), and for good when the loop failed midway. A change that fails
     * (a job's row locked beyond the store's lock timeout) changes nothing: the jobs go by the capacities they were
     * stored with, each of them by a whole capacity (those planned under the new rules by the new one).
     *
     * @param declared the capacities the rules now loaded declare, by resource name (the {@code resources}
     *                 section; units, at least 1)
     * @return one entry per resource whose jobs' own needs were given a new capacity, by name; empty when none
     * @throws StoreUnavailableException when the store cannot be reached
     */
    public List<CapacityChange> applyCapacities(Map<String, Integer> declared) {
        // Which resources change, read without their locks; read again under them.
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (StoredNeeds job : db.read("read the jobs whose resources' capacity changed", ResourceLedger::storedNeeds)) {
            if (job.resources() != null) {
                Map<String, Integer> from = new TreeMap<>();
                withCapacities(job.resources(), declared, from);
                names.addAll(from.keySet());
            }
            if (job.followUps() != null) {
                names.addAll(followUpCapacitiesChanged(job.followUps(), declared));
            }
        }
        if (names.isEmpty()) {
            return List.of();
        }
        Map<String, Integer> changing = new TreeMap<>(declared);
        changing.keySet().retainAll(names);
        Map<String, CapacityChange> changes = db.inTransaction("give the jobs the capacities in force",
                Durability.DEFERRED, c -> {
                    lock(c, names);
                    Map<String, CapacityChange> changed = new TreeMap<>();
                    for (StoredNeeds job : storedNeeds(c)) {
                        Map<String, Integer> from = new TreeMap<>();
                        String resources = job.resources() == null ? null
                                : withCapacities(job.resources(), changing, from);
                        String followUps = job.followUps() == null ? null
                                : followUpsWithCapacities(job.followUps(), changing);
                        if (java.util.Objects.equals(resources, job.resources())
                                && java.util.Objects.equals(followUps, job.followUps())) {
                            continue;
                        }
                        try (PreparedStatement p = c.prepareStatement("UPDATE jobs SET resources = ?, follow_ups = ?"
                                + " WHERE id = ? AND state IN ('QUEUED', 'WAITING', 'RUNNING', 'AWAITING_APPROVAL')"
                                + " AND COALESCE(resources, '') = ? AND COALESCE(follow_ups, '') = ?")) {
                            p.setString(1, resources);
                            p.setString(2, followUps);
                            p.setString(3, job.id());
                            p.setString(4, job.resources() == null ? "" : job.resources());
                            p.setString(5, job.followUps() == null ? "" : job.followUps());
                            if (p.executeUpdate() == 0) {
                                continue;
                            }
                        }
                        from.forEach((name, was) -> changed.merge(name, new CapacityChange(name, was,
                                declared.get(name), 1), (a, b) -> new CapacityChange(name, a.from(), a.to(),
                                        a.jobs() + 1)));
                    }
                    return changed;
                });
        wakeAfterNewCapacities(changes.keySet());
        return List.copyOf(changes.values());
    }

    /** A job still to run with resources or follow-ups, as stored. */
    private record StoredNeeds(String id, String resources, String followUps) {
    }

    /** The jobs still to run that need resources or may plan follow-ups, oldest first (so their rows in id order). */
    private static List<StoredNeeds> storedNeeds(Connection c) throws SQLException {
        List<StoredNeeds> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT id, resources, follow_ups FROM jobs WHERE state IN"
                + " ('QUEUED', 'WAITING', 'RUNNING', 'AWAITING_APPROVAL') AND (resources IS NOT NULL"
                + " OR follow_ups IS NOT NULL) ORDER BY id"); ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                out.add(new StoredNeeds(rs.getString(1), rs.getString(2), rs.getString(3)));
            }
        }
        return out;
    }

    /**
     * After {@link #applyCapacities} gave jobs new capacities of {@code names}: wakes the jobs waiting for those units
     * that a raised capacity can serve now ({@link UnitWake}), under the resources' locks as a give-back, in a
     * transaction of its own that takes nothing else. Before, they waited for their next try ({@code
     * runner.slot-retry}) with the new units free (wake36). A failure is only logged: they start at their next try.
     */
    private void wakeAfterNewCapacities(java.util.Set<String> names) {
        if (names.isEmpty()) {
            return;
        }
        try {
            int woken = db.inTransaction("wake the jobs waiting for resources given a new capacity",
                    Durability.DEFERRED, c -> {
                        lock(c, names);
                        return wake.wake(c, names);
                    });
            if (woken > 0) {
                lease.madeDue();
            }
        } catch (StoreUnavailableException e) {
            LOG.warn("the jobs waiting for {} start at their next try: {}", String.join(", ", names), e.getMessage());
        }
    }

    /** A job's stored resources with the declared capacities; {@code from} gets each changed one's old capacity. */
    private static String withCapacities(String json, Map<String, Integer> declared, Map<String, Integer> from) {
        Map<String, List<Integer>> needs = new TreeMap<>(Rows.resourceMap(json));
        boolean changed = false;
        for (Map.Entry<String, List<Integer>> need : needs.entrySet()) {
            Integer now = declared.get(need.getKey());
            if (now != null && !now.equals(need.getValue().get(1))) {
                from.put(need.getKey(), need.getValue().get(1));
                need.setValue(List.of(need.getValue().get(0), now));
                changed = true;
            }
        }
        return changed ? Rows.json(needs) : json;
    }

    /** A job's follow-up specification with the declared capacities in its {@code capacities}. */
    private static String followUpsWithCapacities(String json, Map<String, Integer> declared) {
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = FOLLOW_UPS_JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return json; // Read (and said) when the follow-up is planned; nothing to give it here.
        }
        if (!(root instanceof com.fasterxml.jackson.databind.node.ObjectNode object)
                || !(object.get("capacities") instanceof com.fasterxml.jackson.databind.node.ObjectNode caps)) {
            return json;
        }
        boolean changed = false;
        for (Map.Entry<String, Integer> d : declared.entrySet()) {
            if (caps.has(d.getKey()) && caps.get(d.getKey()).asInt() != d.getValue()) {
                caps.put(d.getKey(), d.getValue().intValue());
                changed = true;
            }
        }
        return changed ? object.toString() : json;
    }

    /** The resources whose capacity a job's follow-up specification says otherwise than {@code declared}. */
    private static java.util.Set<String> followUpCapacitiesChanged(String json, Map<String, Integer> declared) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (String name : declared.keySet()) {
            if (!followUpsWithCapacities(json, Map.of(name, declared.get(name))).equals(json)) {
                out.add(name);
            }
        }
        return out;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper FOLLOW_UPS_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /**
     * Gives back the units {@code node} holds for {@code jobId}; only its own. When the job's pick
     * was put back in the queue and another node took it over meanwhile (and its units), this node's
     * thread, which then ends without running the command, must not give back that node's units.
     */
    public void release(String jobId, String node) {
        int woken = db.inTransaction("give back shared resources", Durability.DEFERRED, c -> {
            java.util.Set<String> names = new java.util.TreeSet<>();
            try (PreparedStatement p = c.prepareStatement("SELECT resource FROM resource_holds WHERE job_id = ?"
                    + " AND node = ?")) {
                p.setString(1, jobId);
                p.setString(2, node);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        names.add(rs.getString(1));
                    }
                }
            }
            if (names.isEmpty()) {
                return 0;
            }
            // Under the resources' locks, as a take and a refused job's put-back (putBackWaiting): the job waiting for
            // these units is woken now, not left to its next try (tryout35 F4, UnitWake).
            lock(c, names);
            try (PreparedStatement p = c.prepareStatement("DELETE FROM resource_holds WHERE job_id = ? AND node = ?")) {
                p.setString(1, jobId);
                p.setString(2, node);
                p.executeUpdate();
            }
            return wake.wake(c, names);
        });
        if (woken > 0) {
            lease.madeDue();
        }
    }

    /** Units in use now per resource (by executions still picked), for metrics and the status page. */
    public Map<String, Integer> unitsInUse() {
        return db.read("count shared resources in use", c -> {
            Map<String, Integer> out = new TreeMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT resource, SUM(units) FROM resource_holds"
                    + " GROUP BY resource"); ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getInt(2));
                }
            }
            return out;
        });
    }

    /**
     * The units held now (by resource, then oldest first), with the holding job's rule and node; held
     * units of an execution no longer picked count until the next look frees them, as in
     * {@link #unitsInUse()}.
     */
    public List<ResourceUse> holds() {
        return db.read("list shared resources held", c -> {
            List<ResourceUse> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT h.resource, h.job_id, j.rule_name, h.units,"
                    + " j.resources, h.node, h.acquired_at FROM resource_holds h JOIN jobs j ON j.id = h.job_id"
                    + " ORDER BY h.resource, h.acquired_at, h.job_id"); ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    String json = rs.getString(5);
                    List<Integer> planned = json == null ? null : Rows.resourceMap(json).get(rs.getString(1));
                    out.add(new ResourceUse(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4),
                            planned == null ? 0 : planned.get(1), rs.getString(6),
                            java.time.Instant.ofEpochMilli(rs.getLong(7))));
                }
            }
            return out;
        });
    }

    /**
     * The jobs waiting for units, in the order they will get them (first come, first served: since
     * when they wait, then id); one entry per resource a job needs.
     */
    public List<ResourceUse> waiting() {
        return db.read("list jobs waiting for shared resources", c -> {
            List<ResourceUse> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, rule_name, resources, waiting_since FROM jobs"
                    + " WHERE state = ? ORDER BY waiting_since, id")) {
                p.setString(1, JobState.WAITING.name());
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        String json = rs.getString(3);
                        if (json == null) {
                            continue;
                        }
                        java.time.Instant since = java.time.Instant.ofEpochMilli(rs.getLong(4));
                        for (Map.Entry<String, List<Integer>> need : Rows.resourceMap(json).entrySet()) {
                            out.add(new ResourceUse(need.getKey(), rs.getString(1), rs.getString(2),
                                    need.getValue().get(0), need.getValue().get(1), null, since));
                        }
                    }
                }
            }
            return out;
        });
    }

    private void lock(Connection c, java.util.Set<String> names) throws SQLException {
        lock(c, db.dialect(), names);
    }

    /**
     * PostgreSQL: locks the {@code resource_locks} rows of {@code names}, in name order; first in every transaction
     * that takes, gives back or frees units, or reads them to wake a waiting job ({@link UnitWake}), before any row
     * lock of a job or an execution. Nothing on SQLite, whose one writer serialises them all.
     */
    static void lock(Connection c, Dialect dialect, java.util.Set<String> names) throws SQLException {
        if (dialect != Dialect.POSTGRESQL) {
            return; // one writer
        }
        for (String name : new java.util.TreeSet<>(names)) {
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO resource_locks (resource) VALUES (?) ON CONFLICT DO NOTHING")) {
                p.setString(1, name);
                p.executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT resource FROM resource_locks WHERE resource = ?"
                    + " FOR UPDATE")) {
                p.setString(1, name);
                p.executeQuery().close();
            }
        }
    }

    /**
     * Frees the units held for jobs whose execution is no longer picked (it ended, or was put back in the queue for
     * a later try): except those of a job still {@code RUNNING} whose execution is still queued, i.e. revived after
     * its node stopped heart-beating (dead, paused, or cut off from the store and fenced) and not yet picked by the
     * node that takes it over. That job keeps them, and so its place, until it is picked again
     * ({@link #tryAcquire}): freed by the next look, they went to the job waiting for them since, which took the
     * board of the half-done one before it was picked again (cluster27 F12).
     */
    private static void freeStale(Connection c, Dialect dialect, java.util.Set<String> locked) throws SQLException {
        if (locked.isEmpty()) {
            return;
        }
        // Only those of the resources locked (a stale hold of another resource found since the transaction read them
        // is freed by a later look): freed without the lock, a job refused its units at that moment and put back under
        // it (putBackWaiting) would see them still held, and nobody woke it (wake36).
        try (PreparedStatement p = c.prepareStatement("DELETE FROM resource_holds WHERE " + stale(dialect)
                + " AND resource IN (" + String.join(", ", java.util.Collections.nCopies(locked.size(), "?")) + ")")) {
            int i = bindStale(p);
            for (String name : locked) {
                p.setString(++i, name);
            }
            p.executeUpdate();
        }
    }

    /** The resources of the holds {@link #freeStale} would free now; read before the resources' locks are taken. */
    private static java.util.Set<String> staleResources(Connection c, Dialect dialect) throws SQLException {
        java.util.Set<String> out = new java.util.TreeSet<>();
        try (PreparedStatement p = c.prepareStatement("SELECT DISTINCT resource FROM resource_holds WHERE "
                + stale(dialect))) {
            bindStale(p);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** The condition (on {@code resource_holds}) of a stale hold ({@link #freeStale}); {@link #bindStale} binds it. */
    private static String stale(Dialect dialect) {
        // Each hold's job looked up by its execution's key: "job_id NOT IN (SELECT task_instance FROM
        // scheduled_tasks …)" read the whole queue at every attempt of a job that needs a resource.
        return "NOT " + ExecutionLedger.executionExists("resource_holds.job_id", " AND s.picked = ?", dialect)
                + " AND NOT (EXISTS (SELECT 1 FROM jobs j WHERE j.id = resource_holds.job_id AND j.state = ?) AND "
                + ExecutionLedger.executionExists("resource_holds.job_id", "", dialect) + ")";
    }

    /** Binds {@link #stale}'s parameters from 1; returns the last index bound. */
    private static int bindStale(PreparedStatement p) throws SQLException {
        p.setString(1, JobQueue.TASK_NAME);
        p.setBoolean(2, true);
        p.setString(3, JobState.RUNNING.name());
        p.setString(4, JobQueue.TASK_NAME);
        return 4;
    }

    /** Frees the units the job itself still holds from an earlier pick (its own node's, or a dead node's). */
    private static void freeOwn(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM resource_holds WHERE job_id = ?")) {
            p.setString(1, jobId);
            p.executeUpdate();
        }
    }

    /**
     * Where a job stands among the jobs waiting for units.
     *
     * @param waitingSince when it began to wait (epoch ms), {@code null} when it does not wait
     * @param heldSince    when it took the units it still holds from an earlier pick (epoch ms), {@code null} if none
     * @param cutShort     its latest attempt is still marked running (the job is {@code RUNNING}): its node stopped
     *                     heart-beating before its end was recorded, and this pick takes it over
     * @param runStarted   when the first attempt of this run of it started (epoch ms: see
     *                     {@link ExecutionLedger#runStarted}), {@code null} if unknown
     * @param lastCut      its latest attempt was cut short, its end recorded ({@code INTERRUPTED})
     */
    private record Place(Long waitingSince, Long heldSince, boolean cutShort, Long runStarted, boolean lastCut) {

        /**
         * Since when it waits: as recorded; else, for a job cut short, as from just before it took the units it
         * still holds (the start of the first attempt of this run when they are gone), ahead of the jobs that
         * started waiting while it held them, as {@link ExecutionLedger#BACK_IN_ITS_PLACE} places a job whose
         * cut-short attempt's end is recorded; else from {@code now} (a first attempt, or a retry, which waits again).
         */
        long since(long now) {
            if (waitingSince != null) {
                return waitingSince;
            }
            if (!cutShort) {
                return now;
            }
            if (heldSince != null) {
                return heldSince - 1;
            }
            return runStarted != null ? runStarted : now;
        }

        /**
         * Whether it resumes a run of it that was cut short, its place kept ({@link #since}): then the units it takes
         * are taken as from when it first took them for this run ({@link #since} + 1 ms), so that any number of cuts
         * keep that place (tryout30 F4: taken as from the re-take, a second cut put it behind the jobs that had
         * waited since before it). Not a first attempt, nor a retry after an attempt that ended otherwise (a
         * failure, a timeout), which waits again from its own wait; a re-run is a new job.
         */
        boolean resumed() {
            return cutShort || (waitingSince != null && lastCut);
        }
    }

    private static Place place(Connection c, String jobId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT j.waiting_since, (SELECT MIN(h.acquired_at) FROM"
                + " resource_holds h WHERE h.job_id = j.id), j.state, " + ExecutionLedger.runStarted("j")
                + ", (SELECT a.outcome FROM job_attempts a WHERE a.job_id = j.id AND a.attempt = j.attempts)"
                + " FROM jobs j WHERE j.id = ?")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return new Place(null, null, false, null, false);
                }
                return new Place(longOrNull(rs, 1), longOrNull(rs, 2),
                        JobState.RUNNING.name().equals(rs.getString(3)), longOrNull(rs, 4),
                        AttemptOutcome.INTERRUPTED.name().equals(rs.getString(5)));
            }
        }
    }

    /**
     * The needs of the jobs that started waiting before this one (ties by id): {@code WAITING}, or cut short and
     * waiting in their place without their units ({@code RUNNING} with {@code waiting_since}: see {@link #take}).
     */
    private static List<Map<String, List<Integer>>> earlierWaiters(Connection c, String jobId, long since)
            throws SQLException {
        List<Map<String, List<Integer>>> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT resources FROM jobs WHERE (state = ? OR (state = ?"
                + " AND waiting_since IS NOT NULL)) AND id <> ? AND (waiting_since < ? OR (waiting_since = ?"
                + " AND id < ?))")) {
            p.setString(1, JobState.WAITING.name());
            p.setString(2, JobState.RUNNING.name());
            p.setString(3, jobId);
            p.setLong(4, since);
            p.setLong(5, since);
            p.setString(6, jobId);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    String json = rs.getString(1);
                    if (json != null) {
                        out.add(Rows.resourceMap(json));
                    }
                }
            }
        }
        return out;
    }

    /** Whether any of {@code others}' needs names a resource of {@code need}. */
    private static boolean needed(List<Map<String, List<Integer>>> others, Map<String, Integer> need) {
        return others.stream().anyMatch(w -> need.keySet().stream().anyMatch(w::containsKey));
    }

    /** The units the job holds now, by resource. */
    private static Map<String, Integer> held(Connection c, String jobId) throws SQLException {
        Map<String, Integer> out = new TreeMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT resource, SUM(units) FROM resource_holds WHERE job_id = ?"
                + " GROUP BY resource")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        return out;
    }

    /**
     * The needs of the other jobs cut short that still hold their units while their execution waits to be picked
     * again (revived: {@code RUNNING}, not picked), placed before {@code since} as {@link Place#since} places them (as
     * from just before they took their units; ties by id). Each may be short of units only because this one holds
     * them.
     */
    private static List<Map<String, List<Integer>>> cutShortAhead(Connection c, String jobId, long since,
            Dialect dialect) throws SQLException {
        List<Map<String, List<Integer>>> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT j.id, j.resources, MIN(h.acquired_at) - 1 FROM jobs j"
                + " JOIN resource_holds h ON h.job_id = j.id WHERE j.state = ? AND j.id <> ? AND j.resources IS NOT"
                + " NULL AND " + ExecutionLedger.executionExists("j.id", " AND s.picked = ?", dialect)
                + " GROUP BY j.id, j.resources")) {
            p.setString(1, JobState.RUNNING.name());
            p.setString(2, jobId);
            p.setString(3, JobQueue.TASK_NAME);
            p.setBoolean(4, false);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long place = rs.getLong(3);
                    if (place < since || (place == since && rs.getString(1).compareTo(jobId) < 0)) {
                        out.add(Rows.resourceMap(rs.getString(2)));
                    }
                }
            }
        }
        return out;
    }

    private static Long longOrNull(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    /** The units of each resource held for jobs other than {@code jobId} (whose own are given back as it takes). */
    private static Map<String, Integer> inUse(Connection c, java.util.Set<String> names, String jobId)
            throws SQLException {
        Map<String, Integer> out = new LinkedHashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT SUM(units) FROM resource_holds WHERE resource = ?"
                + " AND job_id <> ?")) {
            for (String name : names) {
                p.setString(1, name);
                p.setString(2, jobId);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    out.put(name, rs.getInt(1));
                }
            }
        }
        return out;
    }
}
