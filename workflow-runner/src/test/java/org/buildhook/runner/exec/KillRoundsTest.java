package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The rounds of {@link KillRounds} with stubs for the processes (numbers), the look, the SIGKILL and the clock: what
 * they do does not hang on this machine's speed. The real processes are ForkDuringTheKillTest's and
 * KilledProcessNamesTest's.
 */
class KillRoundsTest {

    private final List<String> events = new ArrayList<>();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    /** A look that always finds one process not seen yet (a fork bomb), and takes {@code millis} of the clock. */
    private java.util.function.Supplier<Set<Integer>> neverConverging(long millis) {
        AtomicInteger next = new AtomicInteger();
        return () -> {
            now.addAndGet(millis * 1_000_000);
            events.add("look");
            return Set.of(next.incrementAndGet());
        };
    }

    private KillRounds.Result<Integer> kill(List<Integer> first, java.util.function.Supplier<Set<Integer>> look) {
        return KillRounds.kill(first, look, round -> round.forEach(p -> events.add("name " + p)),
                p -> events.add("kill " + p), now::get);
    }

    /**
     * review56 F2: the rounds run on the node's one job-timer thread; a tree that kept forking held every other job's
     * timeout and kill steps for {@value KillRounds#MAX_ROUNDS} full looks. Now they stop once {@link
     * KillRounds#BUDGET} is spent: with looks of 100 ms each, after ten of them (before: a hundred).
     */
    @Test
    void roundsThatNeverConvergeStopOnceTheirTimeIsSpent() {
        long looksInBudget = KillRounds.BUDGET.toMillis() / 100;
        KillRounds.Result<Integer> result = kill(List.of(0), neverConverging(100));
        assertThat(events).filteredOn("look"::equals).hasSize((int) looksInBudget);
        assertThat(result.rounds()).isEqualTo(looksInBudget);
        assertThat(result.stillFound()).as("what the last look found, killed too").containsExactly((int) looksInBudget);
        assertThat(result.killed()).hasSize((int) looksInBudget + 1);
        assertThat(events).last().isEqualTo("kill " + looksInBudget);
    }

    /** A look slower than the whole budget: one look all the same, and what it found is killed. */
    @Test
    void oneLookIsTakenWhateverItsTime() {
        KillRounds.Result<Integer> result = kill(List.of(0), neverConverging(KillRounds.BUDGET.toMillis() * 5));
        assertThat(events).containsExactly("name 0", "kill 0", "look", "name 1", "kill 1");
        assertThat(result.rounds()).isEqualTo(1);
        assertThat(result.stillFound()).containsExactly(1);
    }

    /** Looks that take no time: the count bounds them, as before. */
    @Test
    void roundsThatNeverConvergeStopAfterTheMostRoundsToo() {
        KillRounds.Result<Integer> result = kill(List.of(0), neverConverging(0));
        assertThat(result.rounds()).isEqualTo(KillRounds.MAX_ROUNDS);
        assertThat(result.killed()).hasSize(KillRounds.MAX_ROUNDS + 1);
        assertThat(result.stillFound()).containsExactly(KillRounds.MAX_ROUNDS);
    }

    /**
     * review56 F4: each round's processes are told before their SIGKILL (their names are read there: a process killed
     * may be reaped at once), each once; a process killed before and seen again (leaving) is not new.
     */
    @Test
    void eachRoundIsToldBeforeItsKillAndEachProcessOnce() {
        List<Set<Integer>> looks = new ArrayList<>(List.of(Set.of(1, 2, 3), Set.of(1, 2, 3, 4), Set.of(2, 4)));
        KillRounds.Result<Integer> result = kill(List.of(1, 2), () -> {
            events.add("look");
            return looks.remove(0);
        });
        assertThat(events).containsExactly("name 1", "name 2", "kill 1", "kill 2", "look", "name 3", "kill 3", "look",
                "name 4", "kill 4", "look");
        assertThat(result.killed()).containsExactly(1, 2, 3, 4);
        assertThat(result.rounds()).isEqualTo(3);
        assertThat(result.stillFound()).isEmpty();
    }
}
