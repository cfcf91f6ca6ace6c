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
        Path slow = Files.writeString(dir.resolve("slow.sh"), "#!/bin/sh\necho \"start $1 $$\" >> " + events + "\n"
                + "while [ ! -f " + marker + " ]; do sleep 0.05; done\necho \"end $1\" >> " + events + "\n");
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
                        .allSatisfy(a -> assertThat(a.message()).startsWith("its node first died before the attempt"
                                + " ended; node second killed what it left: "));
            }
        } finally {
            first.kill();
            second.kill();
        }
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
