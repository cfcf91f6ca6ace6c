package org.buildhook.runner.exec;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Read ends that {@link Leftovers#kill} holds on the pipes its leftovers write into and nobody reads any more, from
 * its SIGTERM until they are gone: the output of an attempt whose node's JVM was killed ({@code kill -9}, the OOM
 * killer), which that JVM read. Without a reader, every write into such a pipe kills its writer (SIGPIPE): a shell
 * whose foreground child the SIGTERM ended reports that child's end on its standard error ({@code … Terminated
 * sleep 1}), and so died before its {@code trap … TERM} ran, as did a trap that says anything on its standard
 * output. The sweep then found every process gone at once and ran the job again within a second, where "SIGTERM,
 * SIGKILL 5 s later" gives a script its cleanup (tryout44 F10). What is read is dropped: it never went through the
 * masking of the attempt's log ({@link LogMask}), and its node is gone.
 *
 * <p>A pipe is taken only when no process of the host holds it open for reading ({@code /proc/<pid>/fdinfo}'s
 * {@code flags}): not one between two of the leftovers ({@code a | b}), nor the output of a node whose JVM is still
 * there, paused or stalled, which reads it again when it wakes. It is opened through {@code /proc/<pid>/fd/<fd>}
 * (proc(5)), which gives a new descriptor on the same pipe, read and write: such an open never waits (a descriptor
 * that became a named FIFO in between would make a read-only open wait for its writer), and a pipe that nobody reads
 * has no one to see this writer either. Nothing is taken where {@code /proc} cannot be read (another user's
 * processes when the server is not root): those leftovers get their signals as before.
 */
final class LeftoverPipes implements AutoCloseable {

    /** {@code O_ACCMODE} and its write-only value ({@code <fcntl.h>}). */
    private static final int ACCESS_MODE = 3;
    private static final int WRITE_ONLY = 1;
    /** The most bytes one {@link #drain} reads from one pipe: a pipe's default capacity. */
    private static final int DRAIN_BYTES = 64 * 1024;

    /** Holds nothing: for a kill without a grace period, or where nothing is to be held. */
    static final LeftoverPipes NONE = new LeftoverPipes(List.of());

    private final List<RandomAccessFile> held;
    /** What reads each of {@link #held}, on its descriptor. */
    private final List<FileInputStream> readers = new ArrayList<>();
    private final byte[] buffer = new byte[8192];

    private LeftoverPipes(List<RandomAccessFile> held) {
        this.held = held;
        for (RandomAccessFile end : held) {
            try {
                readers.add(new FileInputStream(end.getFD()));
            } catch (IOException e) {
                // Closed: nothing to read.
            }
        }
    }

    /**
     * Opens a read end on every pipe that one of {@code pids} holds open for writing and no process of the host holds
     * open for reading. Costs a listing of each process's descriptors, and, when there is such a pipe, one pass over
     * the descriptors of every process of the host.
     *
     * @param pids the leftovers about to get their SIGTERM
     * @return what it holds; {@link #NONE} when nothing was found or nothing could be read
     */
    static LeftoverPipes open(Set<Long> pids) {
        if (!ProcStat.available()) {
            return NONE;
        }
        Map<String, Descriptor> unread = new LinkedHashMap<>(); // pipe name -> a descriptor that writes into it
        List<String> read = new ArrayList<>();
        for (long pid : pids) {
            descriptors(pid, (fd, pipe, mode) -> {
                if (mode == WRITE_ONLY) {
                    unread.putIfAbsent(pipe, fd);
                } else {
                    read.add(pipe);
                }
            });
        }
        unread.keySet().removeAll(read);
        if (unread.isEmpty()) {
            return NONE;
        }
        for (ProcStat process : ProcStat.all()) {
            if (!pids.contains(process.pid()) && !process.gone()) {
                descriptors(process.pid(), (fd, pipe, mode) -> {
                    if (mode != WRITE_ONLY) {
                        unread.remove(pipe);
                    }
                });
            }
        }
        List<RandomAccessFile> held = new ArrayList<>();
        for (Map.Entry<String, Descriptor> pipe : unread.entrySet()) {
            Descriptor fd = pipe.getValue();
            try {
                RandomAccessFile end = new RandomAccessFile("/proc/" + fd.pid() + "/fd/" + fd.fd(), "rw");
                if (pipe.getKey().equals(JobPipes.pipeOf(fd.pid(), fd.fd()))) {
                    held.add(end);
                } else {
                    end.close(); // the descriptor was closed, or names something else now
                }
            } catch (IOException | RuntimeException e) {
                // Closed or gone meanwhile, or not ours to open.
            }
        }
        return held.isEmpty() ? NONE : new LeftoverPipes(held);
    }

    /** How many pipes it holds (for tests). */
    int held() {
        return held.size();
    }

    /**
     * Reads and drops what waits in the pipes it holds, at most a pipe's default capacity (64 KiB) each, without
     * waiting for more: called between looks at whether the leftovers are gone, so that a writer seldom waits.
     */
    void drain() {
        for (FileInputStream in : readers) {
            try {
                int waiting;
                for (int taken = 0; taken < DRAIN_BYTES && (waiting = in.available()) > 0; ) {
                    int n = in.read(buffer, 0, Math.min(waiting, buffer.length));
                    if (n < 0) {
                        break;
                    }
                    taken += n;
                }
            } catch (IOException e) {
                // Nothing more to read from it.
            }
        }
    }

    /** Closes the read ends: a write into such a pipe kills its writer again. */
    @Override
    public void close() {
        for (RandomAccessFile end : held) {
            try {
                end.close();
            } catch (IOException e) {
                // Closed.
            }
        }
    }

    /** A descriptor of a process. */
    private record Descriptor(long pid, int fd) {
    }

    /** A pipe descriptor of a process, the pipe's name ({@code pipe:[<inode>]}), and the descriptor's access mode. */
    private interface PipeDescriptor {
        void found(Descriptor fd, String pipe, int mode);
    }

    /** Calls {@code each} for every pipe descriptor of {@code pid} whose access mode can be read. */
    private static void descriptors(long pid, PipeDescriptor each) {
        String[] fds = new File("/proc/" + pid + "/fd/").list();
        if (fds == null) {
            return;
        }
        for (String name : fds) {
            int fd;
            try {
                fd = Integer.parseInt(name);
            } catch (NumberFormatException e) {
                continue;
            }
            String pipe = JobPipes.pipeOf(pid, fd);
            int mode = pipe == null ? -1 : accessMode(pid, fd);
            if (mode >= 0) {
                each.found(new Descriptor(pid, fd), pipe, mode);
            }
        }
    }

    /** The access mode ({@code O_RDONLY} 0, {@code O_WRONLY} 1, {@code O_RDWR} 2) of a descriptor; -1 if unknown. */
    static int accessMode(long pid, int fd) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/fdinfo/" + fd), StandardCharsets.US_ASCII)) {
                if (line.startsWith("flags:")) {
                    return Integer.parseInt(line.substring("flags:".length()).trim(), 8) & ACCESS_MODE;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Closed meanwhile, or the process is gone.
        }
        return -1;
    }
}
