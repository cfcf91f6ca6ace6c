package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
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

    static final String TOKEN = "admin-token-for-follow-test-0123456789";

    @TempDir
    Path dir;
    ServeProcesses processes;
    Process client;
    Path jobPid;

    @AfterEach
    void killAll() throws Exception {
        if (client != null) {
            client.destroyForcibly().waitFor();
        }
        if (processes != null) {
            processes.close();
        }
        // The job the killed server left running (its next start would have killed it).
        if (jobPid != null && Files.exists(jobPid)) {
            ProcessHandle.of(Long.parseLong(Files.readString(jobPid).trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aFollowWhoseServerDiesSaysTheServerWentAwayAndWhatToDo() throws Exception {
        jobPid = dir.resolve("job.pid");
        Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-follow-test\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: long\n    run: {command: [/bin/sh, -c,"
                + " 'echo $$ > " + jobPid + "; echo started; exec sleep 600']}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "admin: {token: {file: admin-token}}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        StringWriter sent = new StringWriter();
        picocli.CommandLine send = BuildhookCommand.commandLine();
        send.setOut(new PrintWriter(sent, true));
        assertThat(send.execute("send", url.resolve("webhook").toString(), "--sample", "--secret-file",
                dir.resolve("webhook-secret").toString(), "--no-retry")).as(sent.toString()).isZero();
        String job = new ObjectMapper().readTree(sent.toString().substring(sent.toString().indexOf('{')))
                .path("jobs").path(0).asText();

        Path followed = dir.resolve("logs.out");
        client = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "logs", "-f", job, "--url", url.toString(),
                "--token-file", dir.resolve("admin-token").toString())
                .redirectErrorStream(true).redirectOutput(followed.toFile()).start();
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
