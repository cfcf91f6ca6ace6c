package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Page;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three runner JVMs on one PostgreSQL: 1,000 deliveries accepted across them run exactly once
 * each, and the jobs of a node killed mid-job are finished by the others.
 */
class PostgresClusterTest {

    static final int QUICK = 1000;
    static final int SLOW = 3;

    @TempDir
    Path dir;

    @Test
    void threeNodesRunEveryJobOnceAndFinishTheJobsOfAKilledNode() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"))
                .withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        Path runs = dir.resolve("runs");
        Path events = dir.resolve("events");
        Path marker = dir.resolve("go");
        // O_APPEND writes of one short line are atomic, so concurrent jobs do not interleave.
        Path quick = Files.writeString(dir.resolve("quick.sh"), "#!/bin/sh\necho \"$1\" >> " + runs + "\n");
        Path slow = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\necho \"start $1 $$ $PPID\" >> " + events
                + "\nwhile [ ! -f " + marker + " ]; do [ -d " + marker.getParent()
                        + " ] || exit 1; sleep 0.05; done\necho \"$1\" >> " + runs + "\n");
        List<NodeProcess> nodes = new ArrayList<>();
        try (Store store = Store.open(config)) {
            int[] quickPerNode = {334, 333, 333};
            for (int i = 0; i < 3; i++) {
                nodes.add(NodeProcess.start(dir, "node" + i, "url=" + config.url(), "data=" + dir.resolve("data"),
                        "threads=4", "slow=" + (i == 0 ? SLOW : 0), "quick=" + quickPerNode[i],
                        "slowScript=" + slow, "quickScript=" + quick, "label=n" + i));
            }
            awaitOrExplain(store, nodes, nodes, () -> count(store, "quick", JobState.SUCCEEDED) == QUICK
                    && Files.exists(events) && Files.readAllLines(events).stream().anyMatch(l -> l.split(" ").length == 4));

            // Kill -9 a node that is running a slow job; its commands are orphaned, not killed.
            String line = Files.readAllLines(events).stream().filter(l -> l.startsWith("start ")).findFirst().orElseThrow();
            long victimPid = Long.parseLong(line.split(" ")[3]);
            NodeProcess victim = nodes.stream().filter(n -> n.process.pid() == victimPid).findFirst().orElseThrow();
            List<Long> orphans = Files.readAllLines(events).stream().map(l -> l.split(" "))
                    .filter(f -> f.length == 4 && Long.parseLong(f[3]) == victimPid)
                    .map(f -> Long.parseLong(f[2])).toList();
            victim.kill();

            // A live node of the same host ends them (no test does it by hand any more).
            await().atMost(Duration.ofMinutes(5)).until(() -> orphans.stream().allMatch(AbstractCrashTest::isGone));
            Files.createFile(marker);

            awaitOrExplain(store, nodes, nodes.stream().filter(n -> n != victim).toList(),
                    () -> count(store, null, JobState.SUCCEEDED) == QUICK + SLOW);

            Map<String, Long> perLabel = Files.readAllLines(runs).stream()
                    .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
            assertThat(perLabel).hasSize(QUICK + SLOW);
            assertThat(perLabel.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey).toList())
                    .as("jobs run twice; the jobs with more than one attempt: %s", retried(store)).isEmpty();
            List<Job> slowJobs = store.jobs(new JobQuery(null, "slow", null, null, 10)).items();
            for (Job job : slowJobs) {
                List<JobAttempt> attempts = store.job(job.id()).orElseThrow().attempts();
                JobAttempt last = attempts.get(attempts.size() - 1);
                assertThat(last.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
                if (attempts.size() > 1) {
                    JobAttempt killed = attempts.get(0);
                    assertThat(killed.node()).isEqualTo(victim.name);
                    assertThat(last.node()).isNotEqualTo(victim.name);
                    // Its processes were killed, and that recorded, before the job started again.
                    assertThat(killed.message()).startsWith("its node " + victim.name + " was gone before the attempt's"
                            + " end was recorded; node ").contains(" killed what it left: ");
                    assertThat(killed.endedAt()).isBeforeOrEqualTo(attempts.get(1).startedAt());
                }
            }
            assertThat(slowJobs).anyMatch(j -> j.attempts() > 1);
        } finally {
            for (NodeProcess n : nodes) {
                n.kill();
            }
        }
    }

    /**
     * Waits for {@code done}: an event, with an upper bound only a hung test reaches, however loaded
     * the machine; stops waiting as soon as one of {@code alive} has ended. Either way, says where
     * every job is and what the nodes printed.
     */
    private static void awaitOrExplain(Store store, List<NodeProcess> nodes, List<NodeProcess> alive,
            Callable<Boolean> done) throws Exception {
        try {
            await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(500)).until(() -> {
                for (NodeProcess n : alive) {
                    if (!n.process.isAlive()) {
                        throw new IllegalStateException(n.name + " ended");
                    }
                }
                return done.call();
            });
        } catch (ConditionTimeoutException | IllegalStateException e) {
            StringBuilder why = new StringBuilder(e.getMessage()).append("\njobs by state:");
            for (JobState state : JobState.values()) {
                why.append(' ').append(state).append('=').append(count(store, null, state));
            }
            for (NodeProcess n : nodes) {
                why.append("\n--- ").append(n.name).append(n.process.isAlive() ? " (alive)" : " (ended)").append(":\n");
                for (Path f : List.of(n.out, n.out.resolveSibling(n.name + ".err"))) {
                    List<String> lines = Files.exists(f) ? Files.readAllLines(f) : List.of();
                    lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> why.append(l).append('\n'));
                }
            }
            throw new AssertionError(why.toString(), e);
        }
    }

    /** Every attempt of the jobs tried more than once, for a failure's message. */
    private static String retried(Store store) {
        StringBuilder text = new StringBuilder();
        for (JobState state : JobState.values()) {
            String cursor = null;
            do {
                Page<Job> page = store.jobs(new JobQuery(state, null, null, cursor, 500));
                for (Job job : page.items()) {
                    if (job.attempts() > 1) {
                        text.append("\n").append(job.id()).append(' ').append(job.ruleName()).append(':');
                        store.job(job.id()).orElseThrow().attempts().forEach(a -> text.append("\n  ").append(a));
                    }
                }
                cursor = page.nextCursor();
            } while (cursor != null);
        }
        return text.toString();
    }

    static int count(Store store, String rule, JobState state) {
        int total = 0;
        String cursor = null;
        do {
            Page<Job> page = store.jobs(new JobQuery(state, rule, null, cursor, 500));
            total += page.items().size();
            cursor = page.nextCursor();
        } while (cursor != null);
        return total;
    }

}
