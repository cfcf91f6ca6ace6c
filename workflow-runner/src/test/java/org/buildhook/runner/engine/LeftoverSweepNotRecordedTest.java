package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.spy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.exec.AttemptMarker;
import org.buildhook.runner.store.ExecutionLedger;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A node that kills what a dead node left but cannot record it (the store cannot write: a full disk,
 * an outage) said nothing, and the record written once the store could write said "none of its
 * processes was left", though this node had killed them (tryout12 F3). Now the failed record is said
 * at WARN with what was killed, and the later record names it. The store's failure is the one
 * injected seam; the leftover is a real process carrying the attempt's marker, killed for real.
 */
class LeftoverSweepNotRecordedTest {

    @TempDir
    Path dir;
    private Store store;
    private String jobId;
    private ProcessHandle leftover;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(LeftoverSweep.class);

    @BeforeEach
    void aDeadNodesAttemptWithALeftover() throws Exception {
        store = Store.open(TestStores.sqlite(dir));
        jobId = store.accept(Plans.delivery("{\"build_id\": 1}"),
                List.of(Plans.job("deploy", List.of("/bin/true"), Map.of(), 0, Duration.ZERO, 0))).jobIds().get(0);
        assertThat(store.ledger().startAttempt(jobId, "old-node")).isEqualTo(1);
        // Its node: a process of this host that has ended.
        Process dead = new ProcessBuilder("/bin/true").start();
        assertThat(dead.waitFor()).isZero();
        try (Connection c = store.dataSource().getConnection();
                PreparedStatement p = c.prepareStatement("UPDATE job_attempts SET node_pid = ? WHERE job_id = ?")) {
            p.setLong(1, dead.pid());
            p.setString(2, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
        // A session of its own, as a job's, and not a child of this JVM once setsid -f has forked: as a
        // dead node's leftover, reparented.
        Path pidFile = dir.resolve("leftover.pid");
        ProcessBuilder sleeper = new ProcessBuilder("setsid", "-f", "/bin/sh", "-c",
                "echo $$ > " + pidFile + ".tmp && mv " + pidFile + ".tmp " + pidFile + " && exec sleep 600");
        sleeper.environment().put(AttemptMarker.VARIABLE, AttemptMarker.of(jobId, 1).value());
        assertThat(sleeper.start().waitFor()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(pidFile));
        leftover = ProcessHandle.of(Long.parseLong(Files.readString(pidFile).trim())).orElseThrow();
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void close() {
        logger.detachAppender(log);
        leftover.destroyForcibly();
        store.close();
    }

    @Test
    void whatWasKilledButNotRecordedIsSaidAndNamedByTheRecordWrittenLater() throws Exception {
        LeftoverSweep sweep = new LeftoverSweep(recordFailsAfterItsKill(true), "node-a");

        assertThatThrownBy(sweep::sweepDeadNodes).hasMessageContaining("injected");
        await().atMost(Duration.ofSeconds(30)).until(() -> !leftover.isAlive());
        String name = leftover.pid() + " sleep";
        assertThat(leftover.isAlive()).isFalse();
        assertThat(log.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage()).startsWith("job " + jobId + " attempt 1: its node old-node was gone"
                    + " before the attempt's end was recorded; node node-a killed what it left (" + name + "), but"
                    + " could not record it: ").contains("until the store can write again");
        });

        sweep.sweepDeadNodes(); // the store writes again; nothing is left to kill

        String recorded = store.job(jobId).orElseThrow().attempts().get(0).message();
        assertThat(recorded).contains("node node-a killed what it left: " + name).doesNotContain("none of its");
        assertThat(log.list).last().satisfies(event -> assertThat(event.getFormattedMessage()).contains(name));
    }

    @Test
    void aKillNotRecordedHereIsForgottenOnceAnotherNodeRecordedTheAttempt() throws Exception {
        LeftoverSweep sweep = new LeftoverSweep(recordFailsAfterItsKill(false), "node-a");
        assertThatThrownBy(sweep::sweepDeadNodes).hasMessageContaining("injected");
        assertThat(sweep.killedNotRecorded()).isEqualTo(1);

        // Another node's sweep records the attempt first.
        assertThat(store.ledger().interruptLeftover(jobId, 1, () -> "recorded by node-b")).isPresent();
        sweep.sweepDeadNodes();

        assertThat(sweep.killedNotRecorded()).as("nothing kept for an attempt no longer running").isZero();
    }

    /**
     * The store's ledger whose record of an interrupted attempt fails (an injected outage) after its
     * kill ran, every time, or only the first time when {@code thenWorks}.
     */
    private ExecutionLedger recordFailsAfterItsKill(boolean thenWorks) throws Exception {
        ExecutionLedger ledger = spy(store.ledger());
        org.mockito.stubbing.Stubber failing = doAnswer(call -> {
            ExecutionLedger.LeftoverKill kill = call.getArgument(2);
            kill.kill();
            throw AbstractStoreOutageTest.outage();
        });
        (thenWorks ? failing.doCallRealMethod() : failing).when(ledger).interruptLeftover(anyString(), anyInt(), any(),
                any(org.buildhook.runner.store.NodeEnd.class));
        return ledger;
    }
}
