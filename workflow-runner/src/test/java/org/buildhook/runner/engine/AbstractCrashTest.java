package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a runner in the middle of jobs: the accepted jobs survive, the interrupted ones run
 * again on the next runner, and every job completes exactly once.
 */
abstract class AbstractCrashTest {

    @TempDir
    Path dir;

    abstract StoreConfig config(Path dir);

    @Test
    void afterKillNineEveryAcceptedJobCompletesExactlyOnceOnTheNextRunner() throws Exception {
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        Path events = dir.resolve("events");
        Path marker = dir.resolve("go");
        Path slow = NodeProcess.slowScript(dir, events, marker);
        String url = "url=" + config.url();
        String data = "data=" + dir.resolve("data");

        NodeProcess first = NodeProcess.start(dir, "first", url, data, "threads=2", "slow=6",
                "slowScript=" + slow, "label=job");
        await().atMost(Duration.ofMinutes(5)).until(() -> first.printed("ACCEPTED") && startLines(events).size() >= 2);
        List<Long> orphans = startLines(events).stream().map(l -> Long.parseLong(l.split(" ")[2])).toList();
        first.kill();
        // Its commands outlive it (parent pid 1, a session of their own), until a node starts again.
        assertThat(orphans).noneMatch(AbstractCrashTest::isGone);

        NodeProcess second = NodeProcess.start(dir, "second", url, data, "threads=2");
        // The restarted node kills what the dead one left before it runs anything.
        await().atMost(Duration.ofMinutes(5)).until(() -> second.printed("READY"));
        assertThat(orphans).allMatch(AbstractCrashTest::isGone);
        Files.createFile(marker);
        try (Store store = Store.open(config)) {
            await().atMost(Duration.ofMinutes(5)).until(() -> store.jobs(new JobQuery(JobState.SUCCEEDED, null, null,
                    null, 100)).items().size() == 6);
            second.stop();

            List<Job> jobs = store.jobs(JobQuery.latest(100)).items();
            assertThat(jobs).hasSize(6).extracting(Job::state).containsOnly(JobState.SUCCEEDED);
            Map<String, Long> ends = Files.readAllLines(events).stream().filter(l -> l.startsWith("end "))
                    .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
            assertThat(ends).hasSize(6).allSatisfy((label, count) -> assertThat(count).isEqualTo(1));
            long interrupted = jobs.stream().filter(j -> j.attempts() == 2).count();
            assertThat(interrupted).isGreaterThanOrEqualTo(2);
            for (Job job : jobs) {
                List<JobAttempt> attempts = store.job(job.id()).orElseThrow().attempts();
                assertThat(attempts.get(attempts.size() - 1).outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
                assertThat(attempts.get(attempts.size() - 1).node()).isEqualTo("second");
                assertThat(attempts.subList(0, attempts.size() - 1))
                        .allMatch(a -> a.outcome() == AttemptOutcome.INTERRUPTED)
                        .allSatisfy(a -> assertThat(a.message()).startsWith("its node first was gone before the"
                                + " attempt's end was recorded; node second killed what it left: "));
            }
        } finally {
            first.kill();
            second.kill();
        }
    }

    /**
     * The restarted node proves its predecessor's JVM dead (same host and boot, its pid gone) and,
     * once it has killed what that JVM left, runs the job again at once: the dead-node limit here is
     * 5 s × 1000 missed heartbeats, over an hour, and the re-run is awaited as an event well within
     * it. A copy of the command that starts while another still runs finds the other's lock taken
     * (every process of a copy holds it); the start and end stamps of the two copies do not overlap.
     */
    @Test
    void afterKillNineTheRestartedNodeRunsTheJobAgainLongBeforeTheDeadNodeLimit() throws Exception {
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path lock = dir.resolve("lock");
        Path slow = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\n"
                + "exec 9>>" + lock + "\n"
                + "flock -n 9 || echo \"overlap $1 $$\" >> " + events + "\n"
                + "trap 'echo \"end $1 $$ $(date +%s%N)\" >> " + events + "; exit 143' TERM\n"
                + "echo \"start $1 $$ $(date +%s%N)\" >> " + events + "\n"
                // In the background with wait: dash runs a TERM trap at once then, not after a sleep killed too.
                + "while [ ! -f " + go + " ]; do [ -d " + go.getParent() + " ] || exit 1; sleep 0.05 & wait $!; done\n"
                + "echo \"end $1 $$ $(date +%s%N)\" >> " + events + "\n");
        String[] common = NodeProcess.hourLimit(config, dir.resolve("data"), 2);
        NodeProcess first = NodeProcess.start(dir, "first", concat(common, "slow=1", "concurrency=1",
                "slowScript=" + slow, "label=job"));
        NodeProcess second = null;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> first.printed("ACCEPTED") && stamps(events, "start").size() == 1);
            long orphan = Long.parseLong(stamps(events, "start").get(0)[2]);
            first.kill();
            assertThat(isGone(orphan)).as("the dead node's command outlives it until a node starts again").isFalse();

