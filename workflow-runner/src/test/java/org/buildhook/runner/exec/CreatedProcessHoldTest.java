package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link CreatedProcessHold} on real processes: a session leader's whole group is stopped and let go; nothing else. */
class CreatedProcessHoldTest {

    @Test
    void aSessionLeadersGroupIsStoppedAndLetGoOn() throws Exception {
        // setsid makes the sleep (same pid) lead a session of its own; its child sleep is in its group.
        Process leader = new ProcessBuilder(LauncherConfig.SETSID, "--", "sh", "-c", "sleep 600 & wait").start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> ProcessIdentity.of(leader.pid()) != null
                    && ProcessIdentity.of(leader.pid()).session() == leader.pid()
                    && leader.children().findAny().isPresent());
            long child = leader.children().findAny().orElseThrow().pid();
            long group = CreatedProcessHold.hold(leader);
            assertThat(group).isEqualTo(leader.pid());
            await().atMost(Duration.ofSeconds(30)).until(() -> state(leader.pid()) == 'T' && state(child) == 'T');
            CreatedProcessHold.release(group);
            await().atMost(Duration.ofSeconds(30)).until(() -> state(leader.pid()) != 'T' && state(child) != 'T');
        } finally {
            leader.descendants().forEach(ProcessHandle::destroyForcibly);
            leader.destroyForcibly();
        }
    }

    @Test
    void aProcessInThisJvmsSessionIsNotHeld() throws Exception {
        Process plain = new ProcessBuilder("sleep", "600").start();
        try {
            assertThat(CreatedProcessHold.hold(plain)).as("its group is this JVM's").isZero();
            assertThat(state(plain.pid())).isNotEqualTo('T');
            assertThat(CreatedProcessHold.hold("not a process")).isZero();
            assertThat(state(ProcessHandle.current().pid())).isNotEqualTo('T');
        } finally {
            plain.destroyForcibly();
        }
    }

    /** The state letter of /proc/PID/stat (after the command's closing parenthesis), or '?' when gone. */
    private static char state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException e) {
            return '?';
        }
    }
}
