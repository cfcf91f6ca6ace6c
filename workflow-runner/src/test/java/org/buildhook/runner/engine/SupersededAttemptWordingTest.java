package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.runner.store.Plans;
import org.junit.jupiter.api.Test;

/**
 * tryout17 F8: when another node started a later attempt while this node's attempt ran, the line said
 * "another node started a later attempt while attempt 1 waited for the store", also after a pause of the
 * node's JVM alone, when nothing had waited for the store. It now says what is known: this node was not
 * heard from for longer than the dead-node limit, paused or stalled, or cut off from the store.
 *
 * <p>The other node's attempt is started as that node starts it, through the store's ledger ({@code
 * startAttempt}, which records the running attempt as interrupted first), while this node's command waits
 * for a file; then the command ends and this node finds its attempt no longer the latest.
 */
class SupersededAttemptWordingTest extends SqliteEngineFixture {

    @Override
    EngineConfig engineConfig() {
        return AbstractEngineTest.steady("node-a");
    }

    @Test
    void anAttemptOvertakenByAnotherNodesLaterAttemptSaysThisNodeWasNotHeardFromNotThatItWaitedForTheStore()
            throws Exception {
        Path started = dir.resolve("started");
        Path go = dir.resolve("go");
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("overtaken", List.of("/bin/sh",
                "-c", "touch " + started + "; while [ ! -e " + go + " ]; do sleep 0.05; done")))).jobIds().get(0);
        engine.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(started));

        assertThat(store.ledger().startAttempt(jobId, "node-b")).as("node-b's attempt").isEqualTo(2);
        Files.createFile(go);

        await().atMost(Duration.ofMinutes(1)).until(() -> !lines("another node started a later attempt").isEmpty());
        assertThat(lines("another node started a later attempt")).singleElement().isEqualTo("job " + jobId
                + ": another node started a later attempt while this node was not heard from (no heartbeat of node-a"
                + " seen for longer than the dead-node limit, 10s: this node paused or stalled, or cut off from the"
                + " store); the job is left to that node, and the attempt's history says how attempt 1 ended");
        assertThat(store.job(jobId).orElseThrow().job().attempts()).as("node-b's attempt stands").isEqualTo(2);
    }

    /**
     * review31: the other node ended the job for good without a later attempt (its node's deaths in a row) while this
     * node's command ran; the line said "another node started a later attempt", which no node had. It says what the
     * other node did: ended the job, in which state.
     */
    @Test
    void anAttemptWhoseJobAnotherNodeEndedSaysSoNotThatALaterAttemptStarted() throws Exception {
        Path started = dir.resolve("started-ended");
        Path go = dir.resolve("go-ended");
        String jobId = store.accept(Plans.delivery(Plans.fixture()), List.of(Plans.job("ended-elsewhere", List.of(
                "/bin/sh", "-c", "touch " + started + "; while [ ! -e " + go + " ]; do sleep 0.05; done"))))
                .jobIds().get(0);
        engine.start();
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(started));

        java.time.Instant now = java.time.Instant.now();
        store.ledger().finishWithoutAttempt(jobId, 1, new org.buildhook.runner.exec.JobOutcome(
                org.buildhook.runner.exec.JobOutcome.Result.FAILED, null, now, now, "not run again: died in a row",
                null, false), org.buildhook.runner.store.JobState.FAILED, -1, null);
        Files.createFile(go);

        await().atMost(Duration.ofMinutes(1)).until(() -> !lines("job " + jobId + ": another node").isEmpty());
        assertThat(lines("job " + jobId + ": another node")).singleElement().isEqualTo("job " + jobId
                + ": another node ended the job (FAILED) while this node was not heard from (no heartbeat of node-a"
                + " seen for longer than the dead-node limit, 10s: this node paused or stalled, or cut off from the"
                + " store); the job is left as that node ended it, and the attempt's history says how attempt 1 ended");
        assertThat(store.job(jobId).orElseThrow().job().state()).isEqualTo(org.buildhook.runner.store.JobState.FAILED);
    }

    private List<String> lines(String containing) {
        synchronized (log) { // AppenderBase appends under its own lock
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(containing))
                    .toList();
        }
    }
}