            second = NodeProcess.start(dir, "second", common);
            // Started again well within the hour the dead-node limit would take.
            await().atMost(Duration.ofMinutes(10)).until(() -> stamps(events, "start").size() == 2);
            Files.createFile(go);
            try (Store store = Store.open(config)) {
                List<JobAttempt> attempts = succeededAtItsSecondAttempt(store).attempts();
                assertThat(attempts.get(0).message()).startsWith("its node first was gone before the attempt's end was"
                        + " recorded");
                assertThat(attempts.get(1).node()).isEqualTo("second");
            }
            List<String> lines = Files.readAllLines(events);
            assertThat(lines).noneMatch(l -> l.startsWith("overlap "));
            List<String[]> starts = stamps(events, "start");
            List<String[]> ends = stamps(events, "end");
            assertThat(starts).hasSize(2);
            // The second copy ended by itself; the first was killed, and wrote its end only if its
            // TERM trap ran before the SIGKILL (dash does not always run it). Either way it held the
            // lock until its last process was gone, and the second copy found the lock free.
            assertThat(ends).as(String.join("\n", lines)).extracting(e -> e[2]).contains(starts.get(1)[2]);
            ends.stream().filter(e -> e[2].equals(starts.get(0)[2])).findFirst().ifPresent(end ->
                    assertThat(Long.parseLong(end[3])).as("the first copy ended before the second started")
                            .isLessThanOrEqualTo(Long.parseLong(starts.get(1)[3])));
        } finally {
            first.kill();
            if (second != null) {
                second.stop();
                second.kill();
            }
        }
    }

    /**
     * tryout19 F8: a job cut short by its node's kill -9 is put back in its place, not behind the job that
     * was already waiting: with one thread, the restarted node starts it first.
     */
    @Test
    void afterKillNineTheJobCutShortStartsBeforeTheJobQueuedAfterIt() throws Exception {
        jobCutShortKeepsItsPlace(NodeProcess::kill, "its node first was gone before the attempt's end was recorded");
    }

    /**
     * tryout19 F8: a job cut short by a graceful stop whose grace ended ("run again") is put back in its
     * place, not behind the job that was already waiting: with one thread, the next node starts it first.
     */
    @Test
    void afterAGracefulStopTheJobCutShortStartsBeforeTheJobQueuedAfterIt() throws Exception {
        jobCutShortKeepsItsPlace(node -> {
            // Its stdin closed: the engine stops, waits its grace (5 s) for the job, then kills it. Not
            // NodeProcess.stop, whose 30 s bound would turn a slow stop into a kill -9.
            node.process.getOutputStream().close();
            await().atMost(Duration.ofMinutes(5)).until(() -> !node.process.isAlive());
        }, "stopped by the shutdown of first; run again");
    }

    /**
     * upgrade32 (tryout32 F2): a build from before 2026-12-02 put a job its stop cut short back in the queue due at
     * the moment of the cut, behind the jobs queued after it, and an upgrade carried that row into the store the
     * current build runs. Its start gives the job its place back: it starts before the job queued after it, as after
     * a stop of the current build. The row is written as the older build's stop wrote it: db-scheduler's reschedule
     * to "now" (one version more), after the attempt was recorded {@code stopped by the shutdown of first; run again}.
     */
    @Test
    void aJobAnOlderBuildsStopQueuedBehindTheJobQueuedAfterItStartsFirstAfterTheUpgrade() throws Exception {
        SlowPair pair = slowPair();
        StoreConfig config = pair.config();
        Path events = pair.events();
        NodeProcess first = pair.first();
        NodeProcess second = null;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> first.printed("ACCEPTED") && startLines(events).size() == 1);
            assertThat(startLines(events).get(0)).startsWith("start job-slow-0 ");
            first.process.getOutputStream().close();
            await().atMost(Duration.ofMinutes(5)).until(() -> !first.process.isAlive());
            String cut;
            try (Store store = Store.open(config)) {
                List<Job> jobs = store.jobs(JobQuery.latest(10)).items();
                assertThat(jobs).hasSize(2).extracting(Job::state).containsOnly(JobState.QUEUED);
                cut = jobs.stream().filter(j -> j.attempts() == 1).findFirst().orElseThrow().id();
                assertThat(store.job(cut).orElseThrow().attempts().get(0).message())
                        .isEqualTo("stopped by the shutdown of first; run again");
            }
            java.time.Instant atTheCut = java.time.Instant.now();
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(config.url());
                    java.sql.PreparedStatement p = c.prepareStatement("UPDATE scheduled_tasks SET execution_time = ?,"
                            + " version = version + 1 WHERE task_instance = ? AND picked = ?")) {
                org.buildhook.runner.store.JobQueue.customization(config.dialect()).setInstant(p, 1, atTheCut);
                p.setString(2, cut);
                p.setBoolean(3, false);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }

            second = pair.next("second");
            await().atMost(Duration.ofMinutes(5)).until(() -> startLines(events).size() == 2);
            assertThat(startLines(events).get(1)).as("the job the older build cut short starts first")
                    .startsWith("start job-slow-0 ");
            try (Store store = Store.open(config)) {
                assertThat(store.queuePlaces().restore()).as("once: the row repaired matches no more").isEmpty();
            }
        } finally {
            first.kill();
            if (second != null) {
                second.stop();
                second.kill();
            }
        }
    }

    private interface Ending {
        void end(NodeProcess node) throws Exception;
    }

    /**
     * Two slow jobs, one thread: job-slow-0 runs, job-slow-1 (queued after it) waits; the node ends by
     * {@code ending}, another starts with one thread; the first job it starts is job-slow-0 again.
     */
    private void jobCutShortKeepsItsPlace(Ending ending, String interrupted) throws Exception {
        SlowPair pair = slowPair();
        StoreConfig config = pair.config();
        Path events = pair.events();
        Path marker = pair.marker();
        NodeProcess first = pair.first();
        NodeProcess second = null;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> first.printed("ACCEPTED") && startLines(events).size() == 1);
            assertThat(startLines(events).get(0)).startsWith("start job-slow-0 ");
            ending.end(first);
            try (Store store = Store.open(config)) {
                List<Job> jobs = store.jobs(JobQuery.latest(10)).items();
                // Neither ran to its end: the one cut short is RUNNING (kill -9) or QUEUED again (a stop).
                assertThat(jobs).hasSize(2).extracting(Job::state).isSubsetOf(JobState.QUEUED, JobState.RUNNING);
            }

            second = pair.next("second");
            await().atMost(Duration.ofMinutes(5)).until(() -> startLines(events).size() == 2);
            assertThat(startLines(events).get(1)).as("the job cut short starts first").startsWith("start job-slow-0 ");
            Files.createFile(marker);
            try (Store store = Store.open(config)) {
                await().atMost(Duration.ofMinutes(5)).until(() -> store.jobs(new JobQuery(JobState.SUCCEEDED, null,
                        null, null, 10)).items().size() == 2);
                for (Job job : store.jobs(JobQuery.latest(10)).items()) {
                    List<JobAttempt> attempts = store.job(job.id()).orElseThrow().attempts();
                    assertThat(attempts.get(attempts.size() - 1).node()).isEqualTo("second");
                    if (attempts.size() == 2) {
                        assertThat(attempts.get(0).message()).startsWith(interrupted);
                    }
                }
            }
            assertThat(startLines(events)).hasSize(3);
            assertThat(startLines(events).get(2)).startsWith("start job-slow-1 ");
        } finally {
            first.kill();
            if (second != null) {
                second.stop();
                second.kill();
            }
        }
    }

    /**
     * review20 R3: a job whose node is killed (kill -9, as the OOM killer does) under each of 3 attempts in a
     * row is not run a 4th time: the next node ends it FAILED, saying why and what to do, its attempts kept
     * INTERRUPTED, and runs the job queued after it. Before, with one thread, it ran first again after every
     * restart and nothing else ever ran.
     */
    @Test
    void aJobWhoseNodeIsKilledUnderItThreeTimesInARowEndsFailedAndTheNextJobRuns() throws Exception {
        cutShortThreeTimes(NodeProcess::kill, (store, jobs) -> {
            Job pill = jobs.stream().filter(j -> j.state() == JobState.FAILED).findFirst().orElseThrow();
            assertThat(pill.attempts()).isEqualTo(3);
            assertThat(pill.message()).isEqualTo("not run again: its node died before each of its last 3 attempts"
                    + " ended (first, second, third), which its own command may cause (one that exhausts the host's"
                    + " memory gets buildhook killed by the OOM killer; one that kills the server with SIGKILL ends it),"
                    + " so it would end the node again after every restart; see the system's log (journalctl -k for"
                    + " the OOM killer), fix the command, then run the job again: buildhook rerun " + pill.id());
            assertThat(store.job(pill.id()).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                    .containsOnly(AttemptOutcome.INTERRUPTED);
            return List.of("start job-slow-0 ", "start job-slow-0 ", "start job-slow-0 ", "start job-slow-1 ");
        });
    }

    /**
     * review20 R3: graceful stops whose grace ended (an operator's restarts) cut a job short 3 times in a row:
     * no death, it runs again, a 4th time, first.
     */
    @Test
    void aJobCutShortByThreeGracefulStopsInARowRunsAgain() throws Exception {
        cutShortThreeTimes(node -> {
            node.process.getOutputStream().close();
            await().atMost(Duration.ofMinutes(5)).until(() -> !node.process.isAlive());
        }, (store, jobs) -> {
            assertThat(jobs).extracting(Job::state).containsOnly(JobState.SUCCEEDED);
            return List.of("start job-slow-0 ", "start job-slow-0 ", "start job-slow-0 ", "start job-slow-0 ",
                    "start job-slow-1 ");
        });
    }

    /**
     * review21 R1: stops killed before they end (SIGKILL after a stop timeout shorter than the stop, as podman's
     * default 10 s is against the 30 s grace) cut a job short 3 times in a row: no death, it runs again, a 4th time,
     * first. Before, each such attempt was recorded as its node's death and the job ended FAILED as a poison pill.
     */
    @Test
    void aJobCutShortByThreeStopsKilledDuringTheirGraceRunsAgain() throws Exception {
        Path noted = dir.resolve("data").resolve(StopsNotRecorded.FILE_NAME);
        cutShortThreeTimes(node -> {
            node.process.getOutputStream().close();
            // The stop has begun (it notes its attempts first): kill it in its grace (600 s), as a stop timeout does.
            await().atMost(Duration.ofMinutes(5)).until(() -> Files.exists(noted) && Files.readAllLines(noted).stream()
                    .anyMatch(l -> l.startsWith(node.name + " ") && l.endsWith(" begun")));
            node.kill();
        }, (store, jobs) -> {
            assertThat(jobs).extracting(Job::state).containsOnly(JobState.SUCCEEDED);
            Job cut = jobs.stream().filter(j -> j.attempts() == 4).findFirst().orElseThrow();
            assertThat(store.job(cut.id()).orElseThrow().attempts().subList(0, 3)).allSatisfy(a -> {
                assertThat(a.outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
                assertThat(a.message()).contains(" was killed during its stop, before the stop could record the"
                        + " attempt's end");
            });
            return List.of("start job-slow-0 ", "start job-slow-0 ", "start job-slow-0 ", "start job-slow-0 ",
                    "start job-slow-1 ");
        }, "grace=600");
    }

    /**
     * review21 R2: a job whose command SIGTERMs its own server (as {@code systemctl restart buildhook}, {@code kill
     * <server pid>} or {@code kill 1} in a container do) is cut short by that server's graceful stop each time; under a
     * restart loop, after {@code runner.stops-in-a-row} (3 here) such stops the next node ends it FAILED, saying why and
     * what to do, instead of running it first again, and runs the job queued after it. Before, it ran first again after
     * every start, for ever, and with one thread nothing else ran.
     */
    @Test
    void aJobWhoseCommandStopsItsOwnServerThreeTimesInARowEndsFailedAndTheNextJobRuns() throws Exception {
        stopLoop(3, (store, jobs) -> {
            Job loop = jobs.stream().filter(j -> j.state() == JobState.FAILED).findFirst().orElseThrow();
            assertThat(loop.attempts()).isEqualTo(3);
            assertThat(loop.message()).isEqualTo(JobTask.stoppedInARowMessage(loop.id(), 3, "first, second, third", 0))
                    .startsWith("not run again: its node was stopped before each of its last 3 attempts ended (first,"
                            + " second, third), which its own command causes if it stops or restarts buildhook")
                    .contains("systemd-run --on-active=10 systemctl restart buildhook", "buildhook rerun " + loop.id());
            List<JobAttempt> attempts = store.job(loop.id()).orElseThrow().attempts();
            assertThat(attempts).extracting(JobAttempt::outcome).containsOnly(AttemptOutcome.INTERRUPTED);
            assertThat(attempts.subList(0, 2)).extracting(JobAttempt::message)
                    .containsExactly("stopped by the shutdown of first; run again",
                            "stopped by the shutdown of second; run again");
            // tryout22 F1: the last cut says what comes of the job, not "run again".
            assertThat(attempts.get(2).message()).isEqualTo("stopped by the shutdown of third; not run again: its node"
                    + " was stopped before each of its last 3 attempts ended (runner.stops-in-a-row: 3); the node that"
                    + " picks it next ends it FAILED");
            assertThat(jobs.stream().filter(j -> j != loop)).extracting(Job::state).containsOnly(JobState.SUCCEEDED);
            return List.of("start job-slow-0 ", "start job-slow-0 ", "start job-slow-0 ", "start job-slow-1 ");
        });
    }

    /**
     * review21 R2: one stop fewer than {@code runner.stops-in-a-row}, then an attempt its command lets end: the job
     * succeeds; nothing ended it early (the bound counts only stops in a row).
     */
    @Test
    void aJobCutShortByItsServersStopOneTimeFewerThanTheBoundThenSucceeds() throws Exception {
        stopLoop(2, (store, jobs) -> {
            assertThat(jobs).extracting(Job::state).containsOnly(JobState.SUCCEEDED);
            Job cut = jobs.stream().filter(j -> j.attempts() == 3).findFirst().orElseThrow();
            assertThat(store.job(cut.id()).orElseThrow().attempts()).extracting(JobAttempt::outcome)
                    .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED);
            return List.of("start job-slow-0 ", "start job-slow-0 ", "start job-slow-0 ", "start job-slow-1 ");
        });
    }

    /**
     * Two jobs for one thread whose command ({@link #stopperScript}) SIGTERMs its own node while its kill marker
     * exists, the nodes with {@code runner.stops-in-a-row} 3 and SIGTERM as a graceful stop: job-slow-0 stops nodes
     * first, second, … ({@code stops} of them, each restarted as a restart policy would), then its marker goes (so
     * that, run again, it ends instead of looping: a test without the bound fails, not hangs); the next node runs
     * until both jobs have ended.
     */
    private void stopLoop(int stops, Outcome outcome) throws Exception {
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path kill = dir.resolve("kill-job-slow-0");
        SlowPair pair = new SlowPair(dir, config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION,
                Duration.ZERO), events, go, stopperScript(events, go));
        String[] args = {"stops=3", "sigterm=stop"};
        List<NodeProcess> nodes = new java.util.ArrayList<>();
        List<String> names = List.of("second", "third", "fourth");
        try {
            nodes.add(pair.first(args));
            await().atMost(Duration.ofMinutes(5)).until(() -> nodes.get(0).printed("ACCEPTED")
                    && startLines(events).size() == 1);
            Files.createFile(kill); // after both jobs were accepted: from now on job-slow-0 stops its node
            for (int i = 0; i < stops; i++) {
                NodeProcess last = nodes.get(nodes.size() - 1);
                await().atMost(Duration.ofMinutes(5)).until(() -> !last.process.isAlive());
                if (i == stops - 1) {
                    Files.deleteIfExists(kill);
                }
                nodes.add(pair.next(names.get(i), args));
                int starts = nodes.size();
                await().atMost(Duration.ofMinutes(5)).until(() -> startLines(events).size() == starts);
            }
            // The node started after the last stop starts job-slow-1 if job-slow-0 ended FAILED, else job-slow-0 again.
            checkOnceBothEnded(pair, 0, outcome);
        } finally {
            for (NodeProcess node : nodes) {
                node.kill();
            }
        }
    }

    /**
     * A job's command that appends {@code start <arg> <pid>} to {@code events}, then waits until {@code marker} exists
     * and appends {@code end <arg>}; but once {@code kill-<arg>} exists (beside {@code events}) it sends SIGTERM to its
     * server (the nearest {@code java} among its ancestors), as a deploy script that restarts buildhook does, and waits
     * to be cut short. It ends with 1 once its folder is gone.
     */
    private Path stopperScript(Path events, Path marker) throws IOException {
        Path folder = marker.getParent();
        return Files.writeString(dir.resolve("stopper.sh"), "#!/bin/sh\necho \"start $1 $$\" >> " + events + "\n"
                + "while [ ! -f " + marker + " ]; do\n"
                + "  [ -d " + folder + " ] || exit 1\n"
                + "  if [ -f " + folder + "/kill-$1 ]; then\n"
                + "    p=$PPID\n"
                + "    while [ \"$p\" -gt 1 ] && [ \"$(cat /proc/$p/comm)\" != java ]; do"
                + " p=$(cut -d' ' -f4 /proc/$p/stat); done\n"
                + "    kill \"$p\"\n"
                + "    while [ -d " + folder + " ]; do sleep 0.05; done\n"
                + "    exit 1\n"
                + "  fi\n"
                + "  sleep 0.05\n"
                + "done\n"
                + "echo \"end $1\" >> " + events + "\n");
    }

    private interface Outcome {
        /** Asserts the jobs once both have ended; returns the beginnings of the start lines expected, in order. */
        List<String> check(Store store, List<Job> jobs) throws Exception;
    }

    /**
     * Two slow jobs, one thread: job-slow-0 runs, job-slow-1 waits; nodes first, second and third each start
     * job-slow-0 and end by {@code ending}; a fourth node runs until both jobs have ended.
     */
    private void cutShortThreeTimes(Ending ending, Outcome outcome, String... nodeArgs) throws Exception {
        SlowPair pair = slowPair();
        StoreConfig config = pair.config();
        Path events = pair.events();
        Path marker = pair.marker();
        List<NodeProcess> nodes = new java.util.ArrayList<>();
        try {
            nodes.add(pair.first(nodeArgs));
            await().atMost(Duration.ofMinutes(5)).until(() -> nodes.get(0).printed("ACCEPTED")
                    && startLines(events).size() == 1);
            for (String name : List.of("second", "third", "fourth")) {
                NodeProcess last = nodes.get(nodes.size() - 1);
                ending.end(last);
                nodes.add(pair.next(name, nodeArgs));
                if (!name.equals("fourth")) {
                    int starts = nodes.size();
                    await().atMost(Duration.ofMinutes(5)).until(() -> startLines(events).size() == starts);
                }
            }
            checkOnceBothEnded(pair, 4, outcome);
        } finally {
            for (NodeProcess node : nodes) {
                node.kill();
            }
        }
    }

    /**
     * Lets the jobs of {@code pair} end (its marker made once {@code startsFirst} starts were written), waits until
     * both have, and checks them by {@code outcome}, with the starts it expects in order.
     */
    private static void checkOnceBothEnded(SlowPair pair, int startsFirst, Outcome outcome) throws Exception {
        try (Store store = Store.open(pair.config())) {
            await().atMost(Duration.ofMinutes(5)).until(() -> {
                if (startLines(pair.events()).size() >= startsFirst && !Files.exists(pair.marker())) {
                    Files.createFile(pair.marker());
                }
                return store.jobs(JobQuery.latest(10)).items().stream().allMatch(j -> j.state().isFinal());
            });
            List<String> expected = outcome.check(store, store.jobs(JobQuery.latest(10)).items());
            List<String> starts = startLines(pair.events());
            assertThat(starts).hasSize(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertThat(starts.get(i)).as("start %d of %s", i + 1, starts).startsWith(expected.get(i));
            }
        }
    }

    /**
     * Two slow jobs for one thread: node "first" accepts job-slow-0 and job-slow-1 (queued after it), whose
     * command ({@link NodeProcess#slowScript}) writes to {@code events} and waits for {@code marker}; the next nodes only run.
     */
    private record SlowPair(Path dir, StoreConfig config, Path events, Path marker, Path slow) {

        /** @param extra more {@code key=value} arguments of the node ({@link EngineNode}) */
        NodeProcess first(String... extra) throws IOException {
            return NodeProcess.start(dir, "first", concat(new String[] {"url=" + config.url(),
                    "data=" + dir.resolve("data"), "threads=1", "slow=2", "slowScript=" + slow, "label=job"}, extra));
        }

        /** @param extra more {@code key=value} arguments of the node ({@link EngineNode}) */
        NodeProcess next(String name, String... extra) throws IOException {
            return NodeProcess.start(dir, name, concat(new String[] {"url=" + config.url(),
                    "data=" + dir.resolve("data"), "threads=1"}, extra));
        }
    }

    private SlowPair slowPair() throws IOException {
        Path events = dir.resolve("events");
        Path marker = dir.resolve("go");
        return new SlowPair(dir, config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO),
                events, marker, NodeProcess.slowScript(dir, events, marker));
    }

    /**
     * Waits until the one job of {@code store} has SUCCEEDED, and checks that it did so at its second attempt, the
     * first cut short (INTERRUPTED) by its node's end.
     *
     * @return the job with its two attempts
     */
    static JobDetail succeededAtItsSecondAttempt(Store store) {
        await().atMost(Duration.ofMinutes(5)).until(() -> store.jobs(new JobQuery(JobState.SUCCEEDED, null, null, null,
                10)).items().size() == 1);
        JobDetail job = store.job(store.jobs(JobQuery.latest(10)).items().get(0).id()).orElseThrow();
        assertThat(job.attempts()).extracting(JobAttempt::outcome)
                .containsExactly(AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED);
        return job;
    }

    static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** Lines {@code <kind> <label> <pid> <nanoseconds>} of the events file, in order, split. */
    private static List<String[]> stamps(Path events, String kind) throws IOException {
        return Files.exists(events) ? Files.readAllLines(events).stream().map(l -> l.split(" "))
                .filter(f -> f.length == 4 && f[0].equals(kind)).toList() : List.of();
    }

    /** Exited, or a zombie (an init that does not reap, as in some containers, keeps those). */
    static boolean isGone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    static List<String> startLines(Path events) throws IOException {
        return Files.exists(events) ? Files.readAllLines(events).stream().filter(l -> l.startsWith("start "))
                .filter(l -> l.split(" ").length == 3).toList() : List.of();
    }
}
