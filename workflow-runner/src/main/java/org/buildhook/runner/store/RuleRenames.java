package org.buildhook.runner.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which jobs of other rules a rule in force counts as its own while they run (rename35, tryout34 F7): to buildhook a
 * renamed rule is a new rule (jobs belong to a rule by name), so without this the new name's {@code concurrency}
 * saw none of the old name's running jobs and its next job ran beside them. A rule counts the running jobs of
 * <ul>
 *   <li>each name its {@code renamed-from} writes (never a rule in force: the rules file refuses that), and</li>
 *   <li>each rule not in force whose job's {@code run} is the rule's {@code run} word for word (the rule renamed
 *       without the key), as its snapshot, which the job carries, writes it.</li>
 * </ul>
 * Worked out from the rules in force and the stored jobs alone, never from a reload's history: every node with the
 * same rules (the same fingerprint) counts the same jobs, and one started after the reload too.
 */
public final class RuleRenames {

    /** No rule in force (before any rules file is loaded). */
    public static final RuleRenames NONE = new RuleRenames(Map.of(), Map.of());

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Set<String>> renamedFrom;
    private final Map<String, JsonNode> runs;
    private final List<String> inForce;

    private RuleRenames(Map<String, Set<String>> renamedFrom, Map<String, JsonNode> runs) {
        this.renamedFrom = renamedFrom;
        this.runs = runs;
        this.inForce = List.copyOf(runs.keySet());
    }

    /**
     * @param renamedFrom each rule in force that writes {@code renamed-from}, to its old names
     * @param snapshots   each rule in force (enabled), by name, to its canonical JSON
     */
    public static RuleRenames of(Map<String, List<String>> renamedFrom, Map<String, String> snapshots) {
        Map<String, Set<String>> old = new LinkedHashMap<>();
        renamedFrom.forEach((rule, names) -> old.put(rule, Set.copyOf(names)));
        Map<String, JsonNode> runs = new LinkedHashMap<>();
        snapshots.forEach((rule, json) -> runs.put(rule, run(json)));
        return new RuleRenames(java.util.Collections.unmodifiableMap(old), java.util.Collections.unmodifiableMap(runs));
    }

    /** Whether some rule in force may count another rule's jobs: a rule in force at all. */
    boolean any() {
        return !runs.isEmpty();
    }

    /** The rules in force, in file order. */
    List<String> namesInForce() {
        return inForce;
    }

    /**
     * Whether {@code rule}'s {@code concurrency} counts a running job of {@code other} whose rule snapshot is
     * {@code otherSnapshot}.
     */
    public boolean counts(String rule, String other, String otherSnapshot) {
        return how(rule, other, otherSnapshot).isPresent();
    }

    /** Whether {@code rule} is in force (enabled in the rules in force). */
    boolean inForce(String rule) {
        return runs.containsKey(rule);
    }

    /**
     * Whether a job of {@code rule}, whose rule snapshot is {@code ruleSnapshot}, counts a running job of {@code other}
     * against its {@code concurrency}. For a rule in force, as {@link #counts(String, String, String)}. For a rule not
     * in force (the old name's retry, or re-run, after a rename: review36), the other way round: the running jobs of
     * each rule in force that takes it over, and of the other old names those rules take over; else the two names'
     * jobs would each count only their own and a retry of the old name would start beside the new name's job.
     */
    public boolean counts(String rule, String ruleSnapshot, String other, String otherSnapshot) {
        if (rule.equals(other)) {
            return false;
        }
        if (runs.containsKey(rule)) {
            return how(rule, other, otherSnapshot).isPresent();
        }
        for (String taker : runs.keySet()) {
            if (how(taker, rule, ruleSnapshot).isPresent()
                    && (taker.equals(other) || how(taker, other, otherSnapshot).isPresent())) {
                return true;
            }
        }
        return false;
    }

    /**
     * How {@code rule} (in force) takes over the running jobs of {@code other}: {@link Taken#RENAMED_FROM} when its
     * {@code renamed-from} names it, {@link Taken#SAME_RUN} when {@code other} is not in force and its job's run is
     * {@code rule}'s word for word; empty when it does not count them (or {@code rule} is not in force).
     */
    public Optional<Taken> how(String rule, String other, String otherSnapshot) {
        if (rule.equals(other) || !runs.containsKey(rule)) {
            return Optional.empty();
        }
        if (renamedFrom.getOrDefault(rule, Set.of()).contains(other)) {
            return Optional.of(Taken.RENAMED_FROM);
        }
        JsonNode run = runs.get(rule);
        if (runs.containsKey(other) || run == null || otherSnapshot == null) {
            return Optional.empty();
        }
        JsonNode theirs = run(otherSnapshot);
        return run.equals(theirs) ? Optional.of(Taken.SAME_RUN) : Optional.empty();
    }

