package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output and stdin of the jobs go through the launcher's pool, which ends with it. */
class OutputThreadsTest {

    @TempDir
    Path dir;
    Fixtures fixtures;
    final List<Thread> made = new CopyOnWriteArrayList<>();
    final ThreadFactory recording = task -> {
        Thread thread = new JobThreadFactory("test-output", true).newThread(task);
        made.add(thread);
        return thread;
    };

    @BeforeEach
    void setUp() {
        fixtures = new Fixtures(dir);
    }

    @AfterEach
    void tearDown() {
        fixtures.close();
    }

    private CommonsExecLauncher launcher(ExecutorService outputThreads) {
        return new CommonsExecLauncher(fixtures.config(), Clock.systemUTC(), fixtures.jobThreads, fixtures.scheduler,
                outputThreads);
    }

    @Test
    void copiesTheOutputOfJobAfterJobOnTheSamePooledThread() throws Exception {
        // One thread at most: enough for jobs without stdin run one after the other, and proof
        // that no job starts a thread of its own to copy its output.
        try (CommonsExecLauncher launcher = launcher(Executors.newFixedThreadPool(1, recording))) {
            for (int i = 0; i < 5; i++) {
                Path script = fixtures.script("say-" + i + ".sh", "echo out-" + i + "; echo err-" + i + " >&2");

                JobOutcome outcome = launcher.start(Fixtures.request("job-" + i, script)).outcome()
                        .get(60, TimeUnit.SECONDS);

                assertThat(outcome.succeeded()).isTrue();
                assertThat(Files.readString(outcome.logFile())).isEqualTo("out-" + i + "\nerr-" + i + "\n");
            }
        }
        assertThat(made).hasSize(1);
    }

    @Test
    void keepsStdoutAndStderrInTheOrderTheyWereWritten() throws Exception {
        Path script = fixtures.script("mixed.sh", "for i in 1 2 3 4 5 6 7 8; do echo out-$i; echo err-$i >&2; done");
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 8; i++) {
            expected.append("out-").append(i).append("\nerr-").append(i).append('\n');
        }

        try (CommonsExecLauncher launcher = launcher(Executors.newCachedThreadPool(recording))) {
            JobOutcome outcome = launcher.start(Fixtures.request("mixed", script)).outcome().get(60, TimeUnit.SECONDS);

            assertThat(Files.readString(outcome.logFile())).isEqualTo(expected.toString());
        }
    }

    @Test
    void endsItsPooledThreadsWhenClosed() throws Exception {
        CommonsExecLauncher launcher = launcher(Executors.newCachedThreadPool(recording));
        Path script = fixtures.script("cat.sh", "cat");
        byte[] stdin = "payload\n".getBytes(StandardCharsets.UTF_8);
        JobOutcome outcome = launcher.start(new JobRequest(Fixtures.jobId("cat"), 1, List.of(script.toString()), java.util.Map.of(),
                null, stdin, Duration.ofMinutes(1))).outcome().get(60, TimeUnit.SECONDS);
        assertThat(Files.readString(outcome.logFile())).isEqualTo("payload\n");
        assertThat(made).isNotEmpty().anyMatch(Thread::isAlive);

        launcher.close();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(made).noneMatch(Thread::isAlive));
    }

    @Test
    void refusesJobsAfterCloseWithoutTouchingThePool() throws Exception {
        CommonsExecLauncher launcher = launcher(Executors.newCachedThreadPool(recording));
        launcher.close();
        Path script = fixtures.script("true.sh", "exit 0");

        JobOutcome outcome = launcher.start(Fixtures.request("late", script)).outcome().get(60, TimeUnit.SECONDS);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(made).isEmpty();
    }
}
