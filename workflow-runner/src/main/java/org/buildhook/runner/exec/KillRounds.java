package org.buildhook.runner.exec;

import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * SIGKILL to an attempt's processes, then to what a fresh look finds that was not killed yet, until a look finds
 * nothing new. Without cgroups ({@code cgroup.kill} ends a whole cgroup at once) a kill is "look, then signal what was
 * seen": a parent that ignores SIGTERM and forks between the look and its own SIGKILL left that child running, with
 * the job's marker, after its timeout, cancel or stop (review55b F3).
 *
 * <p>It converges: once {@code kill(2)} has queued SIGKILL, the target cannot complete a fork (Linux's
 * {@code copy_process} fails while a fatal signal is pending, under the lock {@code kill} takes), and a child whose
 * fork completed before is in {@code /proc} by then. So each look finds only what was forked before its parent's
 * kill, and a round finds nothing new once no process of the attempt is alive but those killed. A process killed
 * that has not exited yet (it is leaving, or stuck in the kernel) is seen again and not counted as new. Bounded all
 * the same, by {@value #MAX_ROUNDS} rounds (each one look) and by {@link #BUDGET} of time, whichever comes first: what
 * the last look still found is killed too and said. A job's rounds run on its node's one job-timer thread, where
 * every other job's timeout and kill steps wait meanwhile, and a look at a host with many processes is slow: a tree
 * that keeps forking held them for {@value #MAX_ROUNDS} full looks (review56 F2).
 *
 * <p>No logger here: {@link NodeWatchdog} runs this in a JVM of its own with only this module's jar on its class
 * path. The callers say what {@link Result#stillFound} holds.
 */
final class KillRounds {

    /** Rounds of kill and look at most: a fork chain that outruns this many is a fork bomb, which only cgroups stop. */
    static final int MAX_ROUNDS = 100;

    /**
     * The time the rounds take at most: after it, the next look is not taken. The usual end, one or two looks, takes
     * milliseconds; a fork chain that outruns a second of looks is a fork bomb too.
     */
    static final Duration BUDGET = Duration.ofSeconds(1);

    private KillRounds() {
    }

    /**
     * What the rounds did.
     *
     * @param killed     every process that got SIGKILL, in the order found
     * @param rounds     how many looks there were after the first kill
     * @param stillFound what the last look, after {@value #MAX_ROUNDS} rounds or {@link #BUDGET}, still found new:
     *                   killed too, but their children forked meanwhile may live; empty when a look found nothing new
     *                   (the usual end)
     * @param <T>        a process ({@link ProcessHandle}; a stub in tests)
     */
    record Result<T>(Set<T> killed, int rounds, Set<T> stillFound) {
        Result {
            killed = Collections.unmodifiableSet(new LinkedHashSet<>(killed));
            stillFound = Collections.unmodifiableSet(new LinkedHashSet<>(stillFound));
        }
    }

    /**
     * SIGKILL to {@code first}, then to what each {@code look} finds that was not killed yet, until a look finds
     * nothing new, {@value #MAX_ROUNDS} rounds passed or {@link #BUDGET} is spent (at least one look is taken). Never
     * waits: one look per round. Processes are told apart by
     * pid and start time ({@link ProcessHandle#equals}): a pid a killed process freed and a new process of the
     * attempt took is new.
     *
     * @param first      the processes found so far, none signalled by this yet (a SIGTERM before is fine)
     * @param look       the live processes of the attempt now (a pass over {@code /proc})
     * @param beforeKill told each round's processes, the first's too, just before their SIGKILL: what the caller reads
     *                   of them (their names) is read there, as a process killed may be reaped at once and then
     *                   reads as {@code ?} (review56 F4)
     */
    static Result<ProcessHandle> kill(Collection<ProcessHandle> first,
            Supplier<? extends Collection<ProcessHandle>> look, Consumer<Set<ProcessHandle>> beforeKill) {
        return kill(first, look, beforeKill, ProcessHandle::destroyForcibly, System::nanoTime);
    }

    /**
     * As {@link #kill(Collection, Supplier, Consumer)}, with the SIGKILL and the clock given (tests).
     *
     * @param kill     SIGKILL to one process
     * @param nanoTime the time now, in nanoseconds ({@link System#nanoTime})
     */
    static <T> Result<T> kill(Collection<T> first, Supplier<? extends Collection<T>> look, Consumer<Set<T>> beforeKill,
            Consumer<T> kill, LongSupplier nanoTime) {
        long start = nanoTime.getAsLong();
        Set<T> killed = new LinkedHashSet<>();
        Set<T> round = new LinkedHashSet<>(first);
        int rounds = 0;
        while (!round.isEmpty()) {
            beforeKill.accept(Collections.unmodifiableSet(round));
            round.forEach(kill);
            killed.addAll(round);
            if (rounds == MAX_ROUNDS || rounds > 0 && nanoTime.getAsLong() - start >= BUDGET.toNanos()) {
                return new Result<>(killed, rounds, round);
            }
            rounds++;
            round = new LinkedHashSet<>(look.get());
            round.removeAll(killed);
        }
        return new Result<>(killed, rounds, Set.of());
    }
}
