package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * This test JVM as a child subreaper ({@link Orphans}) for the tests of one class: turned on before them (the test
 * fails at once when it cannot be: prctl refused, not Linux), off again after them, and the orphans a test
 * {@linkplain #leftBehind named} ended and reaped after it, so no process nor zombie outlives the test. Also the
 * attempts and orphans those tests make as the launcher would ({@link #attempt}, {@link #orphan}): the processes
 * {@linkplain #started started} are ended and the attempts' ends recorded ({@link Orphans#ended}) after each test.
 * Use as {@code @RegisterExtension static final SubreaperOn SUBREAPER = new SubreaperOn();}.
 */
final class SubreaperOn implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    private static final long SELF = ProcessHandle.current().pid();

    private final List<Long> left = new CopyOnWriteArrayList<>();
    private final List<Process> started = new CopyOnWriteArrayList<>();
    private final List<Object> owners = new CopyOnWriteArrayList<>();

    @Override
    public void beforeAll(ExtensionContext context) {
        Orphans.reset();
        System.setProperty(Orphans.PROPERTY, "on");
        Orphans.decide();
        assertThat(Orphans.active()).as("prctl(PR_SET_CHILD_SUBREAPER) on this Linux").isTrue();
    }

    /**
     * Has {@code pid} ended (SIGKILL) and reaped after the running test, whatever the test did with it.
     *
     * @return {@code pid}
     */
    long leftBehind(long pid) {
        left.add(pid);
        return pid;
    }

    /**
     * Has {@code process} ended (SIGKILL) after the running test.
     *
     * @return {@code process}
     */
    Process started(Process process) {
        started.add(process);
        return process;
    }

    /** An attempt as {@link Orphans} sees it: its name ({@code toString}) is its job's id. */
    static Object owner(String job) {
        return new Object() {
            @Override
            public String toString() {
                return job;
            }
        };
    }

    /**
     * An attempt's program: {@code sleep 600} in a session of its own, started as the launcher starts one; its end
     * is recorded after the test if the test did not.
     *
     * @return the attempt's process tree, as the launcher makes it
     */
    ProcessTree attempt(Object owner) throws IOException {
        owners.add(owner);
        Process p = started(Orphans.spawn(owner, () -> new ProcessBuilder("setsid", "sleep", "600").start()));
        // setsid execs sleep (the JVM's child is no group leader): the pid is the session's.
        await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.name(p.pid()).equals("sleep"));
        return new ProcessTree(p.toHandle(), true, null, Set.of(), owner);
    }

    /**
     * A {@code sleep 600} re-parented to this JVM, its maker (started as the watchdog is, no attempt's) gone: an
     * orphan whose job cannot be told. Ended after the test ({@link #leftBehind}).
     *
     * @return its pid, once it is a child of this JVM
     */
    long orphan() throws IOException, InterruptedException {
        return orphan("sleep 600");
    }

    /**
     * As {@link #orphan()}, with the shell command {@code command} run in the background instead of
     * {@code sleep 600}, its descriptors closed.
     *
     * @return its pid, once it is a child of this JVM
     */
    long orphan(String command) throws IOException, InterruptedException {
        Process maker = started(Orphans.spawn(null, () -> new ProcessBuilder("/bin/sh", "-c",
                command + " </dev/null >/dev/null 2>&1 & echo $!").start()));
        long pid;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(maker.getInputStream(),
                StandardCharsets.US_ASCII))) {
            pid = leftBehind(Long.parseLong(out.readLine().trim()));
        }
        assertThat(maker.waitFor(1, TimeUnit.MINUTES)).isTrue();
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            ProcStat stat = ProcStat.of(pid);
            return stat != null && stat.parent() == SELF;
        });
        return pid;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        started.forEach(Process::destroyForcibly);
        owners.forEach(Orphans::ended);
        started.clear();
        owners.clear();
        left.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        // Those re-parented to this JVM are its zombies until reaped; others are reaped by their parent or init.
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            Orphans.reapAll();
            return left.stream().allMatch(pid -> {
                ProcStat stat = ProcStat.of(pid);
                return stat == null || stat.gone() && stat.parent() != SELF;
            });
        });
        left.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Orphans.reset();
        System.clearProperty(Orphans.PROPERTY);
    }
}
