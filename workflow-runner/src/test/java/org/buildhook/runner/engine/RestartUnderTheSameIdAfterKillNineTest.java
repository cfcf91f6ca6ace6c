package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node killed ({@code kill -9}) and started again under the same node id, as a container's server is under tini
 * (the default {@code <hostname>-<pid>} is {@code <container id>-6} at every start), or any node with its {@code
 * runner.node-id}; its job a bash script that cleans up on SIGTERM, waiting on a {@code sleep}, as tryout44 ran it.
 *
 * <p>tryout44 F7: the start said "its node 60cfc7ac3282-6 was gone before the attempt's end was recorded" while it
 * ran as 60cfc7ac3282-6 itself; it now names the earlier run (its JVM's pid and start). tryout44 F10: the sweep's
 * SIGTERM ended the script's {@code sleep}, bash's report of it went into the dead JVM's output pipe, and the SIGPIPE
 * killed bash before its trap ran; the job ran again within a second. The trap now runs, and the job runs again only
 * once the script is gone (it holds a lock the next copy takes without waiting). SQLite: the sweep is the store's
 * neither way.
 */
class RestartUnderTheSameIdAfterKillNineTest {

    private static final String NODE = "box-6";

    @TempDir
    Path dir;

    @Test
    void theStartNamesTheEarlierRunAndTheLeftoversTrapRunsBeforeTheJobRunsAgain() throws Exception {
        StoreConfig config = TestStores.sqlite(dir.resolve("data"));
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path lock = dir.resolve("lock");
        // Run by /bin/sh: bash in its place. Its trap writes, then exits; 'sleep 1' in the foreground, as tryout44's.
        Path script = Files.writeString(dir.resolve("cleanup.sh"), "[ -n \"$BASH_VERSION\" ] || exec /bin/bash \"$0\" \"$@\"\n"
                + "exec 9>>" + lock + "\n"
                + "flock -n 9 || echo \"overlap $$\" >> " + events + "\n"
                + "trap 'echo \"trap $$\" >> " + events + "; exit 143' TERM\n"
                + "echo \"start $$\" >> " + events + "\n"
                + "while [ ! -f " + go + " ]; do [ -d " + dir + " ] || exit 1; sleep 1; done\n");
        String[] common = NodeProcess.hourLimit(config, dir.resolve("data"), 1);
        NodeProcess first = NodeProcess.start(dir, NODE, AbstractCrashTest.concat(common, "slow=1",
                "slowScript=" + script, "label=job"));
        NodeProcess second = null;
        try {
            await().atMost(Duration.ofMinutes(5)).until(() -> lines(events).size() == 1
                    && !ProcessHandle.of(pidOf(lines(events).get(0))).map(p -> p.children().toList())
                            .orElse(List.of()).isEmpty());
            long leftover = pidOf(lines(events).get(0));
            Instant started = first.process.info().startInstant().orElseThrow().truncatedTo(ChronoUnit.SECONDS);
            long pid = first.process.pid();
            first.kill();

            second = NodeProcess.start(Files.createDirectories(dir.resolve("again")), NODE, common);
            await().atMost(Duration.ofMinutes(5)).until(() -> lines(events).stream().filter(l -> l.startsWith("start "))
                    .count() == 2);
            List<String> lines = lines(events);
            assertThat(lines).as("its trap ran, then the job ran again; no copy beside another").hasSize(3)
                    .startsWith("start " + leftover, "trap " + leftover);
            assertThat(lines.get(2)).startsWith("start ").isNotEqualTo("start " + leftover);
            Files.createFile(go);
            try (Store store = Store.open(config)) {
                List<JobAttempt> attempts = AbstractCrashTest.succeededAtItsSecondAttempt(store).attempts();
                assertThat(attempts).extracting(JobAttempt::node).containsOnly(NODE);
                assertThat(attempts.get(0).message()).startsWith("its node " + NODE + "'s earlier run (pid " + pid
                        + ", started " + started + ") was gone before the attempt's end was recorded; node " + NODE
                        + " killed what it left: " + leftover + " bash");
            }
        } finally {
            first.kill();
            if (second != null) {
                second.stop();
                second.kill();
            }
        }
    }

    private static List<String> lines(Path events) throws java.io.IOException {
        return Files.exists(events) ? Files.readAllLines(events) : List.of();
    }

    private static long pidOf(String line) {
        return Long.parseLong(line.substring(line.indexOf(' ') + 1));
    }
}
