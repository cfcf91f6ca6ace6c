package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout44 F10: after a {@code kill -9} of its node, a leftover bash script with a {@code trap … TERM}, waiting on a
 * {@code sleep} child, died at the sweep's SIGTERM without running its trap, and the job ran again at once. Its
 * output went into pipes the dead JVM read: the SIGTERM ended its {@code sleep}, bash reported that on its standard
 * error ({@code … Terminated sleep 1}), and that write into a pipe without a reader killed it (SIGPIPE, exit 141)
 * before the trap. The sweep now holds a read end on such pipes until its leftovers are gone. Here the leftover is a
 * real bash in a session of its own whose output pipes' read ends this JVM has closed, as its node's death leaves
 * them; its signals are real.
 */
class LeftoverPipesTest {

    @TempDir
    Path dir;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void end() {
        started.forEach(p -> p.descendants().forEach(ProcessHandle::destroyForcibly));
        started.forEach(Process::destroyForcibly);
    }

    /** {@code script} run by bash in a session of its own (setsid execs in place: the same pid), with the marker. */
    private Process leftover(AttemptMarker marker, String script) throws Exception {
        Path file = Files.writeString(dir.resolve("leftover-" + started.size() + ".sh"), script);
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "/bin/bash", file.toString());
        builder.environment().put(AttemptMarker.VARIABLE, marker.value());
        Process p = builder.start();
        started.add(p);
        return p;
    }

    @Test
    void aLeftoverWhoseOutputHasNoReaderRunsItsTermTrapBeforeTheKillReturns() throws Exception {
        AttemptMarker marker = AttemptMarker.of("f10-" + UUID.randomUUID(), 1);
        Path out = dir.resolve("trap.txt");
        Path ready = dir.resolve("ready");
        // The trap says something on its standard output too (a write into the dead node's pipe), then exits 3.
        Process bash = leftover(marker, "trap 'echo cleaning up; echo \"got TERM $$\" >> " + out + "; exit 3' TERM\n"
                + ": > " + ready + "\n"
                + "while :; do sleep 1; done\n");
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(ready)
                && bash.descendants().anyMatch(p -> p.info().command().orElse("").endsWith("sleep")));
        // Its node is gone: nothing reads its output any more.
        bash.getInputStream().close();
        bash.getErrorStream().close();

        List<String> killed = Leftovers.kill(marker, ProcessIdentity.of(bash.pid()), 60_000);

        assertThat(killed).contains(bash.pid() + " bash");
        assertThat(ProcessTree.isGone(bash.pid())).as("gone when the kill returns").isTrue();
        assertThat(bash.waitFor()).as("exit 3 from its trap: not 141 (SIGPIPE) nor 137 (SIGKILL)").isEqualTo(3);
        assertThat(Files.readString(out)).isEqualTo("got TERM " + bash.pid() + "\n");
    }

    @Test
    void aPipeThatAProcessStillReadsIsNotTaken() throws Exception {
        AttemptMarker marker = AttemptMarker.of("f10-" + UUID.randomUUID(), 1);
        Path ready = dir.resolve("ready");
        // A pipe between two of the leftovers, and the output pipes, whose reader (this JVM) is alive: a paused node.
        Process bash = leftover(marker, ": > " + ready + "; sleep 600 | sleep 600\n");
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(ready) && bash.descendants().count() == 2);
        Set<Long> pids = Leftovers.find(marker, ProcessIdentity.of(bash.pid()));
        assertThat(pids).hasSize(3);

        try (LeftoverPipes pipes = LeftoverPipes.open(pids)) {
            assertThat(pipes.held()).as("every pipe has a reader").isZero();
        }
        bash.getInputStream().close();
        bash.getErrorStream().close();
        try (LeftoverPipes pipes = LeftoverPipes.open(pids)) {
            assertThat(pipes.held()).as("its standard output and error, not the pipe between the two sleeps")
                    .isEqualTo(2);
        }
    }
}
