package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ProcStatTest {

    private static ProcStat parse(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
        return ProcStat.parse(42, bytes, bytes.length);
    }

    @Test
    void readsStateParentAndSessionAfterACommandNameWithSpacesAndParentheses() {
        ProcStat stat = parse("42 (my (odd) name) ) S 17 42 4242 0 -1 4194560 131 0 0 0 0 0 0 0 20 0 1 0 99\n");

        assertThat(stat).isEqualTo(new ProcStat(42, 'S', 17, 4242));
        assertThat(stat.gone()).isFalse();
    }

    @Test
    void countsAZombieAsGone() {
        assertThat(parse("42 (sh) Z 1 42 42 0 -1 0").gone()).isTrue();
        assertThat(parse("42 (sh) X 1 42 42 0 -1 0").gone()).isTrue();
    }

    @Test
    void readsALineCutAfterTheSessionField() {
        // Only the first bytes of a long line are read: the session must still be whole.
        assertThat(parse("42 (a) R 1 42 123456 ")).isEqualTo(new ProcStat(42, 'R', 1, 123456));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "42 (sh", "42 (sh) S", "42 (sh) S 1 2", "42 (sh) S 1 2 3", "42 (sh) S x 2 3 ",
        "42 (sh) SS 1 2 3 "})
    void rejectsWhatIsNotAStatLine(String line) {
        assertThat(parse(line)).isNull();
    }

    @Test
    void findsThisProcessInOnePassWithTheSessionTheKernelReports() throws Exception {
        assumeTrue(ProcStat.available(), "needs /proc");
        long self = ProcessHandle.current().pid();
        String text = Files.readString(Path.of("/proc/self/stat"));
        long session = Long.parseLong(text.substring(text.lastIndexOf(')') + 2).split(" ")[3]);

        assertThat(ProcStat.all()).filteredOn(p -> p.pid() == self).singleElement()
                .satisfies(p -> assertThat(p.session()).isEqualTo(session))
                .satisfies(p -> assertThat(p.parent()).isEqualTo(ProcessHandle.current().parent().orElseThrow().pid()));
        assertThat(ProcStat.of(self).session()).isEqualTo(session);
    }

    @Test
    void knowsNothingOfAProcessThatDoesNotExist() {
        assumeTrue(ProcStat.available(), "needs /proc");

        assertThat(ProcStat.of(Long.MAX_VALUE)).isNull();
    }

    @Test
    void listsTheProcessesStartedSinceAPidAndOnlyThem() throws Exception {
        long before = ProcStat.lastPid();
        assertThat(before).isPositive();
        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            List<ProcStat> since = ProcStat.since(before + 1, 100_000);
            assertThat(since).isNotNull();
            assertThat(since).extracting(ProcStat::pid).contains(child.pid())
                    .doesNotContain(ProcessHandle.current().pid()).allMatch(pid -> pid > before);
            assertThat(ProcStat.isProcess(child.pid())).isTrue();
        } finally {
            child.destroyForcibly().waitFor();
        }
    }

    @Test
    void declinesARangeTooLongOrAPidNotYetHandedOut() {
        long last = ProcStat.lastPid();
        assertThat(ProcStat.since(1, 10)).as("more pids since than the limit").isNull();
        assertThat(ProcStat.since(last + 1_000_000, 10)).as("after the last pid: the counter wrapped").isNull();
    }

    @Test
    void tellsAThreadFromAProcess() throws Exception {
        java.util.concurrent.CompletableFuture<Long> tid = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                tid.complete(Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self"))
                        .getFileName().toString()));
                done.await();
            } catch (java.io.IOException | InterruptedException | RuntimeException e) {
                tid.completeExceptionally(e);
            }
        });
        t.start();
        try {
            long thread = tid.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(thread).isNotEqualTo(ProcessHandle.current().pid());
            assertThat(ProcStat.of(thread)).as("a thread's stat reads like a process's").isNotNull();
            assertThat(ProcStat.isProcess(thread)).isFalse();
            assertThat(ProcStat.isProcess(ProcessHandle.current().pid())).isTrue();
        } finally {
            done.countDown();
            t.join();
        }
    }

    /**
     * tryout46 F10: a node's list says of a node of this host whose JVM is stopped that it is stopped. A real process,
     * stopped and continued by signals: {@link ProcessIdentity#isStopped()} follows it, and knows nothing of a process
     * that is gone or of a later one with its pid.
     */
    @Test
    void aProcessStoppedBySigstopIsStoppedUntilSigcont() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "600").start();
        try {
            ProcessIdentity identity = ProcessIdentity.of(sleeper.pid());
            assertThat(identity).isNotNull();
            assertThat(identity.isStopped()).isFalse();

            assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(sleeper.pid())).start().waitFor()).isZero();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(1)).until(identity::isStopped);
            assertThat(ProcStat.of(sleeper.pid()).stopped()).isTrue();
            assertThat(new ProcessIdentity(sleeper.pid(), -1, identity.startTicks() + 1).isStopped())
                    .as("another process with the same pid").isFalse();

            assertThat(new ProcessBuilder("kill", "-CONT", Long.toString(sleeper.pid())).start().waitFor()).isZero();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(1)).until(() -> !identity.isStopped());
            assertThat(identity.isAlive()).isTrue();
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
        assertThat(ProcessIdentity.of(sleeper.pid())).isNull();
    }
}
