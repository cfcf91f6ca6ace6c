package org.buildhook.runner.exec;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of {@code /proc/<pid>/stat} that the tree kill needs (state, parent, session), read
 * and parsed without building strings, and one pass over every process of the machine.
 *
 * <p>Cost matters here: a pass runs when a job ends and reads one small file per process on the
 * host, which may be thousands under a busy build. So the line is read into a reused buffer and
 * only the digits up to the session field are decoded; nothing else of the line is looked at.
 *
 * @param pid     the process id
 * @param state   the state letter ({@code R}, {@code S}, {@code Z} …)
 * @param parent  the parent's pid
 * @param session the session id
 */
record ProcStat(long pid, char state, long parent, long session) {

    /** Enough for "pid (comm) state ppid pgrp session": comm is at most 64 bytes. */
    private static final int READ = 256;
    /** Enough for the line up to its start time (field 22): 19 numbers of at most 20 digits after comm. */
    private static final int FULL_READ = 512;
    private static final File PROC = new File("/proc");

    /** Whether the process has exited: a zombie waits only to be reaped, and counts as gone. */
    boolean gone() {
        return state == 'Z' || state == 'X';
    }

    /** Whether the process is stopped: {@code T} (SIGSTOP, SIGTSTP …) or {@code t} (a debugger's trace stop). */
    boolean stopped() {
        return state == 'T' || state == 't';
    }

