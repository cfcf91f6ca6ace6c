package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.runner.exec.ProcessIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout49 F7: {@code buildhook status} asked of a server whose JVM on this host was stopped ({@code kill -STOP}) waited
 * 36 s, then said the server "may be waiting for its store (buildhook status says …)" and that "a change asked for …
 * may have been made": the store was fine, the command that hung was {@code status}, and a read changes nothing. The
 * command now finds the server's pid in its own file of the data folder ({@code server-urls/<host>-<pid>}), looks at
 * the process while no answer comes, and says it is stopped with the {@code kill -CONT} advice {@code buildhook nodes}
 * gives, within the product's own bound (30 s): a real server JVM, SIGSTOPped, SIGCONT in a finally.
 */
class StoppedServerAnswerTest {

    @TempDir
    Path dir;

    private ServeProcesses processes;

    @AfterEach
    void stop() throws Exception {
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    void statusJobsAndARerunAskedOfAStoppedServerOnThisHostSayItIsStoppedAndHowToLetItRun() throws Exception {
        Path data = dir.resolve("data");
        Files.writeString(dir.resolve("admin-token"), "admin-token-for-stopped-test-0123456789\n");
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-stopped-test\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: any\n    run: {command: [/bin/true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: " + data,
                "rules: " + dir.resolve("rules.yaml"),
                "endpoints: {default: {secrets: [{file: " + dir.resolve("webhook-secret") + "}]}}",
                "admin: {token: {file: " + dir.resolve("admin-token") + "}}",
                "server: {host: 127.0.0.1, port: 0}",
                "store: {connect-timeout: 1m}",
                ""));
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, data);
        long pid = server.pid();
        String stopped = ProcessIdentity.stoppedWords(pid);
        signal("-STOP", pid);
        try {
            for (String command : new String[] {"status", "jobs"}) {
                StringWriter err = new StringWriter();
                picocli.CommandLine cl = BuildhookCommand.commandLine();
                cl.setOut(new PrintWriter(new StringWriter(), true));
                cl.setErr(new PrintWriter(err, true));

                assertThat(cl.execute(command, "--config", config.toString())).as(command + ": " + err).isEqualTo(3);
                assertThat(err.toString()).as(command)
                        .contains("the server at " + url + " took the request but gave no answer: " + stopped
                                + ". Ask again once it runs")
                        .contains("kill -CONT " + pid + " lets it run again")
                        .doesNotContain("waiting for its store")
                        .doesNotContain("buildhook status")
                        .doesNotContain("may have been made")
                        .doesNotContain("may be made");
            }

            // A write: the request waits in its connection, and the stopped server may make the change when it runs.
            AdminClient client = new AdminClient(url, "admin-token-for-stopped-test-0123456789",
                    AdminClient.ANSWER_TIMEOUT, ProcessIdentity.of(pid));
            assertThatThrownBy(() -> client.post("jobs/01J0000000000000000000000A/rerun"))
                    .isInstanceOf(CommandFailure.class)
                    .hasMessageContaining(stopped + ". The change asked for (a re-run, a replay, a cancel, an approval)"
                            + " waits in its connection and may be made when it runs again: look (buildhook jobs)")
                    .hasMessageNotContaining("waiting for its store");
        } finally {
            signal("-CONT", pid);
        }
    }

    /** {@code kill SIGNAL pid}, no shell. */
    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
    }
}
