package org.buildhook.runner.engine;

import com.github.kagkarlsson.scheduler.ExecutorUtils;
import com.github.kagkarlsson.scheduler.Scheduler;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads db-scheduler runs a node's jobs on ({@code runner.threads}, named as db-scheduler's own), which pick
 * again once a job that could not start has given its thread back (tryout43 F6).
 *
 * <p>db-scheduler's pick takes the due executions first by due time, as many as there are free threads, and picks
 * again after one of them ended only while no more than its lower limit of jobs are left running ({@link
 * JobEngine#refetchBelow}: on SQLite half the threads). A job refused its rule's concurrency slot or its shared
 * resources' units (or waiting for the older job it superseded) is put back for its next try in a moment, which
 * ended its execution without running anything: the free thread was left idle until the next poll or the next end
 * of a running job, and jobs that could start (a rule without limits) waited behind every due job that could not,
 * one poll each. Picking again right after such a job is put back takes the next due job: one that cannot start is
 * put back in its turn, for its next try after {@code runner.slot-retry} (or due now when what it waits for came back
 * meanwhile, and then it starts), and one that can starts at once. So a node picks once more for each job refused,
 * when it has a free thread; with all threads busy the pick asks for nothing.
 */
final class JobThreads extends ThreadPoolExecutor {

    /** Set on a job's thread when its execution ended without starting its command, to be picked again. */
    private final ThreadLocal<Boolean> pickAgain = ThreadLocal.withInitial(() -> false);
    private final Runnable pick;
    /** Runs one execution's work on the thread ({@link #execute}). */
    private final java.util.function.Consumer<Runnable> around;

    /**
     * @param threads {@code runner.threads}, from 1
     * @param pick    asks db-scheduler to pick what is due now ({@link Scheduler#triggerCheckForDueExecutions})
     */
    JobThreads(int threads, Runnable pick) {
        this(threads, pick, Runnable::run);
    }

    /**
     * @param around runs each execution's whole work on its thread: {@link org.buildhook.runner.store.Store#look}, so
     *               that every answer a job's bookkeeping waits for from PostgreSQL is bounded (see {@link #execute})
     */
    JobThreads(int threads, Runnable pick, java.util.function.Consumer<Runnable> around) {
        super(threads, threads, 0L, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                ExecutorUtils.defaultThreadFactoryWithPrefix(Scheduler.THREAD_PREFIX + "-"));
        this.pick = pick;
        this.around = around;
    }

    /**
     * Runs {@code command}, one execution of db-scheduler (the job's {@link JobTask} and db-scheduler's completion of
     * it, its remove or reschedule), through {@code around}. The one place where a job's work begins on its thread:
     * on PostgreSQL each answer it waits for is bounded there ({@link org.buildhook.runner.store.Store#lookBound}),
     * its reads, its records, its slots and units, the look at its lease just before the exec, its cancel checks.
     * A connection that never answered again (its server process stopped, the database's host frozen, a network that
     * drops it without a word) held the job's thread until TCP's keepalive gave up, two hours and more: the job never
     * ended, its concurrency slot stayed held, and {@code /healthz} said ok. Now such an answer ends as a cut
     * connection, which the job's steps wait out and try again ({@link StoreOutageWait}). Per answer, not per job:
     * a job's command may run for hours.
     */
    @Override
    public void execute(Runnable command) {
        super.execute(() -> around.accept(command));
    }

    /**
     * Called on a job's thread whose execution was put back or ended without its command (a slot or units not free,
     * the job superseded or cancelled before it started), or whose attempt gave back a slot or units and so woke the
     * next in line: once the thread is given back to db-scheduler's count of free threads, the node picks again.
     */
    void pickAgainAfterThisJob() {
        pickAgain.set(true);
    }

    @Override
    protected void afterExecute(Runnable r, Throwable t) {
        // After db-scheduler's own wrapper ended: its count of jobs in hand is lower by this one, so the pick sees
        // this thread free.
        if (pickAgain.get()) {
            pickAgain.set(false);
            pick.run();
        }
    }
}
