package org.buildhook.runner.exec;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.commons.exec.ExecuteStreamHandler;

/**
 * The streams of one attempt, for Commons Exec: copies the job's output to its log and writes its
 * stdin, as tasks on a shared pool rather than on new threads per job (Commons Exec's
 * {@code PumpStreamHandler} starts a thread per stream and per job, and cannot be given a pool).
 *
 * <p>stderr is not read here: {@link ExactArgvExecutor} sends it into the stdout pipe, so one task
 * copies both, in the order the program wrote them. The pool must never run out of threads while
 * jobs wait on it: up to two tasks per running job (output, and stdin while it is written).
 *
 * <p>{@link #stop()} is where Commons Exec says, on the job thread, that the program has exited:
 * {@link Ending#programExited()} runs there first, so that leftovers holding the output open are ended
 * before the wait for the end of the output, which they would otherwise hold up. Once they are all
 * gone, an output still open after {@link #DRAIN} more while a process holds it is given up at once: that
 * process is none of the attempt's, and waiting the whole stop timeout for it kept a stopped attempt from
 * being recorded within the server's stop (escape27 F3).
 */
final class PooledStreamHandler implements ExecuteStreamHandler {

    private static final int BUFFER = 8192;
    /** After the attempt's processes are gone: how long the output may take to end before its holders are looked for. */
    static final Duration DRAIN = Duration.ofSeconds(2);

    /** What the handler asks of the attempt once its program has exited. */
    interface Ending {
        /** Ends what the program left running; runs first, on the job thread. */
        void programExited();

        /** Completes once the attempt's processes are all gone, or have been given up on. */
        CompletableFuture<?> treeEnded();

        /**
         * Whether some process still holds the attempt's output or input pipe (one pass over {@code /proc}):
         * asked only once the attempt's processes are gone and the output has not ended.
         */
        boolean outputHeld();
    }

    private final Executor pool;
    private final OutputStream log;
    private final byte[] stdin;
    private final Duration stopTimeout;
    private final Ending ending;
    private final List<CompletableFuture<Void>> pumps = new ArrayList<>(2);
    private OutputStream input;
    private InputStream output;
    private volatile IOException failure;