    /**
     * Whether {@code rule} is in force with the {@code run} that {@code snapshot} (a rule snapshot, as a job carries
     * it) writes, word for word; false for a rule not in force, and for a snapshot that is null or not JSON.
     */
    public boolean sameRun(String rule, String snapshot) {
        JsonNode run = runs.get(rule);
        return run != null && snapshot != null && run.equals(run(snapshot));
    }

    /** The first rule in force (in file order) that counts {@code other}'s running jobs, and how; or empty. */
    public Optional<Map.Entry<String, Taken>> takenBy(String other, String otherSnapshot) {
        return takenBy(other, otherSnapshot, rule -> false);
    }

    /**
     * As {@link #takenBy(String, String)}, but a rule taken as {@code other}'s by the same {@code run} alone is skipped
     * when {@code beside} says it was in force beside {@code other} (it is no rename then: ci48, takeover42); a
     * {@code renamed-from} always counts.
     *
     * @param beside asked only of a same-run rule, by name
     */
    public Optional<Map.Entry<String, Taken>> takenBy(String other, String otherSnapshot,
            java.util.function.Predicate<String> beside) {
        for (String rule : runs.keySet()) {
            Optional<Taken> how = how(rule, other, otherSnapshot);
            if (how.isPresent() && (how.get() == Taken.RENAMED_FROM || !beside.test(rule))) {
                return Optional.of(Map.entry(rule, how.get()));
            }
        }
        return Optional.empty();
    }

    /**
     * Every rule in force that counts the running jobs of {@code other} whose rule snapshot is {@code otherSnapshot}, in
     * name order; empty (without reading the snapshot) for a rule in force that no {@code renamed-from} names.
     */
    public java.util.SortedSet<String> countedBy(String other, String otherSnapshot) {
        java.util.SortedSet<String> out = new java.util.TreeSet<>();
        if (runs.containsKey(other) && renamedFrom.values().stream().noneMatch(names -> names.contains(other))) {
            return out;
        }
        for (String rule : runs.keySet()) {
            if (how(rule, other, otherSnapshot).isPresent()) {
                out.add(rule);
            }
        }
        return out;
    }

    /**
     * The other rules whose concurrency slots a job of {@code rule} (whose rule snapshot is {@code snapshot}; read only
     * for a rule not in force) shares by a rename, in name order (renames37): for a rule in force, the names its {@code
     * renamed-from} writes; for a rule not in force (the old name), the rules in force that take it over ({@link
     * #countedBy}) and the other names those rules' {@code renamed-from} writes. A slot take locks their lines with its
     * own ({@code ExecutionLedger.tryAcquireSlot}), and a job's end wakes them ({@code
     * ExecutionLedger.wakeRenamedLines}). Empty, without reading the snapshot, for a rule in force without the key that
     * no {@code renamed-from} names. A rule in force taken as renamed from an old name only by the same {@code run} does
     * not list that name (it is known from a stored job only): the old name's take locks the rule's line instead, which
     * every take of the rule locks too.
     */
    public java.util.SortedSet<String> linked(String rule, String snapshot) {
        java.util.SortedSet<String> out = new java.util.TreeSet<>(renamedFrom.getOrDefault(rule, Set.of()));
        if (!runs.containsKey(rule)) {
            for (String taker : countedBy(rule, snapshot)) {
                out.add(taker);
                out.addAll(renamedFrom.getOrDefault(taker, Set.of()));
            }
        }
        out.remove(rule);
        return out;
    }

    /** The names {@code rule}'s {@code renamed-from} writes, in name order; empty for a rule not in force. */
    java.util.SortedSet<String> renamedFrom(String rule) {
        return new java.util.TreeSet<>(runs.containsKey(rule) ? renamedFrom.getOrDefault(rule, Set.of()) : Set.of());
    }

    /** How a rule came to count another rule's jobs. */
    public enum Taken {
        /** Its {@code renamed-from} names the other rule. */
        RENAMED_FROM,
        /** The other rule is not in force and has its {@code run} word for word. */
        SAME_RUN
    }

    private static JsonNode run(String snapshot) {
        try {
            return JSON.readTree(snapshot).get("run");
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
