package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * orphans30 (the WAR): without {@code -Dbuildhook.subreaper=on}, which only {@code bin/buildhook} passes, a launcher
 * leaves the JVM as it was: no {@code prctl(PR_SET_CHILD_SUBREAPER)} (the kernel says so:
 * {@code PR_GET_CHILD_SUBREAPER}), no periodic reap on its timer, and it says it does not reap orphans; with it,
 * all three are on.
 */
@EnabledOnOs(OS.LINUX)
class SubreaperOffByDefaultTest {

    private static final int PR_GET_CHILD_SUBREAPER = 37;

    @TempDir
    Path dir;
    Fixtures fixtures;

    @BeforeEach
    void fresh() {
        Orphans.reset();
        System.clearProperty(Orphans.PROPERTY);
        fixtures = new Fixtures(dir);
    }

    @AfterEach
    void off() {
        fixtures.close();
        Orphans.reset();
        System.clearProperty(Orphans.PROPERTY);
    }

    @Test
    void withoutThePropertyALauncherTurnsNothingOnAndQueuesNoReap() {
        try (CommonsExecLauncher launcher = fixtures.launcher(fixtures.config())) {
            assertThat(launcher.reapsOrphans()).isFalse();
            assertThat(Orphans.active()).isFalse();
            assertThat(childSubreaper()).as("PR_GET_CHILD_SUBREAPER of this JVM").isZero();
            assertThat(((ScheduledThreadPoolExecutor) fixtures.scheduler).getQueue()).as("tasks on the timer").isEmpty();
        }
    }

    @Test
    void withThePropertyOnALauncherIsTheSubreaperAndReapsOnItsTimer() {
        System.setProperty(Orphans.PROPERTY, "on");
        try (CommonsExecLauncher launcher = fixtures.launcher(fixtures.config())) {
            assertThat(launcher.reapsOrphans()).isTrue();
            assertThat(childSubreaper()).as("PR_GET_CHILD_SUBREAPER of this JVM").isEqualTo(1);
            assertThat(((ScheduledThreadPoolExecutor) fixtures.scheduler).getQueue()).as("tasks on the timer")
                    .hasSize(1);
        }
    }

    /** {@code prctl(PR_GET_CHILD_SUBREAPER, &flag)}: 1 when this JVM is a child subreaper, else 0. */
    private static int childSubreaper() {
        return NativeSpawn.bound(() -> {
            Memory flag = new Memory(4);
            flag.setInt(0, -1);
            LibC.prctl(PR_GET_CHILD_SUBREAPER, Pointer.nativeValue(flag), 0, 0, 0);
            return flag.getInt(0);
        });
    }
}