    /**
     * @param stdin         written to the program then closed; null closes its stdin at once
     * @param stopTimeout   how long {@link #stop()} waits for the end of the output
     * @param ending        asked by {@link #stop()}: ends the leftovers before that wait, says when they are
     *                      gone and whether the output is still held
     */
    PooledStreamHandler(Executor pool, OutputStream log, byte[] stdin, Duration stopTimeout, Ending ending) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.log = Objects.requireNonNull(log, "log");
        this.stdin = stdin;
        this.stopTimeout = Objects.requireNonNull(stopTimeout, "stopTimeout");
        this.ending = Objects.requireNonNull(ending, "ending");
    }

    @Override
    public void setProcessInputStream(OutputStream toProgram) {
        input = toProgram;
    }

    @Override
    public void setProcessOutputStream(InputStream fromProgram) {
        output = fromProgram;
    }

    @Override
    public void setProcessErrorStream(InputStream fromProgram) {
        // Merged into the output by ExactArgvExecutor: this one is always empty.
    }

    @Override
    public void start() {
        if (input != null) {
            if (stdin == null) {
                closeQuietly(input);
            } else {
                submit(() -> writeStdin(input));
            }
        }
        if (output != null) {
            submit(() -> copyOutput(output));
        }
    }

    private void submit(Runnable pump) {
        try {
            pumps.add(CompletableFuture.runAsync(pump, pool));
        } catch (RejectedExecutionException e) {
            // Only when the launcher is shutting down. Closing the pipes ends the program (EOF on
            // stdin, SIGPIPE on output) rather than leaving it blocked on a pipe nobody reads.
            failure = new IOException("no thread left to copy the job's streams: " + e.getMessage(), e);
            closeQuietly(input);
            closeQuietly(output);
        }
    }

    private void writeStdin(OutputStream toProgram) {
        try (toProgram) {
            toProgram.write(stdin);
        } catch (IOException e) {
            // The program exited or closed its stdin without reading it all: its choice.
        }
    }

    private void copyOutput(InputStream fromProgram) {
        try {
            copy(fromProgram);
        } finally {
            if (log instanceof LogMask mask) {
                // What it held back (the beginning of a secret, or not) once the output has ended or was given up.
                try {
                    mask.end();
                } catch (IOException | RuntimeException e) {
                    failure = new IOException("could not write the job's log: " + e, e);
                }
            }
        }
    }

    private void copy(InputStream fromProgram) {
        byte[] buffer = new byte[BUFFER];
        try {
            int read;
            while ((read = fromProgram.read(buffer)) > 0) {
                try {
                    log.write(buffer, 0, read);
                } catch (IOException | RuntimeException | OutOfMemoryError e) {
                    // The output is still read to its end: a pump that stopped here left the program
                    // blocked on its full pipe until its timeout (tryout12 F1).
                    failure = new IOException("could not write the job's log: " + e, e);
                    while (fromProgram.read(buffer) > 0) {
                        // drained, dropped
                    }
                    return;
                }
            }
        } catch (IOException e) {
            // The pipe was closed under the read (Commons Exec closes it after a stop timeout).
        }
    }

    /**
     * Ends leftovers ({@link Ending#programExited()}), then waits up to the stop timeout for the output to
     * end and stdin to be written; once the attempt's processes are gone, no longer than {@link #DRAIN} at a
     * time while some process still holds the output.
     *
     * @throws IOException if the output did not end (a process outside the attempt holds it open; the message
     *                     says for how long, in whole seconds, and the cause is a {@link TimeoutException}) or a
     *                     stream could not be pumped
     */
    @Override
    public void stop() throws IOException {
        long start = System.nanoTime();
        ending.programExited();
        CompletableFuture<Void> pumped = CompletableFuture.allOf(pumps.toArray(CompletableFuture[]::new));
        try {
            long deadline = start + stopTimeout.toNanos();
            try {
                CompletableFuture.anyOf(pumped, ending.treeEnded()).get(stopTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // The full wait is over, or the tree's end failed: only the output is waited for below.
            }
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw stillOpen(start, null);
                }
                try {
                    pumped.get(Math.min(left, DRAIN.toNanos()), TimeUnit.NANOSECONDS);
                    break;
                } catch (TimeoutException e) {
                    // A slow pump still gets the whole wait: only a held output is given up early.
                    if (ending.treeEnded().isDone() && ending.outputHeld()) {
                        throw stillOpen(start, e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IOException("could not copy the job's streams", e.getCause());
        } finally {
            if (!pumped.isDone()) {
                giveUpMask();
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * The output is given up before its end: what the mask held back (the beginning of a secret, or not) is written
     * now, as {@code ***} (review38), before the attempt's own last lines; the pump writes it only at the output's end,
     * which may come after the attempt closed its log, or never (mask36 L2).
     */
    private void giveUpMask() {
        if (log instanceof LogMask mask) {
            try {
                mask.giveUp();
            } catch (IOException | RuntimeException e) {
                failure = new IOException("could not write the job's log: " + e, e);
            }
        }
    }

    private static IOException stillOpen(long start, TimeoutException cause) {
        long seconds = Math.max(1, Math.round((System.nanoTime() - start) / 1e9));
        return new IOException("the job's output was still open " + Attempt.describe(Duration.ofSeconds(seconds))
                + " after it exited", cause != null ? cause : new TimeoutException());
    }

    private static void closeQuietly(Closeable stream) {
        if (stream == null) {
            return;
        }
        try {
            stream.close();
        } catch (IOException e) {
            // Nothing to do: the stream is being abandoned.
        }
    }
}
