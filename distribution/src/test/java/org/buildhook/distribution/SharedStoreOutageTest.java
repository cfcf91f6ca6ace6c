package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.buildhook.distribution.reliability.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL away for every node of a cluster for longer than the dead-node limit, while a job's command ends
 * (cluster27 F8): the job runs exactly once. The node that comes back first must not take the job's node for
 * dead because its heartbeat is older than the limit — its own is too: nobody could write one. Two real
 * {@code serve} processes on one schema, each through a {@link TcpProxy} of its own; both are cut, the command
 * ends, and after the limit the other node's proxy is opened first and the job's node's only once the other node
 * has looked at the job (its log says what it decided): before the fix it ran the job again at that look. The
 * job's node then has the whole limit (25 s) to record the end. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped
 * without it, except on CI where it fails.
 */
class SharedStoreOutageTest extends AbstractProxiedServeTest {

    SharedStoreOutageTest() {
        super("shared_");
    }

    @Test
    void aJobWhoseCommandEndsWhileTheStoreIsAwayForEveryNodePastTheLimitRunsOnce() throws Exception {
        Path trace = dir.resolve("trace");
        Path go = dir.resolve("go");
        Path hold = Files.writeString(dir.resolve("hold.sh"), "#!/bin/sh\necho \"start $$\" >> " + trace
                + "\nwhile [ ! -f " + go + " ]; do sleep 0.05; done\necho \"end $$\" >> " + trace + "\n");
        Files.setPosixFilePermissions(hold, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-shared-outage-test\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: hold\n    run: {command: [" + hold
                + "], stdin: off}\n");
        URI target = URI.create(pg.url.substring("jdbc:".length()));
        TcpProxy second = new TcpProxy(target.getHost(), target.getPort() < 0 ? 5432 : target.getPort());
        try {
            int secondPort = second.open();
            String secondUrl = pg.storeUrlGenerousLogins.replaceFirst("127\\.0\\.0\\.1:\\d+", "127.0.0.1:" + secondPort);
            processes = new ServeProcesses(dir);
            Process a = clusterNode("node-a", pg.storeUrlGenerousLogins);
            Process b = clusterNode("node-b", secondUrl);
            URI base = ServeProcesses.awaitUrl(a, dir.resolve("node-a").resolve("data"));
            ServeProcesses.awaitUrl(b, dir.resolve("node-b").resolve("data"));
            java.io.StringWriter said = new java.io.StringWriter();
            assertThat(ServeProcesses.sendSample(base, dir, said)).as(said.toString()).isZero();
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(trace) && lines(trace, "start") == 1);
            String owner = one("SELECT node FROM " + pg.schema + ".job_attempts");
            String jobId = one("SELECT job_id FROM " + pg.schema + ".job_attempts");
            TcpProxy ownerProxy = owner.equals("node-a") ? pg.proxy : second;
            TcpProxy otherProxy = owner.equals("node-a") ? second : pg.proxy;
            Path otherOut = dir.resolve(owner.equals("node-a") ? "node-b.out" : "node-a.out");

            ownerProxy.cut();
            otherProxy.cut();
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(1)).until(() -> lines(trace, "end") == 1);
            // The outage outlasts the dead-node limit (1 s x 25) from the job's last heartbeat: not a synchronisation.
            Thread.sleep(29_000);
            otherProxy.open();
            // The other node's look at the job, whatever it decided (before the fix: taken for dead, run again).
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.readAllLines(otherOut).stream()
                    .anyMatch(l -> l.contains("job " + jobId + ": ") && (l.contains("is taken for dead")
                            || l.contains("could not reach the store itself"))));
            ownerProxy.open();
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
                    one("SELECT COUNT(*) FROM " + pg.schema + ".scheduled_tasks").equals("0")
                    && one("SELECT COUNT(*) FROM " + pg.schema + ".job_attempts WHERE outcome = 'RUNNING'").equals("0"));
            assertThat(lines(trace, "start")).as("runs of the command: %s", Files.readAllLines(trace)).isEqualTo(1);
            assertThat(one("SELECT string_agg(attempt || ' ' || node || ' ' || outcome, ', ') FROM " + pg.schema
                    + ".job_attempts")).isEqualTo("1 " + owner + " SUCCEEDED");
            assertThat(Files.readAllLines(otherOut)).anyMatch(l -> l.contains("job " + jobId + ": no heartbeat of its"
                    + " node " + owner + " since ") && l.contains("but this node could not reach the store itself until"));
        } finally {
            if (processes != null) {
                processes.close();
            }
            second.close();
        }
    }

    private static long lines(Path trace, String kind) throws java.io.IOException {
        return Files.readAllLines(trace).stream().filter(l -> l.startsWith(kind + " ")).count();
    }
}
