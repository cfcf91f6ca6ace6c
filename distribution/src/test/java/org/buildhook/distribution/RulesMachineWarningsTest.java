package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.buildhook.servlet.BuildhookApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What {@code buildhook check} warns about a valid rules file on this machine (a program that does
 * not exist or is not executable) a real server says in its log too, at start and at each reload:
 * a hot-reloaded rule naming a script not deployed yet would otherwise show only as a failed job.
 */
class RulesMachineWarningsTest {

    @TempDir
    Path dir;

    @Test
    void aRuleWhoseProgramIsMissingIsWarnedAboutAtStartAndAtEachReloadWithItsLine() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: deploy",
                "    run: {command: [/no/such/deploy.sh]}",
                ""));
        Path config = TestConfig.write(dir, "rules: rules.yaml", TestConfig.LOCAL_SERVER);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                BuildhookApplication.class);
        logger.addAppender(log);
        try (BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            assertThat(warnings(log)).anySatisfy(w -> assertThat(w).startsWith(rules + ":3:")
                    .contains("rule 'deploy': executable not found: /no/such/deploy.sh")
                    .contains("its jobs will fail to start on this node"));

            Path notExecutable = Files.writeString(dir.resolve("archive.sh"), "#!/bin/sh\n");
            Files.writeString(rules, String.join("\n",
                    "rules:",
                    "  - name: archive",
                    "    run: {command: [" + notExecutable + "]}",
                    ""));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(warnings(log))
                    .anySatisfy(w -> assertThat(w).startsWith(rules + ":3:")
                            .contains("rule 'archive': permission denied: " + notExecutable + " is not executable")));
        } finally {
            logger.detachAppender(log);
        }
    }

    private static List<String> warnings(ListAppender<ILoggingEvent> log) {
        synchronized (log) {
            return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                    .toList();
        }
    }
}
