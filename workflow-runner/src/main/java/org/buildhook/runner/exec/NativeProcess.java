package org.buildhook.runner.exec;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child started by {@link NativeSpawn}, as a {@link Process}: what Commons Exec, {@link Attempt}
 * and {@link ProcessTree} use of a process behaves as the JDK's own.
 *
 * <p><b>Pipes.</b> The pipe ends are plain descriptors from {@code pipe2}. Java reaches them by
 * opening {@code /proc/self/fd/<n>}, which gives a new descriptor on the same pipe, then closing
 * the original: the streams are then the JDK's own {@link FileOutputStream} and the channel of a
 * {@link FileInputStream} (whose close, unlike the JDK's process pipes', wakes a blocked read), with no reflection into {@code java.base} and no JNA call per read or
 * write (the alternative: a stream calling {@code read(2)} through JNA, whose close under a
 * blocked read would free a descriptor number still in use). The cost is one {@code open} per
 * stream.
 *
 * <p><b>Reaping.</b> Only this class reaps the child, and only under its lock; {@link #destroy()}
 * signals under the same lock, so a signal never reaches another process that got the pid after
 * it was freed. The thread that waits ({@link #waitFor()}: Commons Exec's job thread) blocks in
 * {@code waitid(WEXITED | WNOWAIT)}, which returns once the child has exited without reaping it,
 * then reaps it under the lock: no polling (unless that wait fails in a way it never should: then
 * it looks every few milliseconds rather than spin), no thread of its own. {@link #isAlive()} reaps an
 * exited child it finds, and {@link #onExit()} starts a waiting thread only when nobody waits yet,
 * so no child is left a zombie. {@link #toHandle()} is the JDK's handle of the pid: its
 * {@code onExit} waits with {@code WNOWAIT} too, so it never reaps the child either.
 *
 * <p>{@link #waitFor()} is not interrupted by {@link Thread#interrupt()} (the thread is in the
 * kernel's wait); the launcher ends the process tree rather than interrupting its job threads.
 *
 * <p>Exit values are the JDK's: the exit code, or 128 + n for a process killed by signal n.
 */
final class NativeProcess extends Process {

    private static final Logger LOG = LoggerFactory.getLogger(NativeProcess.class);

    private final int pid;
    private final ProcessHandle handle;
    private final OutputStream stdin;
    private final InputStream output;
    private final InputStream noStderr = InputStream.nullInputStream(); // each its own: closing it is the caller's
    private final Object lock = new Object();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final AtomicBoolean waiting = new AtomicBoolean();

    private final java.util.Set<String> pipes;

    private NativeProcess(int pid, ProcessHandle handle, OutputStream stdin, InputStream output,
            java.util.Set<String> pipes) {
        this.pid = pid;
        this.handle = handle;
        this.stdin = stdin;
        this.output = output;
        this.pipes = pipes;
        NativeSpawn.started();
    }

    /**
     * The process started as {@code pid}, with the parent's ends of its pipes; they are reopened
     * (both still have a reader and a writer: the caller holds the child's ends until this
     * returns) and left for the caller to close. A child whose pipes cannot be reopened is killed
     * and reaped.
     */
    static NativeProcess of(int pid, int stdinFd, int outputFd) throws IOException {
        // Alive, or a zombie only this class can reap: the handle is of this very child.
        ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
        FileOutputStream stdin = null;
        // Named while this JVM still holds both ends: a process that holds one later is the attempt's (JobPipes).
        java.util.Set<String> pipes = new java.util.LinkedHashSet<>(2);
        for (int fd : new int[] {stdinFd, outputFd}) {
            String pipe = JobPipes.ownPipe(fd);
            if (pipe != null) {
                pipes.add(pipe);
            }
        }
        try {
            stdin = new FileOutputStream("/proc/self/fd/" + stdinFd);
            InputStream output = new PipeInput(new FileInputStream("/proc/self/fd/" + outputFd).getChannel());
            if (handle == null) {
                throw new IOException("the process " + pid + " is not visible to ProcessHandle");
            }
            return new NativeProcess(pid, handle, stdin, output, java.util.Set.copyOf(pipes));
        } catch (IOException e) {
            if (stdin != null) {
                stdin.close();
            }
            try {
                LibC.kill(pid, LibC.SIGKILL);
            } catch (LastErrorException ignored) {
                // Already gone: it is reaped below all the same.
            }
            try {
                LibC.waitpid(pid, new int[1], 0);
            } catch (LastErrorException ignored) {
                // Not ours to reap after all: nothing left to do.
            }
            throw new IOException("started process " + pid + " but could not open its pipes: " + e.getMessage(), e);
        }
    }

    /** The job's pipes as {@code /proc} names them ({@code pipe:[<inode>]}, {@link JobPipes}); empty if unread. */
    java.util.Set<String> pipes() {
        return pipes;
    }

    @Override
    public OutputStream getOutputStream() {
        return stdin;
    }

    @Override
    public InputStream getInputStream() {
        return output;
    }

    /** Always empty: stderr goes into the same pipe as stdout. */
    @Override
    public InputStream getErrorStream() {
        return noStderr;
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public ProcessHandle toHandle() {
        return handle;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    /**
     * How {@link #waitFor()} blocks until the child is waitable without reaping it:
     * {@code waitid(P_PID, pid, WEXITED | WNOWAIT)}. A seam for tests, which inject one failure.
     */
    @FunctionalInterface
    interface ExitWait {
        void await(int pid, Pointer info) throws LastErrorException;
    }

    private static final ExitWait WAITID = (pid, info) -> LibC.waitid(LibC.P_PID, pid, info,
            LibC.WEXITED | LibC.WNOWAIT);
    /** Longest pause between two looks once the kernel's wait has failed ({@link #pollUntilReaped}). */
    private static final long POLL_MAX_MILLIS = 50;

    private volatile ExitWait exitWait = WAITID;

    /** Waits through {@code wait} instead of {@code waitid}; for tests. */
    NativeProcess waitingWith(ExitWait wait) {
        exitWait = wait;
        return this;
    }

    /** Blocks until the child has exited, reaps it, and returns its exit value. */
    @Override
    public int waitFor() {
        waiting.set(true); // onExit() need not start a thread to wait
        try (LibC.Block info = new LibC.Block(LibC.SIGINFO_BYTES)) {
            while (!exit.isDone()) {
                try {
                    // Returns once the child is waitable, and leaves it so: reaped under the lock below.
                    exitWait.await(pid, info.pointer);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == LibC.EINTR) {
                        continue;
                    }
                    if (e.getErrorCode() != LibC.ECHILD) {
                        // Not a wait that blocks (EINVAL, EFAULT …): looping on it would spin a core
                        // for as long as the child runs.
                        pollUntilReaped("waitid failed: error=" + e.getErrorCode());
                        break;
                    }
                    // ECHILD: reaped meanwhile, by this class (below) or, against the rules, by someone else.
                }
                reap(true);
                if (!exit.isDone()) {
                    // Waitable, yet not reaped (waitpid failed): the same wait would return at once again.
                    pollUntilReaped("the exited process could not be reaped");
                }
            }
        }
        return exit.join();
    }

    /**
     * The way out when the kernel's wait does not block as it should: looks every few
     * milliseconds (up to {@value #POLL_MAX_MILLIS}) until the child is reaped, still only under
     * the lock. Not interrupted, as {@link #waitFor()}; an interrupt is kept for the caller.
     */
    private void pollUntilReaped(String why) {
        LOG.warn("process {}: {}; looking for its exit every {} ms instead", pid, why, POLL_MAX_MILLIS);
        long pause = 1;
        boolean interrupted = false;
        while (!exit.isDone()) {
            reap(false);
            if (exit.isDone()) {
                break;
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            pause = Math.min(pause * 2, POLL_MAX_MILLIS);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        if (!isAlive()) {
            return true;
        }
        startWaiting();
        try {
            exit.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public CompletableFuture<Process> onExit() {
        if (!exit.isDone()) {
            startWaiting();
        }
        return exit.thenApply(code -> this);
    }

    @Override
    public int exitValue() {
        if (isAlive()) {
            throw new IllegalThreadStateException("process " + pid + " has not exited");
        }
        return exit.join();
    }

    /** Whether the child has not exited; an exited child found here is reaped. */
    @Override
    public boolean isAlive() {
        if (exit.isDone()) {
            return false;
        }
        reap(false);
        return !exit.isDone();
    }

    @Override
    public void destroy() {
        signal(LibC.SIGTERM);
    }

    @Override
    public Process destroyForcibly() {
        signal(LibC.SIGKILL);
        return this;
    }

    private void signal(int signal) {
        synchronized (lock) {
            // Not reaped yet, so the pid is still this child's (alive or a zombie).
            if (!exit.isDone()) {
                try {
                    LibC.kill(pid, signal);
                } catch (LastErrorException e) {
                    // ESRCH cannot happen before the reap; EPERM neither for our own child.
                }
            }
        }
    }

    /**
     * Reaps the child if it has exited: the only place it is reaped. {@code exited} says the
     * caller knows it has (so a missing child means someone else reaped it).
     */
    private void reap(boolean exited) {
        synchronized (lock) {
            if (exit.isDone()) {
                return;
            }
            int[] status = new int[1];
            int reaped;
            try {
                reaped = LibC.waitpid(pid, status, LibC.WNOHANG);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.ECHILD) {
                    if (exited) {
                        LOG.warn("could not reap process {}: error={}", pid, e.getErrorCode());
                    }
                    return;
                }
                // Someone else reaped it: the exit code is lost. Never 0, which would read as success.
                LOG.warn("process {} was reaped by someone else; its exit code is unknown", pid);
                NativeSpawn.reaped();
                exit.complete(-1);
                return;
            }
            if (reaped == pid) {
                // Counted off first: completing the exit lets the launcher's close go on, which
                // lets go of JNA only once no child is left unreaped.
                NativeSpawn.reaped();
                exit.complete(exitValue(status[0]));
            }
        }
    }

    /** The JDK's mapping of a wait status: the exit code, or 128 + the signal that killed it. */
    static int exitValue(int status) {
        int signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 0x80 + signal;
    }

    private void startWaiting() {
        if (waiting.compareAndSet(false, true)) {
            Thread waiter = new Thread(this::waitFor, "buildhook-process-wait-" + pid);
            waiter.setDaemon(true);
            waiter.start();
        }
    }

    @Override
    public String toString() {
        return "NativeProcess[pid=" + pid + ", exitValue=" + (exit.isDone() ? exit.join() : "not exited") + "]";
    }

    /**
     * The output pipe, read through its channel: closing it wakes a thread blocked reading it (the JDK's
     * {@code FileChannelImpl} signals that thread), where closing a {@link FileInputStream} leaves the read
     * blocked until every writer has closed the pipe; a process the tree kill could not find then held a pump
     * thread for its whole life (escape27 F1). Not {@code Channels.newInputStream}: its {@code available()} asks
     * the channel for its position, which a pipe has not ({@code ESPIPE}); not buffered, the pump reads 8 KiB at a
     * time, and {@code readAllBytes} only reads (a {@code FileInputStream}'s seeks, Java 17).
     */
    private static final class PipeInput extends InputStream {

        private final java.nio.channels.FileChannel channel;

        PipeInput(java.nio.channels.FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int read = read(one, 0, 1);
            return read < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            java.util.Objects.checkFromIndexSize(offset, length, buffer.length);
            if (length == 0) {
                return 0;
            }
            int read;
            do {
                read = channel.read(java.nio.ByteBuffer.wrap(buffer, offset, length));
            } while (read == 0);
            return read;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
