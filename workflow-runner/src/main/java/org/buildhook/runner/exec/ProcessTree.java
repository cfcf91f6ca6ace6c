package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The processes one job started, and how to end them all.
 *
 * <p>Members are the root, its descendants, and (on Linux) every process in a session that the
 * job started: when the launcher runs the command through {@code setsid}, a child that double
 * forks or is re-parented to init still carries the job's session id and is found through
 * {@code /proc}. The snapshot is always taken before any signal, since a dead parent's children
 * are no longer its descendants.
 *
 * <p>A zombie counts as gone: it has exited and only waits for its parent (or init) to reap it.
 * {@link ProcessHandle#isAlive()} reports zombies as alive, and under an init that never reaps
 * (some containers) they stay, so liveness is read from {@code /proc/<pid>/stat} when it exists.
 */
final class ProcessTree {

    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration AFTER_KILL = Duration.ofSeconds(10);
    private static final long OWN_SESSION = statOf(ProcessHandle.current().pid()).session();

    private final ProcessHandle root;
    private final Set<Long> sessions = new HashSet<>();

    /**
     * @param root       the process the launcher started
     * @param ownSession whether root was started through setsid: its pid is then the id of the
     *                   job's session, known before setsid has even run (reading it from /proc
     *                   now could still show the server's session)
     */
    ProcessTree(ProcessHandle root, boolean ownSession) {
        this.root = root;
        if (ownSession) {
            sessions.add(root.pid());
        }
        rememberSessionsOf(List.of(root));
    }

    /** How a termination went. */
    record Termination(int signalled, boolean killed) {
    }

    /** The live members now: the root, its descendants, and the members of the job's sessions. */
    synchronized Set<ProcessHandle> members() {
        Set<ProcessHandle> found = new LinkedHashSet<>();
        found.add(root);
        root.descendants().forEach(found::add);
        rememberSessionsOf(found);
        if (!sessions.isEmpty()) {
            ProcessHandle.allProcesses()
                    .filter(p -> sessions.contains(statOf(p.pid()).session()))
                    .forEach(found::add);
        }
        found.removeIf(p -> isGone(p.pid()));
        return found;
    }

    /**
     * SIGTERM to every member, then, after the grace period or as soon as they are all gone, a
     * fresh look for members (whatever forked meanwhile) and SIGKILL to those; completes once
     * all are gone, or gives up ten seconds after the SIGKILL (a process stuck in the kernel).
     */
    CompletableFuture<Termination> terminate(Duration grace, ScheduledExecutorService scheduler) {
        Set<ProcessHandle> first = members();
        first.forEach(ProcessHandle::destroy);
        return whenGone(first, grace, scheduler).thenCompose(ignored -> {
            Set<ProcessHandle> left = members();
            if (left.isEmpty()) {
                return CompletableFuture.completedFuture(new Termination(first.size(), false));
            }
            left.forEach(ProcessHandle::destroyForcibly);
            return whenGone(left, AFTER_KILL, scheduler).thenApply(gone -> new Termination(first.size(), true));
        });
    }

    /**
     * Completes with true once all the given processes are gone, or with false when the time is
     * up. Polls the given pids only: scanning every process of the machine is kept for the
     * moments above.
     */
    private static CompletableFuture<Boolean> whenGone(Set<ProcessHandle> processes, Duration within,
            ScheduledExecutorService scheduler) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        long deadline = System.nanoTime() + within.toNanos();
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            try {
                if (processes.stream().allMatch(p -> isGone(p.pid()))) {
                    result.complete(true);
                } else if (System.nanoTime() - deadline >= 0) {
                    result.complete(false);
                } else {
                    scheduler.schedule(poll[0], POLL.toMillis(), TimeUnit.MILLISECONDS);
                }
            } catch (RuntimeException e) {
                // Typically the scheduler shut down: stop waiting rather than hang the attempt.
                result.complete(false);
            }
        };
        poll[0].run();
        return result;
    }

    private void rememberSessionsOf(Iterable<ProcessHandle> processes) {
        for (ProcessHandle p : processes) {
            long session = statOf(p.pid()).session();
            // Never the server's own session: without setsid the job shares it with the JVM.
            if (session > 0 && session != OWN_SESSION) {
                sessions.add(session);
            }
        }
    }

    /** Whether the process has exited (absent, or a zombie waiting to be reaped). */
    static boolean isGone(long pid) {
        Stat stat = statOf(pid);
        if (stat.known()) {
            return stat.state() == 'Z' || stat.state() == 'X';
        }
        return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }

    /** The pids of the processes in a session (Linux), for diagnostics and tests. */
    static Set<Long> sessionMembers(long session) {
        return ProcessHandle.allProcesses().map(ProcessHandle::pid)
                .filter(pid -> statOf(pid).session() == session && !isGone(pid))
                .collect(Collectors.toSet());
    }

    /** The fields of {@code /proc/<pid>/stat} that matter here; unknown where there is no /proc. */
    record Stat(boolean known, char state, long session) {
        static final Stat UNKNOWN = new Stat(false, '?', -1);
    }

    static Stat statOf(long pid) {
        Path file = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
            // "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.
            String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
            return new Stat(true, fields[0].charAt(0), Long.parseLong(fields[3]));
        } catch (IOException | RuntimeException e) {
            if (Files.isDirectory(Path.of("/proc/self"))) {
                // /proc works, so the process is simply gone.
                return new Stat(true, 'X', -1);
            }
            return Stat.UNKNOWN;
        }
    }
}
