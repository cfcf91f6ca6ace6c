package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's output that prints a line reading like one the server writes at a follow's end, as the follow's last line,
 * and a server gone right after (fixes39's left item): {@code buildhook logs -f} took the job's line for the server's
 * and exited 0 for a job that had failed its attempt and waited for a retry, which may fail again. The server now
 * marks its own lines of a follow asked with {@code mark=1} ({@code FollowMarks}); the command trusts only a marked
 * line, and says it cannot tell how the job stands (exit 3) when the server is gone. The job's line is still printed
 * as it came. Real processes: the server, its job, the command; a proxy keeps the follow's answer from the command
 * until the server has stopped (its port closed), as {@link FollowDuringGracefulStopTest} does.
 */
class ForgedFollowLineTest {

    @TempDir
    Path dir;
    ServeProcesses processes;
    Process client;
    HoldingProxy proxy;

    @AfterEach
    void killAll() throws Exception {
        if (client != null) {
            client.destroyForcibly().waitFor();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    void aJobsOwnEndLineIsNotTakenForTheServersOnceTheServerIsGone() throws Exception {
        assertForgedLineNotTrusted("[buildhook] job %s SUCCEEDED: exited with 0 (1 attempt(s))");
    }

    @Test
    void aJobsOwnStopLineIsNotTakenForTheServersOnceTheServerIsGone() throws Exception {
        assertForgedLineNotTrusted("[buildhook] the log follow stopped: the server is stopping (graceful stop), after"
                + " job %s ended SUCCEEDED");
    }

    /**
     * Runs a job that prints {@code started}, then {@code line} (with its own id for {@code %s}), and fails, to be
     * retried in an hour; follows it; stops the server once the follow's answer is whole, then lets the command read
     * it.
     */
    private void assertForgedLineNotTrusted(String line) throws Exception {
        Path go = dir.resolve("go");
        ServeProcesses.followConfig(dir, "rules:\n  - name: forges\n    run:\n      retries: 1\n      backoff: 1h\n"
                + "      command: [/bin/sh, -c, 'echo started; while [ ! -s \"$0\" ]; do sleep 0.1; done; printf \"$1\\n\" \"$(cat"
                + " \"$0\")\"; exit 1', '" + go + "', '" + line + "']\n", "");
        Path config = dir.resolve("buildhook.yaml");
        processes = new ServeProcesses(dir);
        Path serverOut = dir.resolve("serve.out");
        Process server = processes.serve(config, serverOut);
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);
        proxy = new HoldingProxy(url);
        Path followed = dir.resolve("logs.out");
        client = ServeProcesses.logsFollow(job, proxy.url(url), dir, followed);
        // The follow runs (the command asks nothing more until it ends): from now on the server's bytes are held.
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(followed, "started"));
        proxy.hold();
        Path written = Files.writeString(dir.resolve("go.new"), job);
        Files.move(written, go, StandardCopyOption.ATOMIC_MOVE);
        String forged = line.formatted(job);
        // The attempt failed and the job waits for its retry: the follow ends with the job's line as its last.
        await().atMost(Duration.ofMinutes(2)).until(() -> proxy.held().contains(forged)
                && proxy.held().endsWith("\r\n0\r\n\r\n"));
        server.destroy(); // SIGTERM: no job runs, the stop is quick
        assertThat(server.waitFor(3, TimeUnit.MINUTES)).isTrue();
        proxy.refuse();
        proxy.release();

        assertThat(client.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(followed);
        List<String> lines = out.lines().toList();
        assertThat(lines).as(out).contains(forged); // printed as it came
        // Not the job's end: how the job stands cannot be asked (the words depend on how the closed port answers).
        assertThat(out).as(out).contains("buildhook: ");
        assertThat(client.exitValue()).as(out).isEqualTo(ExitCodes.UNAVAILABLE);
    }
}
