package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Timeout, cancel and shutdown end the whole process tree, and nothing is left behind. */
class ProcessTreeKillTest extends LauncherTest {

    Path pids;

    @BeforeEach
    void setUp() {
        pids = dir.resolve("pids");
    }

    /** A tree of 3: the script and two background children, all writing their pids. */
    private Path treeOfThree() throws Exception {
        return fixtures.script("tree.sh", "sleep 1000 & echo $! >> '" + pids + "'\n"
                + "sleep 1000 & echo $! >> '" + pids + "'\n"
                + "echo $$ >> '" + pids + "'\n"
                + "wait");
    }

    private static JobRequest request(String name, Path script, Duration timeout) {
        return new JobRequest(Fixtures.jobId(name), 1, List.of(script.toString()), Map.of(), null, null, timeout);
    }

    private void awaitAllGone(List<Long> processes) {
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(processes).allMatch(Fixtures::isGone, "gone"));
    }

    @Test
    void killsTheWholeProcessTreeOnTimeout() throws Exception {
        RunningJob job = launcher.start(request("timeout", treeOfThree(), Duration.ofSeconds(5)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 3);
        List<Long> tree = Fixtures.pids(pids);
        assertThat(tree).noneMatch(Fixtures::isGone);

        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.TIMED_OUT);
        assertThat(outcome.exitCode()).isNull();
        assertThat(outcome.message()).startsWith("timed out after 5s; process tree terminated");
        awaitAllGone(tree);
    }

    /**
     * Another test JVM on this machine (the other surefire execution, another checkout) runs these
     * tests at the same time. A process of its job "cancel", started after ours in a session of its
     * own, carries that job's marker: with job ids as the names are written ({@code cancel/1} on both
     * sides), cancelling ours found it by the marker and killed it.
     */
    @Test
    void cancellingAJobLeavesAloneTheProcessesOfAJobOfTheSameNameInAnotherTestRun() throws Exception {
        RunningJob job = launcher.start(request("cancel", treeOfThree(), Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 3);
        List<Long> tree = Fixtures.pids(pids);
        ProcessBuilder otherRun = new ProcessBuilder(LauncherConfig.SETSID, "sleep", "1000")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        otherRun.environment().put(AttemptMarker.VARIABLE, AttemptMarker.of("cancel", 1).value());
        Process other = otherRun.start();
        try {
            job.cancel();

            assertThat(job.outcome().get(60, TimeUnit.SECONDS).result()).isEqualTo(JobOutcome.Result.CANCELLED);
            awaitAllGone(tree);
            assertThat(other.isAlive()).as("the other run's process").isTrue();
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void killsTheWholeProcessTreeOnCancel() throws Exception {
        RunningJob job = launcher.start(request("cancel", treeOfThree(), Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 3);
        List<Long> tree = Fixtures.pids(pids);

        job.cancel();
        job.cancel();
        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.CANCELLED);
        assertThat(outcome.message()).startsWith("cancelled; process tree terminated");
        awaitAllGone(tree);
        assertThat(launcher.runningCount()).isZero();
    }

    @Test
    void sigkillsAProcessThatIgnoresSigtermAfterTheGracePeriod() throws Exception {
        Path script = fixtures.script("stubborn.sh", "trap '' TERM\necho $$ >> '" + pids + "'\n"
                + "while [ -d '" + pids.getParent() + "' ]; do sleep 1; done");
        RunningJob job = launcher.start(request("stubborn", script, Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 1);

        job.cancel();
        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.CANCELLED);
        assertThat(outcome.message()).contains("SIGKILL after the 1s grace period");
        awaitAllGone(Fixtures.pids(pids));
    }

    /**
     * tryout15 F6: a process the job forked between the first look and the SIGTERM (a script's next
     * command) was found by the second look and got SIGKILL at once, without SIGTERM or any grace, and
     * the attempt was said "terminated (SIGKILL after the 10s grace period)" half a second after its
     * timeout. It gets SIGTERM and the rest of the grace period, like the processes seen first.
     */
    @Test
    void aProcessForkedWhileTheTreeIsBeingStoppedGetsSigtermNotAnImmediateSigkill() throws Exception {
        Path go = dir.resolve("go");
        Path child = dir.resolve("child-pid");
        // The root forks the child only once 'go' exists, that is after the first look: the child
        // cannot be among the processes signalled first.
        Process root = new ProcessBuilder("setsid", "/bin/sh", "-c", "while [ ! -f '" + go + "' ]; do sleep 0.05;"
                + " done; /bin/sh -c 'echo $$ > " + child
                + "; while :; do sleep 0.05; done' & while :; do sleep 0.05; done").start();
        java.util.concurrent.ScheduledExecutorService scheduler =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            ProcessTree tree = new ProcessTree(root.toHandle(), true, null);

            ProcessTree.Termination ended = tree.terminate(Duration.ofSeconds(30), scheduler, rootSignalled -> {
                try {
                    java.nio.file.Files.writeString(go, "");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> java.nio.file.Files.exists(child)
                        && !java.nio.file.Files.readString(child).isBlank());
            }).get(60, TimeUnit.SECONDS);

            assertThat(ended.killed()).as("no SIGKILL was needed").isFalse();
            assertThat(Fixtures.isGone(Long.parseLong(java.nio.file.Files.readString(child).strip()))).isTrue();
        } finally {
            scheduler.shutdownNow();
            root.destroyForcibly();
        }
    }

    @Test
    void killsAProcessThatLeftTheTreeThroughADoubleFork() throws Exception {
        // The subshell exits at once, so its sleep is re-parented: no longer a descendant.
        Path script = fixtures.script("daemon.sh", "(sleep 1000 > /dev/null 2>&1 & echo $! >> '" + pids + "')\n"
                + "echo $$ >> '" + pids + "'\nsleep 1000");
        RunningJob job = launcher.start(request("daemon", script, Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 2);
        List<Long> processes = Fixtures.pids(pids);
        assertThat(ProcessHandle.of(processes.get(1)).orElseThrow().descendants().map(ProcessHandle::pid))
                .doesNotContain(processes.get(0));

        job.cancel();

        assertThat(job.outcome().get(60, TimeUnit.SECONDS).result()).isEqualTo(JobOutcome.Result.CANCELLED);
        awaitAllGone(processes);
    }

    @Test
    void endsWhatAJobLeftRunningWhenItExitedByItself() throws Exception {
        // The leftover keeps stdout open: without the cleanup the attempt would never end.
        Path script = fixtures.script("leaves.sh", "sleep 1000 & echo $! >> '" + pids + "'\nexit 3");

        RunningJob job = launcher.start(request("leftover", script, Duration.ofHours(1)));
        JobOutcome outcome = job.outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED);
        assertThat(outcome.exitCode()).isEqualTo(3);
        assertThat(outcome.message()).isEqualTo("exited with 3; 1 leftover process(es) terminated");
        // When the exit was seen, before its leftover was ended (review50b R6: what a pause's words are decided by).
        assertThat(job.exitSeen()).isNotNull().isAfterOrEqualTo(outcome.started()).isBeforeOrEqualTo(outcome.ended());
        awaitAllGone(Fixtures.pids(pids));
    }

    @Test
    void closingTheLauncherKillsEveryRunningTreeAndWaitsForIt() throws Exception {
        RunningJob first = launcher.start(request("first", treeOfThree(), Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 3);
        Path morePids = dir.resolve("more-pids");
        Path second = fixtures.script("second.sh", "echo $$ >> '" + morePids + "'\nsleep 1000");
        RunningJob other = launcher.start(request("second", second, Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(morePids).size() == 1);

        launcher.close();

        assertThat(first.outcome()).isCompleted();
        assertThat(other.outcome()).isCompleted();
        assertThat(first.outcome().get().result()).isEqualTo(JobOutcome.Result.CANCELLED);
        assertThat(first.outcome().get().message()).startsWith("cancelled: the server is shutting down");
        awaitAllGone(Fixtures.pids(pids));
        awaitAllGone(Fixtures.pids(morePids));
    }

    @Test
    void killsTheTreeWithoutANewSessionToo() throws Exception {
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withNewSession(false));
        RunningJob job = launcher.start(request("no-setsid", treeOfThree(), Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 3);

        job.cancel();

        assertThat(job.outcome().get(60, TimeUnit.SECONDS).result()).isEqualTo(JobOutcome.Result.CANCELLED);
        awaitAllGone(Fixtures.pids(pids));
        assertThat(ProcessHandle.current().isAlive()).isTrue();
    }

    @Test
    void endsALeftoverThatLeftTheTreeButStayedInTheSessionWhenTheJobExits() throws Exception {
        // Double fork with the output elsewhere: neither a descendant nor holding the log's pipe,
        // so only the one look through the job's session after the exit finds it.
        Path script = fixtures.script("detach.sh", "(sleep 1000 > /dev/null 2>&1 < /dev/null & echo $! >> '"
                + pids + "')\nexit 0");

        JobOutcome outcome = launcher.start(request("detached", script, Duration.ofHours(1))).outcome()
                .get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(outcome.message()).isEqualTo("exited with 0; 1 leftover process(es) terminated");
        awaitAllGone(Fixtures.pids(pids));
    }

    @Test
    void neverTouchesAProcessInAnotherSession() throws Exception {
        // One bystander in a session of its own, one in the server's session (the test JVM's).
        Process ownSession = new ProcessBuilder(LauncherConfig.SETSID, "sleep", "1000")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Process serverSession = new ProcessBuilder("sleep", "1000").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            Path leaves = fixtures.script("leaves.sh", "sleep 1000 > /dev/null 2>&1 &\nexit 0");
            assertThat(run(request("leaves", leaves, Duration.ofHours(1))).message())
                    .isEqualTo("exited with 0; 1 leftover process(es) terminated");
            RunningJob cancelled = launcher.start(request("cancelled", treeOfThree(), Duration.ofHours(1)));
            await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 3);
            cancelled.cancel();
            assertThat(cancelled.outcome().get(60, TimeUnit.SECONDS).result()).isEqualTo(JobOutcome.Result.CANCELLED);
            // Without setsid the job shares the server's session, which must not be swept.
            launcher.close();
            launcher = fixtures.launcher(fixtures.config().withNewSession(false));
            RunningJob sameSession = launcher.start(request("no-setsid", treeOfThree(), Duration.ofHours(1)));
            await().atMost(Duration.ofSeconds(30)).until(() -> Fixtures.pids(pids).size() == 6);
            sameSession.cancel();
            assertThat(sameSession.outcome().get(60, TimeUnit.SECONDS).result())
                    .isEqualTo(JobOutcome.Result.CANCELLED);
            awaitAllGone(Fixtures.pids(pids));

            assertThat(ownSession.isAlive()).isTrue();
            assertThat(serverSession.isAlive()).isTrue();
        } finally {
            ownSession.destroyForcibly();
            serverSession.destroyForcibly();
        }
    }
}
