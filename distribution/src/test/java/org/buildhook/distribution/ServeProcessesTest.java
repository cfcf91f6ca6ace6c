package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ServeProcesses#close} leaves nothing of a test running: a job outlives its server's SIGKILL (it runs in a
 * session of its own, and its node's next start or systemd's cgroup ends it), and tests that killed their server, or
 * failed before they stopped it, left an orphan {@code sleep 600} behind for ten minutes (flake26).
 */
class ServeProcessesTest {

    @TempDir
    Path dir;

    @Test
    void closeEndsTheJobsOfTheServersItStartedAlsoOfOneKilledBefore() throws Exception {
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: long\n    run: {command: [/bin/sh, -c,"
                + " 'echo $$ >> jobs; exec sleep 600']}\n", "");
        Path jobs = dir.resolve("data").resolve("work").resolve("jobs");
        List<ProcessHandle> left;
        try (ServeProcesses processes = new ServeProcesses(dir)) {
            Process killed = processes.serve(config, dir.resolve("killed.out"));
            ServeProcesses.sendSample(ServeProcesses.awaitUrl(killed, dir.resolve("data")), dir);
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(jobs) && !Files.readString(jobs).isBlank());
            killed.destroyForcibly().waitFor(); // kill -9: its job goes on
            left = Files.readAllLines(jobs).stream().map(pid -> ProcessHandle.of(Long.parseLong(pid.trim())))
                    .flatMap(java.util.Optional::stream).toList();
            assertThat(left).as("the killed server's job still runs").isNotEmpty().allMatch(ProcessHandle::isAlive);
        }
        for (ProcessHandle job : left) {
            assertThat(job.isAlive()).as("job %d after close", job.pid()).isFalse();
        }
    }

    /**
     * check26: StoreRefusalWordsTest passed {@code "."}, the module's folder, where surefire's shell that forked this
     * JVM works: close() SIGKILLed that shell and then failed on "destroy of current process not allowed". A folder
     * holding this JVM's own working folder ends nothing, and no folder ever ends this JVM's ancestors.
     */
    @Test
    void aFolderHoldingThisJvmsWorkingFolderEndsNothingNorThisJvmsAncestors() throws Exception {
        List<ProcessHandle> ancestors = new java.util.ArrayList<>();
        for (var p = ProcessHandle.current().parent(); p.isPresent(); p = p.get().parent()) {
            ancestors.add(p.get());
        }
        Process beside = new ProcessBuilder("sleep", "600").directory(Path.of("").toAbsolutePath().toFile()).start();
        try {
            ServeProcesses.killWorkingIn(Path.of("."));
            ServeProcesses.killWorkingIn(Path.of("").toAbsolutePath().getParent());

            assertThat(beside.isAlive()).as("a process working beside this JVM").isTrue();
            assertThat(ancestors).isNotEmpty().allMatch(ProcessHandle::isAlive);
        } finally {
            beside.destroyForcibly().waitFor();
        }
    }
}
