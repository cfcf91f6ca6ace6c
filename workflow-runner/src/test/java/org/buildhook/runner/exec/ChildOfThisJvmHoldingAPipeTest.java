package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * A child of this JVM that has not yet exec'd its command is another attempt's command being spawned, never a
 * process that escaped this attempt by holding its pipe: until its exec it holds a copy of every descriptor of
 * the JVM, the pipes of the attempts running then among them, and taking it for theirs killed it (shared27:
 * PostgresEngineTest's jobs "exited with 143"). Such a child runs the JVM's own program; here a second
 * {@code java} started by this JVM stands for it, as the fork-to-exec window cannot be held open. A process
 * further down that holds the pipe, and a child of this JVM that runs another program, are still found.
 */
@EnabledOnOs(OS.LINUX)
class ChildOfThisJvmHoldingAPipeTest {

    /** The stand-in for a child being spawned: starts {@code sleep} on its own output, then waits. */
    public static final class Spawning {
        public static void main(String[] args) throws Exception {
            new ProcessBuilder("sleep", "600").inheritIO().start();
            System.out.println("started");
            Thread.sleep(600_000);
        }
    }

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void end() {
        for (Process process : started) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Test
    void aChildOfThisJvmRunningItsProgramIsNotFoundByThePipeButItsChildIs() throws Exception {
        Process root = start(new ProcessBuilder("sleep", "600"));
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process spawning = start(new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), Spawning.class.getName()));
        await().atMost(Duration.ofMinutes(2)).until(() -> spawning.children().findAny().isPresent());
        long grandchild = spawning.children().findFirst().orElseThrow().pid();
        String pipe = Files.readSymbolicLink(Path.of("/proc/" + spawning.pid() + "/fd/1")).toString();
        assertThat(pipe).startsWith("pipe:[");
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + grandchild + "/fd/1"))).hasToString(pipe);

        ProcessTree tree = new ProcessTree(root.toHandle(), false, null, Set.of(pipe));
        Set<Long> members = tree.members().stream().map(ProcessHandle::pid).collect(Collectors.toSet());

        assertThat(members).contains(root.pid(), grandchild).doesNotContain(spawning.pid());
        assertThat(JobPipes.holders(Set.of(pipe))).anyMatch(named -> named.startsWith(grandchild + " "))
                .noneMatch(named -> named.startsWith(spawning.pid() + " "));
    }

    @Test
    void aChildOfThisJvmRunningAnotherProgramIsFoundByThePipe() throws Exception {
        Process root = start(new ProcessBuilder("sleep", "600"));
        Process holder = start(new ProcessBuilder("sleep", "600"));
        String pipe = Files.readSymbolicLink(Path.of("/proc/" + holder.pid() + "/fd/1")).toString();

        ProcessTree tree = new ProcessTree(root.toHandle(), false, null, Set.of(pipe));
        Set<Long> members = tree.members().stream().map(ProcessHandle::pid).collect(Collectors.toSet());

        assertThat(members).contains(root.pid(), holder.pid());
        assertThat(JobPipes.holders(Set.of(pipe))).anyMatch(named -> named.startsWith(holder.pid() + " sleep"));
    }

    private Process start(ProcessBuilder builder) throws Exception {
        Process process = builder.redirectErrorStream(true).start();
        started.add(process);
        return process;
    }
}
