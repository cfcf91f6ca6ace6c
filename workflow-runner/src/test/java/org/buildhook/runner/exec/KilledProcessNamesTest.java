package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * review56 F4: a process the SIGKILL rounds at a job's end killed was named after the rounds, from {@code /proc}; one
 * that a parent of its own reaped at once (a daemon's shell in {@code wait}, init reaping an orphan) was gone by then,
 * and the outcome named it twice: {@code (2 had left the job's session: 18338 sleep, 18338 ?)} (review56: 3 of 8 jobs).
 * The reap before the names is made certain here ({@link ProcessTree#afterKillRounds} waits for it) instead of hit by
 * chance. No cgroups, no subreaper: the WAR's default.
 */
@EnabledOnOs(OS.LINUX)
class KilledProcessNamesTest extends LauncherTest {

    @RegisterExtension
    static final CgroupsOff CGROUPS_OFF = new CgroupsOff();

    @BeforeEach
    void shortGraceNoSubreaper() {
        assertThat(Orphans.active()).as("this JVM a child subreaper").isFalse();
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withKillGrace(Duration.ofMillis(300)));
    }

    @AfterEach
    void disarm() {
        ProcessTree.afterKillRounds = null;
    }

    @Test
    void aDetachedProcessSigkilledAndReapedAtOnceIsNamedOnceByItsName() throws Exception {
        Path pidFile = dir.resolve("daemon.pid");
        // A shell of a session of its own, without the marker, that waits for its sleep, which ignores SIGTERM and
        // carries the marker: only the sleep is the job's, and its shell reaps it as soon as SIGKILL ends it.
        String script = "M=$BUILDHOOK_ATTEMPT; (setsid env -i M=$M /bin/sh -c 'trap \"\" TERM;"
                + " BUILDHOOK_ATTEMPT=$M sleep 1000 & echo $! > " + pidFile + "; wait; sleep 30' </dev/null >/dev/null"
                + " 2>&1 &); while [ ! -s '" + pidFile + "' ]; do sleep 0.05; done; exit 0";
        ProcessTree.afterKillRounds = killed -> {
            long daemon = Files.exists(pidFile) ? daemon(pidFile) : -1;
            if (killed.stream().anyMatch(p -> p.pid() == daemon)) {
                await().atMost(Duration.ofSeconds(60)).alias("the killed sleep reaped by its shell")
                        .until(() -> ProcStat.of(daemon) == null);
            }
        };
        JobOutcome outcome = launcher.start(new JobRequest(Fixtures.jobId("killed-names"), 1,
                List.of("/bin/sh", "-c", script), Map.of(), null, null, Duration.ofMinutes(10)))
                .outcome().get(5, TimeUnit.MINUTES);
        long daemon = daemon(pidFile);
        assertThat(outcome.message()).endsWith("1 leftover process(es) terminated (1 had left the job's session: "
                + daemon + " sleep)");
    }

    private static long daemon(Path pidFile) {
        try {
            return Long.parseLong(Files.readString(pidFile).trim());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