    /** When this host booted ({@code btime} of {@code /proc/stat}, seconds since the epoch); empty without it. */
    static java.util.Optional<java.time.Instant> bootTime() {
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/stat"),
                java.nio.charset.StandardCharsets.US_ASCII)) {
            return lines.filter(line -> line.startsWith("btime ")).findFirst()
                    .map(line -> java.time.Instant.ofEpochSecond(Long.parseLong(line.substring(6).trim())));
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /** Whether there is a {@code /proc} to read (Linux). */
    static boolean available() {
        return new File(PROC, "self/stat").isFile();
    }

    /** The stat of one process, or null when it is gone or unreadable. */
    static ProcStat of(long pid) {
        return read(pid, new byte[READ]);
    }

    /**
     * Every process now, in one pass over {@code /proc}; empty without {@code /proc}. A process
     * that exits during the pass is simply not listed.
     */
    static List<ProcStat> all() {
        String[] names = PROC.list();
        if (names == null) {
            return List.of();
        }
        byte[] buffer = new byte[READ];
        List<ProcStat> found = new ArrayList<>(names.length);
        for (String name : names) {
            long pid = pidOf(name);
            if (pid > 0) {
                ProcStat stat = read(pid, buffer);
                if (stat != null) {
                    found.add(stat);
                }
            }
        }
        return found;
    }

    /**
     * The processes whose pids were handed out from {@code first} on, up to the most recent one;
     * null when that cannot be told cheaply (more than {@code limit} pids since, the pid counter
     * wrapped around, or no {@code /proc/loadavg}) — then {@link #all()} is the way.
     *
     * <p>Linux hands out pids in increasing order until it wraps, and {@code /proc/loadavg} ends
     * with the last one handed out (in this pid namespace). Everything a job forked after its root
     * started therefore has a pid in that range, and reading those few pids — most of them long
     * gone, which costs one failed open — replaces a pass over every process on the host. A pid
     * in the range may name a thread; callers that find a match check {@link #isProcess(long)}.
     */
    static List<ProcStat> since(long first, int limit) {
        long last = lastPid();
        if (last < first || last - first > limit) {
            return null;
        }
        byte[] buffer = new byte[READ];
        List<ProcStat> found = new ArrayList<>();
        for (long pid = first; pid <= last; pid++) {
            ProcStat stat = read(pid, buffer);
            if (stat != null) {
                found.add(stat);
            }
        }
        return found;
    }

    /** Whether {@code pid} is a process (a thread group's leader), not another thread of one. */
    static boolean isProcess(long pid) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("Tgid:")) {
                    return Long.parseLong(line.substring(5).trim()) == pid;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    /**
     * The process's name ({@code /proc/<pid>/comm}, at most 15 bytes), or {@code ?} when it cannot be read; every
     * byte but printable ASCII written as {@code \xNN}. A job chooses its processes' names (any bytes but NUL):
     * {@code z<newline>WARN FORGED} forged a line in the server's log through the outcome message (escape27 F4),
     * and a name that was no UTF-8 read as {@code ?}. Escaped here, not with {@code LogSafe} (webhook-core): the
     * watchdog's JVM ({@link NodeWatchdog}) has only this module's jar.
     */
    static String name(long pid) {
        byte[] comm;
        try {
            comm = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + pid + "/comm"));
        } catch (IOException | RuntimeException e) {
            return "?";
        }
        int length = comm.length > 0 && comm[comm.length - 1] == '\n' ? comm.length - 1 : comm.length;
        StringBuilder name = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int b = comm[i] & 0xff;
            if (b >= 0x20 && b < 0x7f) {
                name.append((char) b);
            } else {
                name.append(String.format("\\x%02x", b));
            }
        }
        return name.length() == 0 ? "?" : name.toString();
    }

    /**
     * When the process started, in clock ticks since boot (field 22 of {@code /proc/<pid>/stat}),
     * or -1 when it is gone or unreadable. With the pid and the boot id it names one process for
     * good: a pid used again later has a later start time.
     */
    static long startTime(long pid) {
        ProcessIdentity identity = identity(pid);
        return identity == null ? -1 : identity.startTicks();
    }

    /**
     * The process's pid, session and start time from one read of {@code /proc/<pid>/stat}; null
     * when it is gone or unreadable. A job's start reads it once (docs/BENCHMARKS.md, "Fourth pass:
     * the job side").
     */
    static ProcessIdentity identity(long pid) {
        byte[] buffer = new byte[FULL_READ];
        int length = readPrefix("/proc/" + pid + "/stat", buffer);
        if (length < 0) {
            return null;
        }
        // The ')' that ends comm is looked for once, for both the session and the start time.
        int close = closeOfComm(buffer, length);
        ProcStat stat = parse(pid, buffer, length, close);
        long start = stat == null ? -1 : field(buffer, length, close, 22);
        return start < 0 ? null : new ProcessIdentity(pid, stat.session(), start);
    }

    /**
     * Field {@code number} (from 1, counted as {@code proc(5)} does; 3 or later) of a stat line, as
     * a non-negative number; -1 when the line has no such number.
     */
    static long field(byte[] line, int length, int number) {
        return field(line, length, closeOfComm(line, length), number);
    }

    /** As {@link #field(byte[], int, int)}, with the index of comm's closing ')' already found (-1: none). */
    private static long field(byte[] line, int length, int close, int number) {
        if (close < 0) {
            return -1;
        }
        // Field 3 begins two bytes after the ')' of comm; each further one after a space.
        int at = close + 2;
        for (int field = 3; field < number; field++) {
            while (at < length && line[at] != ' ') {
                at++;
            }
            at++;
        }
        long value = 0;
        int start = at;
        while (at < length && line[at] >= '0' && line[at] <= '9') {
            value = value * 10 + (line[at] - '0');
            at++;
        }
        return at == start || at >= length || line[at] != ' ' ? -1 : value;
    }

    /** The pid counter as {@link #pidWraps} last saw it; guarded by ProcStat.class. */
    private static long counterSeen = -1;
    /** How often {@link #pidWraps} saw the counter lower than before; guarded by ProcStat.class. */
    private static long counterWraps;

    /**
     * How many times this JVM saw the pid counter wrap around: each call reads {@link #lastPid()}, and a value lower
     * than the one the call before it read counts one wrap. Linux hands out pids in increasing order up to
     * {@code /proc/sys/kernel/pid_max} (32768 on many hosts, where a busy host goes round in minutes) and then from
     * the bottom again; a process of an attempt born after a wrap has a lower pid than the attempt's program. A wrap
     * is seen when a call falls between it and the counter's climb back above the value seen before, so it is asked
     * on every look for an attempt's processes and on each check of a running attempt's cancel flag
     * ({@code runner.cancel-check}, 2 s): a full round of pids within one such interval goes unseen.
     *
     * @return the wraps seen so far; compare two results
     */
    static synchronized long pidWraps() {
        long now = lastPid();
        if (now >= 0) {
            if (counterSeen >= 0 && now < counterSeen) {
                counterWraps++;
            }
            counterSeen = now;
        }
        return counterWraps;
    }

    /** The last pid handed out, from {@code /proc/loadavg} ("0.20 0.18 0.12 1/80 11206"); -1 if unknown. */
    static long lastPid() {
        byte[] buffer = new byte[128];
        int end = readPrefix("/proc/loadavg", buffer);
        while (end > 0 && (buffer[end - 1] < '0' || buffer[end - 1] > '9')) {
            end--;
        }
        int start = end;
        while (start > 0 && buffer[start - 1] >= '0' && buffer[start - 1] <= '9') {
            start--;
        }
        if (start == end || start == 0 || buffer[start - 1] != ' ') {
            return -1;
        }
        long pid = 0;
        for (int i = start; i < end; i++) {
            pid = pid * 10 + (buffer[i] - '0');
        }
        return pid;
    }

    private static ProcStat read(long pid, byte[] buffer) {
        int length = readPrefix("/proc/" + pid + "/stat", buffer);
        return length < 0 ? null : parse(pid, buffer, length);
    }

    /** Reads the start of {@code file} into {@code buffer}; the bytes read, or -1 when it cannot be read. */
    private static int readPrefix(String file, byte[] buffer) {
        // Most pids a look tries are gone: a stat(2) says so without the exception a failed open
        // builds on Java 17 (a third of the look's cost: docs/BENCHMARKS.md, "Fourth pass").
        if (!new File(file).exists()) {
            return -1;
        }
        return readInto(file, buffer);
    }

    /**
     * Reads {@code file} from its start into {@code buffer}, up to its end or the buffer's: one {@code open}, the
     * {@code read}s, one {@code close}, and nothing allocated but the stream. {@code /proc} files have no size to
     * ask first ({@code stat} says 0), so a reader that sizes its buffer by it, as {@code readAllBytes} does,
     * allocates 8 KiB and more for a line of 30 bytes (docs/BENCHMARKS.md, "Twenty-sixth pass").
     *
     * @return the bytes read (at most {@code buffer.length}), or -1 when the file cannot be opened or read
     */
    static int readInto(String file, byte[] buffer) {
        int length = 0;
        try (FileInputStream in = new FileInputStream(file)) {
            int read;
            while (length < buffer.length && (read = in.read(buffer, length, buffer.length - length)) > 0) {
                length += read;
            }
        } catch (IOException e) {
            return -1;
        }
        return length;
    }

    /**
     * Reads the whole of {@code file} into a buffer of {@code initial} bytes (at least 1) that doubles while the
     * file fills it: for a {@code /proc} file of a few hundred bytes, one {@code open}, two {@code read}s, one
     * {@code close} and one small buffer ({@code readAllBytes} asks the size and position first and allocates
     * 8 KiB and more, as the file's size reads 0).
     *
     * @return the bytes read, the first {@link Whole#length()} of {@link Whole#bytes()}; null when the file cannot
     *         be opened or read
     * @throws OutOfMemoryError as {@code readAllBytes}, for a file of more than 2 GiB
     */
    static Whole readWhole(String file, int initial) {
        byte[] buffer = new byte[Math.max(1, initial)];
        int length = 0;
        try (FileInputStream in = new FileInputStream(file)) {
            int read;
            while ((read = in.read(buffer, length, buffer.length - length)) > 0) {
                length += read;
                if (length == buffer.length) {
                    if (buffer.length == Integer.MAX_VALUE - 8) {
                        throw new OutOfMemoryError("more than 2 GiB in " + file);
                    }
                    buffer = java.util.Arrays.copyOf(buffer,
                            (int) Math.min(Integer.MAX_VALUE - 8, 2L * buffer.length));
                }
            }
        } catch (IOException e) {
            return null;
        }
        return new Whole(buffer, length);
    }

    /** A whole file's bytes: the first {@code length} bytes of {@code bytes}. */
    record Whole(byte[] bytes, int length) {
    }

    /**
     * Parses "pid (comm) state ppid pgrp session ..."; null if the bytes are not such a line. comm
     * may hold spaces and parentheses, so the fields start after the last ')' of what was read (the
     * fields before session are numbers and a letter, so that ')' is comm's).
     */
    static ProcStat parse(long pid, byte[] line, int length) {
        return parse(pid, line, length, closeOfComm(line, length));
    }

    /**
     * The index of the last ')' in the first {@code length} bytes of a stat line (the end of comm,
     * which may itself hold parentheses), or -1 when there is none.
     */
    private static int closeOfComm(byte[] line, int length) {
        for (int i = length - 1; i >= 0; i--) {
            if (line[i] == ')') {
                return i;
            }
        }
        return -1;
    }

    /** As {@link #parse(long, byte[], int)}, with the index of comm's closing ')' already found (-1: none). */
    private static ProcStat parse(long pid, byte[] line, int length, int close) {
        // ") S ppid pgrp session "
        int at = close + 2;
        if (close < 0 || at + 1 >= length || line[at + 1] != ' ') {
            return null;
        }
        char state = (char) line[at];
        long[] numbers = new long[3];
        at += 2;
        for (int field = 0; field < numbers.length; field++) {
            long value = 0;
            int start = at;
            boolean negative = at < length && line[at] == '-';
            if (negative) {
                at++;
            }
            while (at < length && line[at] >= '0' && line[at] <= '9') {
                value = value * 10 + (line[at] - '0');
                at++;
            }
            if (at == start || at >= length || line[at] != ' ') {
                return null;
            }
            numbers[field] = negative ? -value : value;
            at++;
        }
        return new ProcStat(pid, state, numbers[0], numbers[2]);
    }

    /** The pid a {@code /proc} entry names, or -1 for the other entries ({@code self}, {@code sys} …). */
    private static long pidOf(String name) {
        if (name.isEmpty() || name.length() > 18) {
            return -1;
        }
        long pid = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            pid = pid * 10 + (c - '0');
        }
        return pid;
    }
}
