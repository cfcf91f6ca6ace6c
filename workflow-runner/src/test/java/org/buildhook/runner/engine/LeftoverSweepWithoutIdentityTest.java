package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A job whose attempt is still marked running, recorded by a buildhook that kept no host and process
 * identity (before an upgrade), is run again without its leftovers being looked for, since nothing
 * says where they are: it was run again in silence (tryout11 F7, point 3). It now says so.
 */
class LeftoverSweepWithoutIdentityTest {

    @TempDir
    Path dir;
    private Store store;
    private String jobId;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(LeftoverSweep.class);

    @BeforeEach
    void aJobWithARunningAttempt() {
        store = Store.open(TestStores.sqlite(dir));
        jobId = store.accept(Plans.delivery("{\"build_id\": 1}"),
                List.of(Plans.job("deploy", List.of("/bin/true"), Map.of(), 0, Duration.ZERO, 1))).jobIds().get(0);
        assertThat(store.ledger().startAttempt(jobId, "old-node")).isEqualTo(1);
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void close() {
        logger.detachAppender(log);
        store.close();
    }

    @Test
    void anAttemptRecordedWithoutIdentityIsNamedWhenItsJobRunsAgain() throws Exception {
        sql("UPDATE job_attempts SET boot_id = NULL, node_pid = NULL, node_started = NULL WHERE job_id = ?");

        new LeftoverSweep(store.ledger(), "node-a").beforeRerun(jobId);

        assertThat(log.list).singleElement().satisfies(event -> {
            assertThat(event.getLevel()).isEqualTo(Level.WARN);
            assertThat(event.getFormattedMessage()).startsWith("job " + jobId + " runs again, but its attempt 1 (node"
                    + " old-node) was recorded without the host and process identity").contains("stop that server");
        });
    }

    @Test
    void anAttemptOfAnotherHostWithItsIdentityIsLeftToThatHostWithoutAWarning() throws Exception {
        sql("UPDATE job_attempts SET boot_id = 'another-boot/pid:[4026531836]' WHERE job_id = ?");

        new LeftoverSweep(store.ledger(), "node-a").beforeRerun(jobId);

        assertThat(log.list).isEmpty();
        assertThat(LeftoverSweep.withoutIdentity("")).isTrue();
        assertThat(LeftoverSweep.withoutIdentity("0f1e2d3c-boot")).isTrue();
    }

    private void sql(String statement) throws Exception {
        try (Connection c = store.dataSource().getConnection(); PreparedStatement p = c.prepareStatement(statement)) {
            p.setString(1, jobId);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }
    }
}
