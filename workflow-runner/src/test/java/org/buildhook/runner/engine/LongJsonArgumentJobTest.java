package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Plans;
import org.junit.jupiter.api.Test;

/**
 * review40 F1: a job whose command or environment holds a JSON string of some thousands of characters (a request body
 * given to {@code curl -d}, a JSON document in a variable) made the redaction's patterns recurse once per character
 * ({@code (?:[^"\\]|\\.)*}), and a thread of the usual stack size (1 MiB: the job threads, Jetty's) ended in a
 * StackOverflowError: the job never started, and every list that showed it failed.
 */
class LongJsonArgumentJobTest extends SqliteEngineFixture {

    @Override
    EngineConfig engineConfig() {
        return AbstractEngineTest.fast("node-a");
    }

    @Test
    void aJobWithALongJsonStringInItsCommandAndEnvironmentRunsAndIsShown() throws Exception {
        String body = "{\"text\": \"" + "x".repeat(50_000) + "\", \"password\": \"p4ssw0rd-in-json\"}";
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("notify",
                List.of("/bin/sh", "-c", "echo sent; echo p4ssw0rd-in-json", body), Map.of("BODY", body), 0,
                Duration.ofMillis(100), 0))).jobIds().get(0);
        engine.start();

        await().atMost(Duration.ofMinutes(1)).until(() -> runsOnADefaultStack(() -> store.job(jobId).orElseThrow()
                .job().state().isFinal()));
        JobDetail done = runsOnADefaultStack(() -> store.job(jobId).orElseThrow());
        assertThat(done.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.job().argv().get(3)).startsWith("{\"text\": \"xxx").endsWith("\"password\": \"***\"}");
        assertThat(Files.readString(java.nio.file.Path.of(done.attempts().get(0).logPath())))
                .isEqualTo("sent\n***\n");
    }

    /** {@code call} on a thread of the JVM's default stack size, as Jetty's and the job threads are. */
    static <T> T runsOnADefaultStack(java.util.concurrent.Callable<T> call) throws Exception {
        java.util.concurrent.FutureTask<T> task = new java.util.concurrent.FutureTask<>(call);
        Thread t = new Thread(null, task, "default-stack", 0);
        t.start();
        try {
            return task.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("failed on a thread of the default stack size", e.getCause());
        }
    }
}
