package org.buildhook.runner.exec;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The pipes of one attempt (its stdin pipe, and the one its stdout and stderr go into), as Linux names them in
 * {@code /proc/<pid>/fd}: {@code pipe:[<inode>]} (proc(5), "/proc/pid/fd/"). Both ends of a pipe carry the same
 * name, and no other pipe has it while this one exists.
 *
 * <p>A process that holds one of them got it from the attempt, whatever it did since: left the job's session,
 * cleared its environment. That is how {@link ProcessTree} finds a process that escaped both the session and the
 * {@link AttemptMarker}, yet holds the job's output open (escape27 F1). What it cannot find: a process that
 * closed every descriptor of the job as well; one whose {@code /proc/<pid>/fd} this server may not read (another
 * user's, when the server is not root).
 */
final class JobPipes {

    private static final String PREFIX = "pipe:[";

    /**
     * What {@code /proc/<pid>/exe} names for a child of this JVM that is still being spawned: this JVM's own
     * program (between the fork, or {@code posix_spawn}'s clone, and the exec), or the JDK's {@code jspawnhelper}
     * (ProcessBuilder's launcher, which holds the JVM's descriptors until it closes them and execs the command).
     */
    private static final Set<Path> SPAWNING = spawning();

    private static Set<Path> spawning() {
        Set<Path> programs = new LinkedHashSet<>();
        exe("self").ifPresent(programs::add);
        Path helper = Path.of(System.getProperty("java.home"), "lib", "jspawnhelper");
        try {
            programs.add(helper.toRealPath()); // as /proc/<pid>/exe names it: links resolved
        } catch (IOException | RuntimeException e) {
            programs.add(helper);
        }
        return Set.copyOf(programs);
    }

    private static java.util.Optional<Path> exe(String pid) {
        try {
            return java.util.Optional.of(Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")));
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    private JobPipes() {
    }

    /**
     * The pipe {@code /proc/<pid>/fd/<fd>} names ({@code pipe:[<inode>]}), or null: not a pipe, gone, unreadable.
     */
    static String pipeOf(long pid, int fd) {
        return pipe("/proc/" + pid + "/fd/" + fd);
    }

    /** As {@link #pipeOf}, for a descriptor of this JVM. */
    static String ownPipe(int fd) {
        return pipe("/proc/self/fd/" + fd);
    }

    private static String pipe(String link) {
        try {
            String target = Files.readSymbolicLink(Path.of(link)).toString();
            return target.startsWith(PREFIX) ? target : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Whether process {@code pid} holds one of {@code pipes} (either end); false when it is gone or its descriptors
     * cannot be read. Costs one directory listing and one {@code readlink} per open descriptor of the process.
     */
    static boolean heldBy(long pid, Set<String> pipes) {
        if (pipes.isEmpty()) {
            return false;
        }
        String folder = "/proc/" + pid + "/fd/";
        String[] fds = new File(folder).list();
        if (fds == null) {
            return false;
        }
        for (String fd : fds) {
            String target = pipe(folder + fd);
            if (target != null && pipes.contains(target)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code process} is a child of this JVM (pid {@code self}) that is still being spawned: until it execs
     * its command it holds a copy of every descriptor of the JVM, the pipes of the attempts running then among
     * them, so holding one says nothing about whose it is (taking it for theirs killed another job's command:
     * PostgresEngineTest's jobs "exited with 143"). Decided by the program it runs ({@link #SPAWNING}), which a
     * process cannot forge, unlike its name. Asked before its descriptors are read: one that execs in between
     * reads as not spawning, and then its pipes, opened close-on-exec or closed by {@code jspawnhelper}, are gone.
     * A process reparented to this JVM (when it is a container's pid 1) that runs the JVM's own program is taken
     * for one being spawned as well: a {@code java} that escaped a job, cleared its environment and holds its
     * pipe is not found by the pipe. Not so while this JVM is a child subreaper ({@link Orphans#active()}): then
     * every start goes through {@link Orphans#spawn}, and only a child that started while one was under way counts
     * as being spawned.
     */
    static boolean beingSpawnedBy(long self, ProcStat process) {
        if (process.parent() != self) {
            return false;
        }
        if (Orphans.active()) {
            // Every start of this JVM goes through Orphans.spawn then: what is being started is known.
            return Orphans.mayBeBeingSpawned(process.pid());
        }
        return exe(Long.toString(process.pid())).map(SPAWNING::contains).orElse(false);
    }

    /**
     * {@code "<pid> <name>"} of every live process of the host but this JVM that holds one of {@code pipes}: a
     * pass over every process's descriptors, for the rare moment the output of an attempt stayed open after its
     * end, to say by what.
     */
    static List<String> holders(Set<String> pipes) {
        List<String> named = new ArrayList<>();
        if (pipes.isEmpty() || !ProcStat.available()) {
            return named;
        }
        long self = ProcessHandle.current().pid();
        Set<Long> found = new LinkedHashSet<>();
        for (ProcStat process : ProcStat.all()) {
            if (process.pid() != self && !process.gone() && !beingSpawnedBy(self, process)
                    && heldBy(process.pid(), pipes)) {
                found.add(process.pid());
            }
        }
        for (long pid : found) {
            named.add(pid + " " + ProcStat.name(pid));
        }
        return named;
    }
}
