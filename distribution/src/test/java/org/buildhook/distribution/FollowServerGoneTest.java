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
 * {@code buildhook logs -f} whose server dies while it follows (tryout12 F6): it said only
 * {@code reading jobs/…/log?… failed: closed}. It now says that the server closed the connection, what
 * that may mean and what to do, and still exits 3 (unavailable). Real processes: the server, killed
 * with SIGKILL, and the command.
 */
class FollowServerGoneTest {

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
            processes.close(); // and the job the killed server left running (its next start would have killed it)
        }
    }

    @Test
    void aFollowWhoseServerDiesSaysTheServerWentAwayAndWhatToDo() throws Exception {
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: long\n    run: {command: [/bin/sh, -c,"
                + " 'echo started; exec sleep 600']}\n", "");
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);

        Path followed = dir.resolve("logs.out");
        client = ServeProcesses.logsFollow(job, url, dir, followed);
        await().atMost(Duration.ofMinutes(1)).until(() -> ServeProcesses.printed(followed, "started"));
        server.destroyForcibly();

        assertThat(client.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(client.exitValue()).isEqualTo(ExitCodes.UNAVAILABLE);
        String out = Files.readString(followed);
        assertThat(out).contains("started")
                .contains("the connection to the server at " + url + " ended while reading jobs/" + job + "/log")
                .contains("the server stopped or restarted, or the network cut the connection")
                .contains("run the command again once the server answers")
                .doesNotContain("failed: closed");
    }
}
