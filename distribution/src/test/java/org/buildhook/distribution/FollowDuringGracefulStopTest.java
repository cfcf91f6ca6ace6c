package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buildhook logs -f} while the server stops gracefully (SIGTERM) and the followed job ends within
 * {@code runner.shutdown-grace} (tryout36 F7): the follow was cut as the stop ended, the job's last output was lost,
 * and the command, asking the closed port how the job stood, said "cannot reach …; is 'buildhook serve' running
 * there? Give the address with --url", exit 3. Now the follow gets the log to the attempt's end, a last line that
 * says the server stops and how the job ended, and the command exits as for the job's end. Real processes: the
 * server, its job's child process, and the command.
 */
class FollowDuringGracefulStopTest {

    @TempDir
    Path dir;
    ServeProcesses processes;
    Process client;

    @AfterEach
    void killAll() throws Exception {
        if (client != null) {
            client.destroyForcibly().waitFor();
        }
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    void aFollowDuringAGracefulStopGetsTheLogToTheJobsEndAndItsState() throws Exception {
        Path go = dir.resolve("go");
        ServeProcesses.followConfig(dir, "rules:\n  - name: ends-in-the-stop\n    run: {command: [/bin/sh, -c,"
                + " 'echo started; while [ ! -e \"$0\" ]; do sleep 0.1; done; echo done-at-last', '" + go + "']}\n",
                "");
        Path config = dir.resolve("buildhook.yaml");
        Files.writeString(config, Files.readString(config) + "runner: {shutdown-grace: 10m}\n");
        processes = new ServeProcesses(dir);
        Path serverOut = dir.resolve("serve.out");
        Process server = processes.serve(config, serverOut);
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);

        Path followed = dir.resolve("logs.out");
        client = ServeProcesses.logsFollow(job, url, dir, followed);
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(followed, "started"));
        server.destroy(); // SIGTERM: a graceful stop, the job given its grace
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(serverOut, "stopping: deliveries"));
        Files.writeString(go, "");

        assertThat(client.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(followed);
        assertThat(out).contains("started").contains("done-at-last")
                .contains("[buildhook] the log follow stopped: the server is stopping (graceful stop), after job "
                        + job + " ended SUCCEEDED")
                .doesNotContain("Give the address with --url");
        assertThat(client.exitValue()).as(out).isEqualTo(ExitCodes.OK);
        assertThat(server.waitFor(3, TimeUnit.MINUTES)).isTrue();
    }
}
