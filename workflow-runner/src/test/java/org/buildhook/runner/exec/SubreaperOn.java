package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * This test JVM as a child subreaper ({@link Orphans}) for the tests of one class: turned on before them (the test
 * fails at once when it cannot be: prctl refused, not Linux), off again after them, and the orphans a test
 * {@linkplain #leftBehind named} ended and reaped after it, so no process nor zombie outlives the test.
 * Use as {@code @RegisterExtension static final SubreaperOn SUBREAPER = new SubreaperOn();}.
 */
final class SubreaperOn implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {

    private final List<Long> left = new CopyOnWriteArrayList<>();

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

    @Override
    public void afterEach(ExtensionContext context) {
        left.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        // Those re-parented to this JVM are its zombies until reaped; others are reaped by their parent or init.
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            Orphans.reapAll();
            return left.stream().allMatch(pid -> {
                ProcStat stat = ProcStat.of(pid);
                return stat == null || stat.gone() && stat.parent() != ProcessHandle.current().pid();
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
