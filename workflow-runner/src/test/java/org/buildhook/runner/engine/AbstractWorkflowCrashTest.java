package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.awaitility.core.ConditionTimeoutException;
import org.buildhook.runner.store.AdminAction;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobQueue;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a runner JVM while workflow jobs hold shared resources, run or owe a follow-up, or wait
 * for an approval; then another node takes over: the next node on the same data (SQLite), or a node
 * that was running beside it (PostgreSQL). Nothing held, owed or waiting is lost, units come back
 * only when the job is taken over, capacity is never exceeded and a follow-up never runs twice at
 * once — all checked from the commands' own start and end lines and the store.
 *
 * <p>The commands write {@code S <ns> <label> <pid>} when they start and {@code E <ns> <label> <pid>}
 * when they end, also when the node that takes over kills what the dead one left (SIGTERM, trapped;
 * see {@link #runs} for a kill that comes before the trap).
 */
abstract class AbstractWorkflowCrashTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final StartedNodes nodes = new StartedNodes();

    abstract StoreConfig config(Path dir);

    /** Whether the taking-over node runs beside the victim before it is killed (a cluster). */
    abstract boolean cluster();

    /** The heartbeat arguments of the nodes: how soon a dead node's executions are taken over. */
    abstract List<String> heartbeat();

    /** The dead-node limit those arguments give: heartbeat interval × missed heartbeats. */
    abstract Duration deadNodeLimit();

    @Test
    void unitsHeldByAKilledNodeComeBackOnlyWhenItsJobsAreTakenOverAndCapacityIsNeverExceeded() throws Exception {
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path board = traced("board.sh", events, go, "");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "resources:\n  boards: 2\n"
                + "rules:\n"
                + "  - name: flash\n"
                + "    run: {command: [/bin/sh, \"" + board + "\", \"flash-${build.id}\"], resources: {boards: 1},"
                + " timeout: 30m}\n");
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            // Two threads, both busy with the two jobs that hold the boards: the victim takes nothing else.
            NodeProcess victim = node("victim", config, "threads=2", "rules=" + rules, "builds=1,2,3,4");
            awaitOrExplain(store, () -> victim.printed("ACCEPTED") && starts(events).size() == 2);
            List<String> holders = starts(events).stream().map(l -> l.split(" ")[2]).toList();
            List<Long> orphans = starts(events).stream().map(l -> Long.parseLong(l.split(" ")[3])).toList();
            Map<String, Job> byLabel = byLabel(store);
            List<String> holderIds = holders.stream().map(l -> byLabel.get(l).id()).toList();
            List<String> waiterIds = byLabel.entrySet().stream().filter(e -> !holders.contains(e.getKey()))
                    .map(e -> e.getValue().id()).toList();
            assertThat(waiterIds).hasSize(2);

            NodeProcess taker = null;
            if (cluster()) {
                taker = node("taker", config, "threads=2");
                awaitOrExplain(store, () -> waiterIds.stream().allMatch(id -> job(store, id).state() == JobState.WAITING));
                assertThat(job(store, waiterIds.get(0)).message()).startsWith("waiting for boards: 1 wanted, 0 of 2 free");
            }
            victim.kill();
            Instant takeOverFrom = lastHeartbeat(store, holderIds).plus(deadNodeLimit());
            if (!Integer.valueOf(2).equals(store.resources().unitsInUse().get("boards"))) {
                // Freed already (a live taker of this host proved the victim dead and killed what it
                // left): only once the victim's jobs were taken over, their attempts recorded interrupted.
                assertThat(holderIds).anyMatch(id -> store.job(id).orElseThrow().attempts().get(0).outcome()
                        == AttemptOutcome.INTERRUPTED);
            }
            if (!cluster()) {
                taker = node("taker", config, "threads=2");
            }
            NodeProcess live = taker;
            // The taker ends what the victim left (at its start, or by its sweep beside it) before anything else.
            awaitOrExplain(store, () -> live.printed("READY") && orphans.stream().allMatch(AbstractCrashTest::isGone));
            Files.createFile(go);
            awaitOrExplain(store, () -> byLabel(store).values().stream().allMatch(j -> j.state() == JobState.SUCCEEDED));

            List<String> lines = Files.readAllLines(events);
            Map<String, String> jobOfLabel = new TreeMap<>();
            byLabel(store).forEach((label, job) -> jobOfLabel.put(label, job.id()));
            assertThat(mostAtOnce(runs(store, lines, jobOfLabel))).as("boards in use at once: %s", lines)
                    .isBetween(1L, 2L);
            long earliestWaiterStart = lines.stream().filter(l -> l.startsWith("S "))
                    .filter(l -> !holders.contains(l.split(" ")[2])).mapToLong(l -> Long.parseLong(l.split(" ")[1]))
                    .min().orElseThrow();
            // Taken over when a node of this host killed what the victim left and recorded its attempt
            // interrupted (then its units are freed at once, DeadNodeRelease), or else at the dead-node limit.
            Instant takenOver = holderIds.stream().map(id -> store.job(id).orElseThrow().attempts().get(0))
                    .filter(a -> a.outcome() == AttemptOutcome.INTERRUPTED && a.endedAt() != null)
                    .map(JobAttempt::endedAt).min(Instant::compareTo).orElse(takeOverFrom);
            assertThat(Instant.ofEpochSecond(0, earliestWaiterStart))
                    .as("a waiting job got a board only once the killed node's job was taken over")
                    .isAfterOrEqualTo(takenOver.isBefore(takeOverFrom) ? takenOver.truncatedTo(
                            java.time.temporal.ChronoUnit.MILLIS) : takeOverFrom);
            for (String id : holderIds) {
                List<JobAttempt> attempts = store.job(id).orElseThrow().attempts();
                assertThat(attempts).hasSize(2);
                assertThat(attempts.get(0).outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
                assertThat(attempts.get(0).node()).isEqualTo("victim");
                assertThat(attempts.get(1).node()).isEqualTo("taker");
            }
            assertThat(starts(lines)).hasSize(6);
            assertThat(store.resources().unitsInUse()).as("no unit lost or left held").isEmpty();
        }
    }

    @Test
    void aKilledNodesFollowUpsAreStartedOnceAndNeverRunTwiceAtOnce() throws Exception {
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        // Build 1 fails at once, so its on-failure runs (and waits) when the node dies; build 2 is
        // still running then, and fails only on the node that takes it over.
        Path deploy = traced("deploy.sh", events, go, "exit 3");
        Path page = traced("page.sh", events, go, "");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + deploy + "\", \"deploy-${build.id}\"], timeout: 30m}\n"
                + "    on-failure: {command: [/bin/sh, \"" + page + "\", \"page-${job.id}\"], timeout: 30m}\n");
        Files.createFile(dir.resolve("go-deploy-1"));
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            NodeProcess victim = node("victim", config, "threads=2", "rules=" + rules, "builds=1,2");
            awaitOrExplain(store, () -> victim.printed("ACCEPTED") && starts(events).stream()
                    .anyMatch(l -> l.contains(" page-")) && starts(events).stream().anyMatch(l -> l.contains(" deploy-2 ")));
            List<Long> orphans = starts(events).stream().filter(l -> !l.contains(" deploy-1 "))
                    .map(l -> Long.parseLong(l.split(" ")[3])).toList();
            NodeProcess taker = cluster() ? node("taker", config, "threads=2") : null;
            victim.kill();
            if (taker == null) {
                taker = node("taker", config, "threads=2");
            }
            NodeProcess live = taker;
            awaitOrExplain(store, () -> live.printed("READY") && orphans.stream().allMatch(AbstractCrashTest::isGone));
            Files.createFile(go);
            awaitOrExplain(store, () -> jobs(store, "deploy/on-failure").size() == 2
                    && jobs(store, null).stream().allMatch(j -> j.state().isFinal()));

            List<Job> parents = jobs(store, "deploy");
            List<Job> followUps = jobs(store, "deploy/on-failure");
            assertThat(parents).hasSize(2).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.FAILED));
            assertThat(followUps).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.SUCCEEDED));
            assertThat(followUps).extracting(j -> j.workflow().parentId())
                    .containsExactlyInAnyOrderElementsOf(parents.stream().map(Job::id).toList());
            List<String> lines = Files.readAllLines(events);
            for (Job followUp : followUps) {
                String label = "page-" + followUp.workflow().parentId();
                assertThat(mostAtOnce(runs(store, lines.stream().filter(l -> l.split(" ")[2].equals(label)).toList(),
                        Map.of(label, followUp.id())))).as("copies of follow-up %s running at once: %s", label, lines)
                        .isEqualTo(1L);
            }
            assertThat(lines.stream().filter(l -> l.startsWith("S ") && l.contains(" page-")).count())
                    .as("follow-up runs: the one the kill interrupted, once more, and the taken-over job's").isEqualTo(3);
            assertThat(store.followUps().pending(10)).isEmpty();
        }
    }

    @Test
    void anApprovalWaitingWhenItsNodeIsKilledIsKeptAndRunsOnceApproved() throws Exception {
        Path events = dir.resolve("events");
        Path go = Files.createFile(dir.resolve("go"));
        Path deploy = traced("deploy.sh", events, go, "");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: deploy-prod\n"
                + "    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/sh, \"" + deploy + "\", \"deploy-${build.id}\"]}\n");
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            NodeProcess victim = node("victim", config, "threads=2", "rules=" + rules, "builds=67");
            awaitOrExplain(store, () -> victim.printed("ACCEPTED"));
            String id = jobs(store, "deploy-prod").get(0).id();
            Instant expiresAt = job(store, id).expiresAt();
            assertThat(job(store, id).state()).isEqualTo(JobState.AWAITING_APPROVAL);
            NodeProcess taker = cluster() ? node("taker", config, "threads=2") : null;
            victim.kill();
            if (taker == null) {
                taker = node("taker", config, "threads=2");
            }
            NodeProcess live = taker;
            awaitOrExplain(store, () -> live.printed("READY"));
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(30))
                    .until(() -> job(store, id).state() == JobState.AWAITING_APPROVAL);
            assertThat(job(store, id).expiresAt()).isEqualTo(expiresAt);
            assertThat(Files.exists(events)).as("nothing ran it before the approval").isFalse();

            assertThat(store.approve(id, "alice")).isTrue();
            awaitOrExplain(store, () -> job(store, id).state().isFinal());

            assertThat(job(store, id).state()).isEqualTo(JobState.SUCCEEDED);
            assertThat(store.job(id).orElseThrow().attempts()).singleElement()
                    .satisfies(a -> assertThat(a.node()).isEqualTo("taker"));
            assertThat(starts(Files.readAllLines(events))).hasSize(1);
            assertThat(store.actionsOnJob(id)).extracting(AdminAction::actor, AdminAction::action)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("alice", "approve"));
        }
    }

    /**
     * A script writing its start and end lines for its first argument, ending also on SIGTERM (what a
     * node taking over sends to the leftovers of a dead one); it waits for {@code go}, or for
     * {@code go-<label>}, then runs {@code last}.
     */
    /**
     * A job whose timeout fired is killed with SIGTERM, then SIGKILL after the kill grace; its node
     * killed (kill -9) inside that grace leaves an attempt that had timed out. The node that takes the
     * job over records it so (TIMED_OUT, its on-failure follow-up once) and does not run the command
     * again (tryout9, F3: it ran a second time although the rule allows no retry).
     */
    @Test
    void aJobThatTimedOutIsNotRunAgainWhenItsNodeIsKilledWhileItsProcessesAreEnded() throws Exception {
        Path events = dir.resolve("events");
        Path hang = hangScript(events);
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: hang\n"
                + "    run: {command: [/bin/sh, \"" + hang + "\", \"hang-${build.id}\"], timeout: 5s}\n"
                + "    on-failure: {command: [/bin/sh, -c, 'echo \"F $0\" >> " + events + "', \"${job.outcome}\"]}\n");
        assertNotRunAgainAfterAKillInTheGrace(rules, events, "hang", JobState.TIMED_OUT,
                "timed out after 5s; then its node victim was gone before the attempt's end was recorded; node taker"
                        + " killed what it left: ",
                "F TIMED_OUT");
    }

    /**
     * review14 F2: a job of a {@code concurrency: 1} rule whose timeout fired, its node killed (kill -9)
     * inside the kill grace while it held the rule's slot, is concluded TIMED_OUT by the node that takes it
     * over; that frees the slot and wakes the next job in line, which starts. With a {@code runner.slot-retry}
     * of an hour a missing wake shows as a job that does not start: before, the dead node's slot was never
     * given up on that path, and the next job, refused while the first ran, waited for its next try.
     */
    @Test
    void aJobConcludedAfterItsNodeWasKilledHoldingItsRulesSlotWakesTheNextInLine() throws Exception {
        Path events = dir.resolve("events");
        Path hang = hangScript(events);
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: hang\n"
                + "    run: {command: [/bin/sh, \"" + hang + "\", \"hang-${build.id}\"], timeout: 5s, concurrency: 1}\n");
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            NodeProcess victim = node("victim", config, "threads=2", "rules=" + rules, "builds=1,2", "killGrace=600",
                    "slotRetry=3600");
            awaitOrExplain(store, () -> victim.printed("ACCEPTED") && lines(events, "T ").size() == 1);
            Map<String, Job> byLabel = byLabel(store, "hang");
            String first = byLabel.get("hang-1").id();
            String second = byLabel.get("hang-2").id();
            // The second was refused the slot while the first ran, and put back for an hour.
            awaitOrExplain(store, () -> Optional.ofNullable(job(store, second).message()).orElse("")
                    .contains("waiting for a concurrency slot"));
            await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> decided(store, first) != null);
            NodeProcess taker = cluster() ? node("taker", config, "threads=2", "slotRetry=3600") : null;
            victim.kill();
            if (taker == null) {
                taker = node("taker", config, "threads=2", "slotRetry=3600");
            }

            awaitOrExplain(store, () -> lines(events, "S ").size() == 2);

            assertThat(lines(events, "S ").get(1).split(" ")[2]).isEqualTo("hang-2");
            assertThat(job(store, first).state()).isEqualTo(JobState.TIMED_OUT);
            assertThat(store.job(first).orElseThrow().attempts()).hasSize(1);
        }
    }

    /**
     * A job whose program exited 0 has what it left running ended (SIGTERM, SIGKILL after the kill
     * grace) before its outcome is recorded; its node killed inside that grace leaves an attempt
     * that had succeeded. The node that takes the job over records it SUCCEEDED, starts its
     * on-success follow-up once and does not run the command again (tryout9, F3b: a deploy ran twice).
     */
    @Test
    void aJobWhoseProgramExitedIsNotRunAgainWhenItsNodeIsKilledWhileItsLeftoversAreEnded() throws Exception {
        Path events = dir.resolve("events");
        Path ready = dir.resolve("ready");
        Path deploy = Files.writeString(dir.resolve("deploy.sh"), "#!/bin/sh\n"
                + "echo \"S $(date +%s%N) $1 $$\" >> " + events + "\n"
                // A leftover that ignores SIGTERM (says it got one); the program exits 0 once the
                // leftover's trap is set (else the leftover's end could come first and kill it at once).
                + "( trap 'echo \"T $(date +%s%N) $1 $$\" >> " + events + "' TERM; : > " + ready + ";"
                + " while [ -d " + dir + " ]; do sleep 0.05 & wait $!; done ) &\n"
                + "while [ ! -f " + ready + " ]; do [ -d " + ready.getParent() + " ] || exit 1; sleep 0.05; done\n"
                + "exit 0\n");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + deploy + "\", \"deploy-${build.id}\"], timeout: 30m}\n"
                + "    on-success: {command: [/bin/sh, -c, 'echo \"F $0\" >> " + events + "', \"${job.outcome}\"]}\n");
        assertNotRunAgainAfterAKillInTheGrace(rules, events, "deploy", JobState.SUCCEEDED,
                "exited with 0; then its node victim was gone before the attempt's end was recorded; node taker killed"
                        + " what it left: ",
                "F SUCCEEDED");
    }

    private void assertNotRunAgainAfterAKillInTheGrace(Path rules, Path events, String rule, JobState expected,
            String message, String followUp) throws Exception {
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            // A kill grace of 10 minutes: the kill -9 below falls inside it however slow the machine is.
            NodeProcess victim = node("victim", config, "threads=2", "rules=" + rules, "builds=1", "killGrace=600");
            awaitOrExplain(store, () -> victim.printed("ACCEPTED") && lines(events, "T ").size() == 1);
            String jobId = jobs(store, rule).get(0).id();
            try {
                // What the attempt came to is written just before its processes are signalled, without
                // waiting: the kill -9 comes once it is in the store.
                await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> decided(store, jobId) != null);
            } catch (ConditionTimeoutException e) {
                // Not written (as before the fix): the kill shows what follows.
            }
            NodeProcess taker = cluster() ? node("taker", config, "threads=2") : null;
            victim.kill();
            if (taker == null) {
                taker = node("taker", config, "threads=2");
            }
            awaitOrExplain(store, () -> jobs(store, null).size() == 2
                    && jobs(store, null).stream().allMatch(j -> j.state().isFinal()));

            assertThat(lines(events, "S ")).as("the command's starts").hasSize(1);
            assertThat(job(store, jobId).state()).isEqualTo(expected);
            List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
            assertThat(attempts).hasSize(1);
            assertThat(attempts.get(0).outcome()).isEqualTo(AttemptOutcome.valueOf(expected.name()));
            assertThat(attempts.get(0).message()).startsWith(message).endsWith("; not run again");
            assertThat(lines(events, "F ")).containsExactly(followUp);
            if (expected != JobState.SUCCEEDED) {
                assertFinalLineSaysHowLongItRan(jobId, attempts.get(0), Duration.ofSeconds(5));
            }
        }
    }

    /**
     * The taker's log line for the job's final outcome says how long its attempt ran, as the store
     * records it (at least {@code atLeast}): not "last attempt took 0ms" for an attempt that ran on a
     * node that died (tryout14 F9).
     */
    private void assertFinalLineSaysHowLongItRan(String jobId, JobAttempt attempt, Duration atLeast)
            throws IOException {
        String line = Files.readAllLines(dir.resolve("taker.err")).stream()
                .filter(l -> l.contains("job " + jobId + " of rule ")).findFirst().orElseThrow();
        java.util.regex.Matcher took = java.util.regex.Pattern.compile("; last attempt took ([0-9hms.]+)").matcher(line);
        assertThat(took.find()).as(line).isTrue();
        String text = took.group(1); // 350ms, 5.2s, 1m3s, as Durations.describe writes it
        Duration said = text.matches("[0-9]+ms") ? Duration.ofMillis(Long.parseLong(text.replace("ms", "")))
                : Duration.parse("PT" + text.toUpperCase(java.util.Locale.ROOT));
        Duration recorded = Duration.between(attempt.startedAt(), attempt.endedAt());
        assertThat(said).as(line).isGreaterThanOrEqualTo(atLeast)
                // Tenths under ten seconds, whole seconds above (truncated), as every surface writes it.
                .isBetween(recorded.minusSeconds(1), recorded);
    }

    /**
     * A job cancelled while it runs, whose node is killed before the cancel's kill grace ended, ends
     * CANCELLED and is not run again, and says so: not "cancelled before it ran", nor "run again"
     * for its attempt (tryout9, F2).
     */
    @Test
    void aJobCancelledWhoseNodeIsKilledBeforeItsProcessesAreGoneSaysItRanAndIsNotRunAgain() throws Exception {
        Path events = dir.resolve("events");
        Path hang = hangScript(events);
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: hang\n"
                + "    run: {command: [/bin/sh, \"" + hang + "\", \"hang-${build.id}\"], timeout: 30m}\n");
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            NodeProcess victim = node("victim", config, "threads=2", "rules=" + rules, "builds=1", "killGrace=600");
            awaitOrExplain(store, () -> victim.printed("ACCEPTED") && lines(events, "S ").size() == 1);
            String jobId = jobs(store, "hang").get(0).id();
            assertThat(store.cancel(jobId)).isTrue();
            awaitOrExplain(store, () -> lines(events, "T ").size() == 1);
            NodeProcess taker = cluster() ? node("taker", config, "threads=2") : null;
            victim.kill();
            if (taker == null) {
                taker = node("taker", config, "threads=2");
            }
            awaitOrExplain(store, () -> job(store, jobId).state().isFinal());

            assertThat(lines(events, "S ")).as("the command's starts").hasSize(1);
            Job job = job(store, jobId);
            assertThat(job.state()).isEqualTo(JobState.CANCELLED);
            assertThat(job.message()).isEqualTo("cancelled while attempt 1 ran; its node stopped before the attempt"
                    + " ended, and it is not run again");
            List<JobAttempt> attempts = store.job(jobId).orElseThrow().attempts();
            assertThat(attempts).hasSize(1);
            assertThat(attempts.get(0).outcome()).isEqualTo(AttemptOutcome.INTERRUPTED);
            assertThat(attempts.get(0).message()).endsWith("; not run again: it was cancelled");
        }
    }

    /**
     * A job holding the only unit of a resource, cut short by its node's kill -9, keeps its place:
     * the job that has been waiting for that unit since does not take it first (tryout9, F1: a later
     * build's job took the board of the build whose flash was cut short). SQLite: a node started again on the
     * same data, whose sweep records the cut-short attempt; PostgreSQL: the node beside it, whose sweep of this
     * host records it, or, when the dead node's execution is put back before that sweep, which keeps the units
     * of its job, still marked running, until it is picked again (fence28).
     */
    void aJobCutShortByItsNodesDeathKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits() throws Exception {
        aBoardHoldersJobCutShortKeepsItsPlace(victim -> {
            victim.kill();
            return () -> { };
        }, null);
    }

    /**
     * A job holding the only unit of a resource, cut short by its node's graceful stop (its grace over before the
     * command ended), keeps its place: the job that has been waiting for that unit since does not take it first
     * (fence28, cluster27 F12: the stop, the node's own self-fencing and its watchdog's kill recorded the job
     * {@code QUEUED} without its place among the jobs waiting for units, and the waiting one took the board of the
     * half-done one). SQLite: the next node on the same data; PostgreSQL: a node running beside it.
     */
    @Test
    void aJobCutShortByAGracefulStopKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits() throws Exception {
        aBoardHoldersJobCutShortKeepsItsPlace(victim -> {
            // Its stdin closed: the engine stops, waits its grace (1 s) for the job, then kills it ("run again").
            victim.process.getOutputStream().close();
            await().atMost(Duration.ofMinutes(5)).until(() -> !victim.process.isAlive());
            return () -> { };
        }, "stopped by the shutdown of victim", "grace=1");
    }

    /**
     * cluster27 F12: a job holding the only unit of a resource whose node stops heart-beating (its JVM paused here; a
     * store outage in cluster27's run: the node fenced itself) is revived by another node after the dead-node limit,
     * its attempt still marked running; it keeps its place: the job that has been waiting for that unit since does not
     * take it first, neither while the revived execution waits to be picked (its units were freed by the next look)
     * nor when the taker picks it (it waited as from its pick, behind the job waiting since before). With no watchdog
     * (EngineNode's default) the paused node's command still runs: the taker's sweep kills it before the job starts
     * again, and, before the fix, the waiting job started on the board beside it. Run by the PostgreSQL test (a node
     * beside the paused one), woken once the job started again.
     */
    void aJobRevivedFromAStalledNodeKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits() throws Exception {
        aBoardHoldersJobCutShortKeepsItsPlace(victim -> {
            NodeProcess.signal("STOP", victim.process.pid());
            return () -> NodeProcess.signal("CONT", victim.process.pid());
        }, null);
    }

    /**
     * place30 (tryout30 F4): a job holding the only board, its node stopped gracefully during its flash (grace over),
     * then the next node stopped so too during its re-run (two deploys in a row), keeps its place both times: after
     * each restart its command is the next to start, not the job of the later build that has been waiting for the board
     * since before the first restart. Before, the units taken again at the first restart were taken as from then, and
     * the second stop placed the job behind the waiting one, which took the board of the half-done one. Real nodes one
     * after another on the same store (SQLite: the same data; PostgreSQL: one schema), real commands.
     */
    @Test
    void aJobCutShortTwiceByGracefulStopsKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits() throws Exception {
        aBoardHoldersJobCutShortTwiceKeepsItsPlace(node -> {
            // Its stdin closed: the engine stops, waits its grace (1 s) for the job, then kills it ("run again").
            node.process.getOutputStream().close();
            await().atMost(Duration.ofMinutes(5)).until(() -> !node.process.isAlive());
            return () -> { };
        }, "grace=1");
    }

    /** As {@link #aJobCutShortTwiceByGracefulStopsKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits}, by two kill -9. */
    @Test
    void aJobCutShortTwiceByItsNodesDeathsKeepsItsPlaceAheadOfTheJobsThatWaitedForItsUnits() throws Exception {
        aBoardHoldersJobCutShortTwiceKeepsItsPlace(node -> {
            node.kill();
            return () -> { };
        });
    }

    /**
     * flash-1 and flash-2 on a pool of one board: a node runs one, the other waits for the board; {@code cut} cuts that
     * node off and a node is started after it on the same store, twice. After each cut the next command started is the
     * holder's again, once its command before is gone; the board never has two commands at once.
     */
    private void aBoardHoldersJobCutShortTwiceKeepsItsPlace(Cut cut, String... nodeArgs) throws Exception {
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path board = traced("board.sh", events, go, "");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "resources:\n  boards: 1\n"
                + "rules:\n"
                + "  - name: flash\n"
                + "    run: {command: [/bin/sh, \"" + board + "\", \"flash-${build.id}\"], resources: {boards: 1},"
                + " timeout: 30m}\n");
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            List<String> args = new ArrayList<>(List.of("threads=2", "rules=" + rules, "builds=1,2"));
            args.addAll(List.of(nodeArgs));
            NodeProcess running = node("first", config, args.toArray(String[]::new));
            NodeProcess accepted = running;
            awaitOrExplain(store, () -> accepted.printed("ACCEPTED") && starts(events).size() == 1
                    && byLabel(store).values().stream().anyMatch(j -> j.state() == JobState.WAITING));
            String holder = starts(events).get(0).split(" ")[2];
            for (int restart = 1; restart <= 2; restart++) {
                int started = restart + 1;
                long command = Long.parseLong(starts(events).get(restart - 1).split(" ")[3]);
                cut.cut(running).undo();
                List<String> next = new ArrayList<>(List.of("threads=2"));
                next.addAll(List.of(nodeArgs));
                running = node("restart-" + restart, config, next.toArray(String[]::new));
                awaitOrExplain(store, () -> starts(events).size() == started);
                assertThat(AbstractCrashTest.isGone(command)).as("its command before was gone first").isTrue();
                assertThat(starts(events).get(restart).split(" ")[2])
                        .as("the job cut short started again first after restart %d", restart).isEqualTo(holder);
            }
            Files.createFile(go);
            awaitOrExplain(store, () -> byLabel(store).values().stream().allMatch(j -> j.state() == JobState.SUCCEEDED));
            assertThat(starts(events)).hasSize(4);
            assertNeverTwoAtOnce(store, events, "flash", "boards in use at once");
        }
    }

    /** How a test cuts the board holder's node off; what it returns undoes that once the job started again. */
    private interface Cut {
        Undo cut(NodeProcess victim) throws Exception;
    }

    private interface Undo {
        void undo() throws Exception;
    }

    /**
     * flash-1 and flash-2 on a pool of one board: the victim node runs one, the other waits for the board; {@code cut}
     * cuts the victim off; the next command started (on the taker: beside the victim on a cluster, on the same data
     * after it otherwise) is the holder's again, once the holder's first command is gone, and the board never has two
     * commands at once. {@code attemptSays}: how the holder's first attempt's record begins, null for no check.
     */
    private void aBoardHoldersJobCutShortKeepsItsPlace(Cut cut, String attemptSays, String... victimArgs)
            throws Exception {
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path board = traced("board.sh", events, go, "");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "resources:\n  boards: 1\n"
                + "rules:\n"
                + "  - name: flash\n"
                + "    run: {command: [/bin/sh, \"" + board + "\", \"flash-${build.id}\"], resources: {boards: 1},"
                + " timeout: 30m}\n");
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            List<String> args = new ArrayList<>(List.of("threads=2", "rules=" + rules, "builds=1,2"));
            args.addAll(List.of(victimArgs));
            NodeProcess victim = node("victim", config, args.toArray(String[]::new));
            awaitOrExplain(store, () -> victim.printed("ACCEPTED") && starts(events).size() == 1
                    && byLabel(store).values().stream().anyMatch(j -> j.state() == JobState.WAITING));
            String holder = starts(events).get(0).split(" ")[2];
            cutAndAwaitTheHoldersRestart(store, config, victim, cut, events);
            if (attemptSays != null) {
                assertThat(store.job(byLabel(store).get(holder).id()).orElseThrow().attempts().get(0).message())
                        .startsWith(attemptSays);
            }
            Files.createFile(go);
            awaitOrExplain(store, () -> byLabel(store).values().stream().allMatch(j -> j.state() == JobState.SUCCEEDED));
            assertThat(starts(events)).hasSize(3);
            assertNeverTwoAtOnce(store, events, "flash", "boards in use at once");
        }
    }

    /**
     * Cuts the victim off, holding what the first command started (in {@code events}) holds; the next command started
     * (on the taker: beside the victim on a cluster, on the same data after it otherwise) is that same job's again,
     * once its first command is gone. What {@code cut} did is undone then.
     */
    private void cutAndAwaitTheHoldersRestart(Store store, StoreConfig config, NodeProcess victim, Cut cut,
            Path events) throws Exception {
        String holder = starts(events).get(0).split(" ")[2];
        long command = Long.parseLong(starts(events).get(0).split(" ")[3]);
        NodeProcess taker = cluster() ? node("taker", config, "threads=2") : null;
        Undo undo = cut.cut(victim);
        try {
            if (taker == null) {
                node("taker", config, "threads=2");
            }
            awaitOrExplain(store, () -> starts(events).size() == 2);
            assertThat(AbstractCrashTest.isGone(command)).as("the holder's first command was gone first").isTrue();
            assertThat(starts(events).get(1).split(" ")[2]).as("the job cut short started again first")
                    .isEqualTo(holder);
        } finally {
            undo.undo();
        }
    }

    /** The commands of {@code rule}'s jobs, from their start and end lines in {@code events}, never ran two at once. */
    private static void assertNeverTwoAtOnce(Store store, Path events, String rule, String what) throws IOException {
        List<String> lines = Files.readAllLines(events);
        Map<String, String> jobOfLabel = new TreeMap<>();
        byLabel(store, rule).forEach((label, job) -> jobOfLabel.put(label, job.id()));
        assertThat(mostAtOnce(runs(store, lines, jobOfLabel))).as(what + ": %s", lines).isEqualTo(1L);
    }

    /**
     * A job of a {@code concurrency: 1} rule cut short by its node's kill -9 keeps its place in the
     * rule's line: the younger job waiting for the slot does not take it first (tryout12 F4: after a
     * kill -9 the deploy of build 5002 ran before the cut-short deploy of build 5001, which then ran
     * last and stayed deployed). Run by the SQLite test, as the one above.
     */
    void aJobCutShortByItsNodesDeathKeepsItsPlaceInItsRulesConcurrencyLine() throws Exception {
        aDeploysJobCutShortKeepsItsPlaceInItsRulesLine(victim -> {
            victim.kill();
            return () -> { };
        });
    }

    /**
     * slot28 (fence28's M): a job of a {@code concurrency: 1} rule whose node stops heart-beating (its JVM paused; no
     * watchdog, EngineNode's default, so its command still runs) is revived by the node beside it after the dead-node
     * limit, its attempt still marked running: it keeps its slot until that node picks it, the younger job waiting for
     * the slot does not take it meanwhile, and the rule never has two commands at once (the taker's sweep ends the
     * paused node's command before the job starts again). Run by the PostgreSQL test. It passed before the fix too: the
     * taker picks the revived execution (due in its place) in the same look as the younger one, so the window in which
     * the younger job could take the freed slot is a few milliseconds here; AbstractPickLeaseTest's
     * aJobRevivedFromASilentNodeKeepsItsRulesSlotUntilItIsPickedAgain takes the steps in that order.
     */
    void aJobRevivedFromAStalledNodeKeepsItsPlaceInItsRulesConcurrencyLine() throws Exception {
        aDeploysJobCutShortKeepsItsPlaceInItsRulesLine(victim -> {
            NodeProcess.signal("STOP", victim.process.pid());
            return () -> NodeProcess.signal("CONT", victim.process.pid());
        });
    }

    /**
     * deploy-1 and deploy-2 of a {@code concurrency: 1} rule: the victim node runs deploy-1, deploy-2 waits for the
     * slot; {@code cut} cuts the victim off; the next command started (on the taker: beside the victim on a cluster,
     * on the same data after it otherwise) is deploy-1's again, once its first command is gone, then deploy-2's, and
     * the rule never has two commands at once.
     */
    private void aDeploysJobCutShortKeepsItsPlaceInItsRulesLine(Cut cut) throws Exception {
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path deploy = traced("deploy.sh", events, go, "");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + deploy + "\", \"deploy-${build.id}\"], concurrency: 1,"
                + " timeout: 30m}\n");
        StoreConfig config = config(dir.resolve("data")).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        try (Store store = Store.open(config)) {
            NodeProcess victim = node("victim", config, "threads=2", "rules=" + rules, "builds=1,2");
            awaitOrExplain(store, () -> victim.printed("ACCEPTED") && starts(events).size() == 1
                    && byLabel(store, "deploy").size() == 2);
            assertThat(starts(events).get(0).split(" ")[2]).isEqualTo("deploy-1");
            cutAndAwaitTheHoldersRestart(store, config, victim, cut, events);
            Files.createFile(go);
            awaitOrExplain(store, () -> byLabel(store, "deploy").values().stream().allMatch(j -> j.state() == JobState.SUCCEEDED));
            assertThat(starts(events)).hasSize(3);
            assertThat(starts(events).get(2).split(" ")[2]).isEqualTo("deploy-2");
            assertNeverTwoAtOnce(store, events, "deploy", "deploys at once");
        }
    }

    /** The lines of the events file that start with {@code prefix}. */
    private static List<String> lines(Path events, String prefix) throws IOException {
        return Files.exists(events) ? Files.readAllLines(events).stream().filter(l -> l.startsWith(prefix)).toList()
                : List.of();
    }

    /** The {@code decided} column of the job's first attempt (null until written). */
    private static String decided(Store store, String jobId) throws SQLException {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT decided FROM job_attempts WHERE job_id = ? AND attempt = 1")) {
            p.setString(1, jobId);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private Path traced(String name, Path events, Path go, String last) throws IOException {
        return Files.writeString(dir.resolve(name), "#!/bin/sh\n"
                + "trap 'echo \"E $(date +%s%N) $1 $$\" >> " + events + "; exit 143' TERM\n"
                + "echo \"S $(date +%s%N) $1 $$\" >> " + events + "\n"
                // 'wait' lets the trap run at once; dash skips it when its foreground child dies of the same SIGTERM.
                // Ends with the test's folder too: a failed run leaves no script looping for ever.
                + "while [ ! -f " + go + " ] && [ ! -f " + go + "-$1 ]; do [ -d " + go.getParent()
                        + " ] || exit 1; sleep 0.05 & wait $!; done\n"
                + "echo \"E $(date +%s%N) $1 $$\" >> " + events + "\n" + last + "\n");
    }

    private NodeProcess node(String name, StoreConfig config, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of("url=" + config.url(), "data=" + dir.resolve("data")));
        all.addAll(heartbeat());
        all.addAll(List.of(args));
        return nodes.start(dir, name, all.toArray(String[]::new));
    }

    /** The latest heartbeat the killed node wrote for these jobs' executions: no node may take them before the limit. */
    private static Instant lastHeartbeat(Store store, List<String> jobIds) throws SQLException {
        Instant latest = Instant.EPOCH;
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(
                "SELECT last_heartbeat FROM scheduled_tasks WHERE task_name = ? AND task_instance = ? AND picked = ?")) {
            for (String id : jobIds) {
                p.setString(1, JobQueue.TASK_NAME);
                p.setString(2, id);
                p.setBoolean(3, true);
                try (ResultSet rs = p.executeQuery()) {
                    assertThat(rs.next()).as("execution of %s still picked by the killed node", id).isTrue();
                    Instant at = JobQueue.customization(store.dialect()).getInstant(rs, "last_heartbeat");
                    latest = at.isAfter(latest) ? at : latest;
                }
            }
        }
        return latest;
    }

    /**
     * Each run of a command as {start ns, end ns}, from its own S and E lines. A run the taker killed
     * as a leftover writes its E line from its SIGTERM trap, unless the shell is killed before it gets
     * there (dash may skip a trap when its child dies of the same signal); such a run ends at the end
     * its interrupted attempt was recorded with (of a job cut short more than once, the attempt whose record
     * names the run's process as killed), which is after its processes were gone: later than the truth, never
     * earlier.
     */
    private static List<long[]> runs(Store store, List<String> lines, Map<String, String> jobOfLabel) {
        List<long[]> out = new ArrayList<>();
        for (String start : starts(lines)) {
            String[] f = start.split(" ");
            Optional<String> end = lines.stream().filter(l -> l.startsWith("E ") && l.endsWith(" " + f[2] + " " + f[3]))
                    .findFirst();
            long endNs;
            if (end.isPresent()) {
                endNs = Long.parseLong(end.get().split(" ")[1]);
            } else {
                String job = jobOfLabel.get(f[2]);
                List<JobAttempt> killed = store.job(job).orElseThrow().attempts().stream()
                        .filter(a -> a.outcome() == AttemptOutcome.INTERRUPTED).toList();
                if (killed.size() > 1) {
                    // Cut short more than once: the attempt whose record names this run's process as killed.
                    killed = killed.stream().filter(a -> a.message() != null
                            && a.message().matches(".*killed what it left: (.*, )?" + f[3] + " .*")).toList();
                }
                assertThat(killed).as("run %s has no end line and was not killed: %s", start, lines).hasSize(1);
                Instant at = killed.get(0).endedAt();
                endNs = at.getEpochSecond() * 1_000_000_000L + at.getNano();
            }
            out.add(new long[] {Long.parseLong(f[1]), endNs});
        }
        return out;
    }

    /** The most runs at once. */
    static long mostAtOnce(List<long[]> runs) {
        List<long[]> changes = new ArrayList<>();
        for (long[] run : runs) {
            changes.add(new long[] {run[0], 1});
            changes.add(new long[] {run[1], -1});
        }
        // Ends before starts at the same instant: a unit given back can be taken at once.
        changes.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        long now = 0;
        long most = 0;
        for (long[] change : changes) {
            now += change[1];
            most = Math.max(most, now);
        }
        return most;
    }

    private static List<String> starts(Path events) throws IOException {
        return Files.exists(events) ? starts(Files.readAllLines(events)) : List.of();
    }

    private static List<String> starts(List<String> lines) {
        return lines.stream().filter(l -> l.startsWith("S ") && l.split(" ").length == 4).toList();
    }

    private static Job job(Store store, String id) {
        return store.job(id).orElseThrow().job();
    }

    private static List<Job> jobs(Store store, String rule) {
        return store.jobs(new JobQuery(null, rule, null, null, 500)).items();
    }

    /** The flash jobs by their label, {@code flash-<build id>}. */
    private static Map<String, Job> byLabel(Store store) {
        return byLabel(store, "flash");
    }

    private static Map<String, Job> byLabel(Store store, String rule) {
        Map<String, Job> out = new TreeMap<>();
        for (Job j : jobs(store, rule)) {
            out.put(j.argv().get(2), j);
        }
        return out;
    }

    /** Waits for an event with a bound only a hung test reaches; on failure, says where jobs and nodes are. */
    private void awaitOrExplain(Store store, Callable<Boolean> done) throws Exception {
        try {
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200)).until(done);
        } catch (ConditionTimeoutException e) {
            StringBuilder why = new StringBuilder(e.getMessage()).append("\njobs:");
            for (Job j : jobs(store, null)) {
                why.append("\n  ").append(j.id()).append(' ').append(j.ruleName()).append(' ').append(j.state())
                        .append(' ').append(Optional.ofNullable(j.message()).orElse(""));
            }
            Path events = dir.resolve("events");
            if (Files.exists(events)) {
                why.append("\nevents:\n").append(Files.readString(events));
            }
            for (NodeProcess n : nodes.all()) {
                why.append("\n--- ").append(n.name).append(n.process.isAlive() ? " (alive)" : " (ended)").append(":\n");
                for (Path f : List.of(n.out, n.out.resolveSibling(n.name + ".err"))) {
                    List<String> lines = Files.exists(f) ? Files.readAllLines(f) : List.of();
                    lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> why.append(l).append('\n'));
                }
            }
            throw new AssertionError(why.toString(), e);
        }
    }

    /**
     * Writes {@code hang.sh} into the test's folder: it appends {@code S <ns> <arg> <pid>} to {@code events}
     * when it starts and {@code T …} for every SIGTERM, which it ignores from its first line (only the
     * SIGKILL after the kill grace ends it), and runs until the test's folder is gone.
     */
    private Path hangScript(Path events) throws IOException {
        return Files.writeString(dir.resolve("hang.sh"), "#!/bin/sh\n"
                + "trap 'echo \"T $(date +%s%N) $1 $$\" >> " + events + "' TERM\n"
                + "echo \"S $(date +%s%N) $1 $$\" >> " + events + "\n"
                + "while [ -d " + dir + " ]; do sleep 0.05 & wait $!; done\n");
    }
}
