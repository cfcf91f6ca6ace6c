package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.buildhook.distribution.reliability.TcpProxy;
import org.junit.jupiter.api.Test;

/**
 * cluster27 F12, as it happened: a job holding the only unit of a shared resource, its node cut from PostgreSQL
 * past the dead-node limit, fences itself (kills its command); another node, back first, revives the job; the
 * job that has been waiting for the unit since before must not take it first. Before the fix the revived job's
 * units were freed by the waiting job's next look and its own take placed it as from then: the waiting job ran
 * first on the half-done one's board. Two real {@code serve} processes on one schema, each through a
 * {@link TcpProxy} of its own; both cut, the holder's node cut on until the other node has taken the job over.
 * Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI where it fails.
 */
class FencedBoardHolderTest extends AbstractProxiedServeTest {

    FencedBoardHolderTest() {
        super("fencedboard_");
    }

    @Test
    void aJobFencedInAnOutageAndRevivedElsewhereKeepsItsPlaceForTheBoard() throws Exception {
        Path trace = dir.resolve("trace");
        Path go = dir.resolve("go");
        Path hold = Files.writeString(dir.resolve("hold.sh"), "#!/bin/sh\necho \"start $1 $$\" >> " + trace
                + "\nwhile [ ! -f " + go + " ]; do sleep 0.05; done\necho \"end $1 $$\" >> " + trace + "\n");
        Files.setPosixFilePermissions(hold, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-the-fenced-board-test\n");
        // Two rules of one delivery on a pool of one board: one job holds it, the other waits for it.
        Files.writeString(dir.resolve("rules.yaml"), "resources:\n  boards: 1\nrules:\n"
                + "  - name: flash-a\n    run: {command: [" + hold + ", a], stdin: off, resources: {boards: 1}}\n"
                + "  - name: flash-b\n    run: {command: [" + hold + ", b], stdin: off, resources: {boards: 1}}\n");
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
            await().atMost(Duration.ofMinutes(2)).until(() -> Files.exists(trace) && lines(trace, "start").size() == 1
                    && one("SELECT COUNT(*) FROM " + pg.schema + ".jobs WHERE state = 'WAITING'").equals("1"));
            String holder = lines(trace, "start").get(0).split(" ")[1];
            long command = Long.parseLong(lines(trace, "start").get(0).split(" ")[2]);
            String owner = one("SELECT node FROM " + pg.schema + ".job_attempts");
            String jobId = one("SELECT job_id FROM " + pg.schema + ".job_attempts");
            TcpProxy ownerProxy = owner.equals("node-a") ? pg.proxy : second;
            TcpProxy otherProxy = owner.equals("node-a") ? second : pg.proxy;
            Path otherOut = dir.resolve(owner.equals("node-a") ? "node-b.out" : "node-a.out");

            ownerProxy.cut();
            otherProxy.cut();
            // The holder's node fences itself: its command is killed (before the dead-node limit, 1 s x 25).
            await().atMost(Duration.ofMinutes(2)).until(() -> !Files.exists(Path.of("/proc/" + command)));
            otherProxy.open();
            // The other node takes the holder's node for dead once the limit has passed since its own return.
            await().atMost(Duration.ofMinutes(3)).until(() -> Files.readAllLines(otherOut).stream()
                    .anyMatch(l -> l.contains("job " + jobId + ": its node " + owner + " is taken for dead")));
            await().atMost(Duration.ofMinutes(3)).until(() -> lines(trace, "start").size() == 2);
            assertThat(lines(trace, "start").get(1).split(" ")[1]).as("the job started again first: %s",
                    Files.readAllLines(trace)).isEqualTo(holder);
            ownerProxy.open();
            Files.createFile(go);
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
                    one("SELECT COUNT(*) FROM " + pg.schema + ".jobs WHERE state = 'SUCCEEDED'").equals("2"));
            assertThat(lines(trace, "start")).as("runs: %s", Files.readAllLines(trace)).hasSize(3);
        } finally {
            if (processes != null) {
                processes.close();
            }
            second.close();
        }
    }

    private static List<String> lines(Path trace, String kind) throws java.io.IOException {
        return Files.readAllLines(trace).stream().filter(l -> l.startsWith(kind + " ")).toList();
    }
}
