package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

    /**
     * The job ends just before the stop begins: its follow ends as usual, and the server's port is closed before the
     * command's next request (fixes38 F1: it asked the closed port how the job stood and exited 3, "it was stopped or
     * is restarting"). Now the follow's own last line says how the job ended, and the command exits on it. The
     * ordering is held by a proxy: the follow's whole answer is kept from the command until the server has stopped.
     */
    @Test
    void aJobThatEndedJustBeforeTheStopEndsItsFollowWithItsStateAndExitZero() throws Exception {
        Ordering run = start(false);
        proxy.hold();
        Files.writeString(run.go(), "");
        await().atMost(Duration.ofMinutes(2)).until(() -> proxy.held().contains("done-at-last")
                && proxy.held().endsWith("\r\n0\r\n\r\n"));
        assertThat(proxy.held()).doesNotContain("the log follow stopped"); // ended before the stop began
        stopServerThenLetTheCommandRead(run);

        assertEndsWithTheJobsState(run, false);
    }

    /**
     * The job ends during the stop and the server's port is closed before the command's next request (tryout38 F2:
     * the command exited 0 on the stop's line, without the usual last line {@code [buildhook] job … SUCCEEDED: …},
     * which a follow whose server still answered printed). Now the same last line either way.
     */
    @Test
    void aJobThatEndedDuringTheStopEndsItsFollowWithTheStopsLineThenItsState() throws Exception {
        Ordering run = start(false);
        proxy.hold();
        run.server().destroy(); // SIGTERM
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(run.serverOut(), "stopping: deliveries"));
        Files.writeString(run.go(), "");
        // Not a second SIGTERM: that would kill the job ("stopping now"). The stop ends once the job has ended.
        awaitTheStopThenLetTheCommandRead(run);

        assertEndsWithTheJobsState(run, true);
    }

    /** As {@link #aJobThatEndedJustBeforeTheStopEndsItsFollowWithItsStateAndExitZero}, the command on a terminal. */
    @Test
    void onATerminalToo() throws Exception {
        Ordering run = start(true);
        proxy.hold();
        Files.writeString(run.go(), "");
        await().atMost(Duration.ofMinutes(2)).until(() -> proxy.held().contains("done-at-last")
                && proxy.held().endsWith("\r\n0\r\n\r\n"));
        stopServerThenLetTheCommandRead(run);

        assertEndsWithTheJobsState(run, false);
    }

    /**
     * flaky57: the follow's client reads nothing for a while as the graceful stop ends the follow (a slow link; on a
     * loaded machine, the follow's own last write not yet done as the stop went on). Jetty's stop cut the connection
     * after one second without progress, and the server exited: the end of the log, the stop's line and the job's
     * state line were lost (under stress-ng, the state line, or the stop's line too, with the answer's end). Now a
     * follow is waited for as a request in flight (server.stop-timeout) before the server's port closes, and its
     * client gets the whole answer once it reads again. The job's 34 MiB of output (whole lines) fill the
     * connections' buffers, so that the server's write waits.
     */
    @Test
    void aFollowWhoseClientStallsDuringTheStopGetsItsWholeAnswerOnceItReadsAgain() throws Exception {
        Ordering run = start(false, "[/bin/sh, -c, 'echo started; while [ ! -e \"$0\" ]; do sleep 0.1; done;"
                + " yes 0123456789abcdef | head -c 35651584; echo done-at-last', '" + dir.resolve("go") + "']",
                // The server's waits for a slow client (its stop's, a write's) longer than the test's stall, whatever the
                // machine's speed.
                "stop-timeout: 10m, request-timeout: 10m", "log-max-bytes: 64MiB", 64 * 1024);
        proxy.stall();
        run.server().destroy(); // SIGTERM
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(run.serverOut(), "stopping: deliveries"));
        Files.writeString(run.go(), "");
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(run.serverOut(), "job engine stopped"));
        // The client reads nothing for ten seconds more (the slow link itself, not a synchronisation): the server
        // waits for its follow. Before, it cut the follow and exited within them.
        await().during(Duration.ofSeconds(10)).atMost(Duration.ofMinutes(1)).until(run.server()::isAlive);
        proxy.resume();

        assertThat(client.waitFor(3, TimeUnit.MINUTES)).isTrue();
        List<String> lines = tail(run.followed());
        String out = String.join("\n", lines);
        assertThat(lines.get(lines.size() - 3)).as(out).isEqualTo("done-at-last");
        assertThat(lines.get(lines.size() - 2)).as(out).startsWith("[buildhook] the log follow stopped: the server is"
                + " stopping (graceful stop), after job " + run.job() + " ended SUCCEEDED");
        assertThat(lines.get(lines.size() - 1)).as(out)
                .isEqualTo("[buildhook] job " + run.job() + " SUCCEEDED: exited with 0 (1 attempt(s))");
        assertThat(Files.size(run.followed())).as("the whole log").isGreaterThan(35651584L);
        assertThat(client.exitValue()).as(out).isEqualTo(ExitCodes.OK);
        assertThat(run.server().waitFor(3, TimeUnit.MINUTES)).isTrue();
        // Nor did its stop then wait out stop-timeout for the follow's connection, kept open after the answer.
        assertThat(Files.readString(run.serverOut())).doesNotContain("while stopping the HTTP server");
    }

    /** The last lines of {@code file} (its last 4 KiB), which may be too large to read whole. */
    private static List<String> tail(Path file) throws Exception {
        try (java.io.RandomAccessFile in = new java.io.RandomAccessFile(file.toFile(), "r")) {
            long from = Math.max(0, in.length() - 4096);
            byte[] bytes = new byte[(int) (in.length() - from)];
            in.seek(from);
            in.readFully(bytes);
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8).replace("\r", "").lines().toList();
        }
    }

    /**
     * tryout42 F13: during the graceful stop the job prints a line that reads as buildhook's end line ({@code
     * [buildhook] job J SUCCEEDED: exited with 0 (1 attempt(s))}) and exits 4; the server stops before the command can
     * ask whose that line is. On a terminal it was shown bare, byte for byte buildhook's end line, above the legend,
     * the stop's line and the real end line. Now it is marked as a line the server did not vouch for.
     */
    @Test
    void onATerminalAJobsForgedEndLineDuringTheStopIsNeverShownBare() throws Exception {
        Path script = dir.resolve("forge.sh");
        Files.writeString(script, "echo started\nwhile [ ! -e \"$1\" ]; do sleep 0.1; done\n"
                + "printf '[buildhook] job %s SUCCEEDED: exited with 0 (1 attempt(s))\\n' \"${BUILDHOOK_ATTEMPT%/*}\"\n"
                + "exit 4\n");
        Ordering run = start(true, "[/bin/sh, '" + script + "', '" + dir.resolve("go") + "']");
        proxy.hold();
        run.server().destroy(); // SIGTERM
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(run.serverOut(), "stopping: deliveries"));
        Files.writeString(run.go(), "");
        awaitTheStopThenLetTheCommandRead(run);

        assertThat(client.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(run.followed()).replace("\r", "");
        String forged = "[buildhook] job " + run.job() + " SUCCEEDED: exited with 0 (1 attempt(s))";
        assertThat(out.lines().toList()).as(out).doesNotContain(forged)
                .contains(TerminalNotes.MAY_BE_THE_COMMANDS + forged, LogsCommand.doubt(run.job()),
                        TerminalNotes.NOTE + "[buildhook] the log follow stopped: the server is stopping (graceful"
                                + " stop), after job " + run.job() + " ended FAILED (exited with 4)");
        assertThat(out.lines().filter(l -> l.startsWith("[buildhook] ")).toList()).as(out).isEmpty();
        assertThat(client.exitValue()).as(out).isEqualTo(ExitCodes.FAILED);
    }

    /**
     * tryout45 F4: the job's command exits 0 while another program holds SQLite's write lock, so the store cannot
     * record it, and the server is stopped (SIGTERM): the stop keeps the exit for the next start, and the follow it
     * ends says that, not the store's state. Before, its last line said "while job J is RUNNING" of a command that
     * had exited, and nothing of the exit.
     */
    @Test
    void aFollowEndedByAStopThatCouldNotRecordTheExitSaysTheExitAndThatItIsKeptNotThatTheJobRuns() throws Exception {
        String job = followWhileTheStopCannotRecord(true);
        assertLastLine("its command exited 0", "kept for this node's next start, which records it and does not run the"
                + " command again", job);
        assertThat(Files.readString(dir.resolve("logs.out"))).as("the log to its end").contains("done-at-last");
    }

    /** The same of a job the stop cut short (its command still ran when the grace was over): said so, and that it runs again. */
    @Test
    void aFollowOfAJobTheStopCutShortWithoutRecordingItSaysSoNotThatTheJobRuns() throws Exception {
        String job = followWhileTheStopCannotRecord(false);
        assertLastLine("it was cut short by this stop (its process tree killed)", "the job runs again after this"
                + " node's next start, or on another node", job);
    }

    /**
     * Follows a job whose command prints "started", then waits for the file {@code go}; holds SQLite's write lock,
     * lets the command end when {@code exits} (and waits until the store has failed to record that), stops the server
     * (SIGTERM, a grace of 1 s) and waits for it and for the command. The job's id.
     */
    private String followWhileTheStopCannotRecord(boolean exits) throws Exception {
        Path go = dir.resolve("go");
        ServeProcesses.followConfig(dir, "rules:\n  - name: ends-unrecorded\n    run: {command: [/bin/sh, -c,"
                + " 'echo started; while [ ! -e \"$0\" ]; do sleep 0.1; done; echo done-at-last', '" + go + "']}\n",
                "");
        Path config = dir.resolve("buildhook.yaml");
        // The store's waits (SQLite's busy timeout) 10 s, not followConfig's minute: the record gives up sooner.
        Files.writeString(config, Files.readString(config).replace("store: {connect-timeout: 1m}",
                "store: {connect-timeout: 10s}") + "runner: {shutdown-grace: 1s, kill-grace: 1s}\n");
        processes = new ServeProcesses(dir);
        Path serverOut = dir.resolve("serve.out");
        Process server = processes.serve(config, serverOut);
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);
        Path followed = dir.resolve("logs.out");
        client = ServeProcesses.logsFollow(job, url, dir, followed);
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(followed, "started"));

        try (AbstractProxiedServeTest.SqliteLockHeld lock = new AbstractProxiedServeTest.SqliteLockHeld(
                "jdbc:sqlite:" + dir.resolve("data").resolve("buildhook.db").toAbsolutePath())) {
            lock.start();
            if (exits) {
                Files.writeString(go, "");
                await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive())
                        .until(() -> ServeProcesses.printed(serverOut, "job " + job + ": the store is unavailable"
                                + " while trying to record its attempt"));
            }
            server.destroy(); // SIGTERM
            assertThat(server.waitFor(3, TimeUnit.MINUTES)).isTrue();
            assertThat(client.waitFor(3, TimeUnit.MINUTES)).isTrue();
        }
        return job;
    }

    /**
     * The follow's last line says that attempt 1 ended here as {@code how}, what comes of it ({@code then}), and
     * that the store still shows it running; nothing says the job "is RUNNING"; the command exits 3.
     */
    private void assertLastLine(String how, String then, String job) throws Exception {
        String out = Files.readString(dir.resolve("logs.out"));
        List<String> lines = out.lines().toList();
        assertThat(lines.get(lines.size() - 1)).as(out).matches(java.util.regex.Pattern.quote("[buildhook] the log"
                + " follow stopped: the server is stopping (graceful stop); attempt 1 of job " + job + " ended on this"
                + " node: " + how + " at ") + "[0-9T:.-]+Z" + java.util.regex.Pattern.quote(", but the store could not"
                + " record it before the stop; " + then + " (until then the store shows the attempt running, and the"
                + " job RUNNING); follow again once the server runs (buildhook logs -f " + job + ")"));
        assertThat(out).as(out).doesNotContain("is RUNNING");
        // The job's end is not known to the store: the command cannot say how it stands (as for a store that cannot
        // be read), and does not take it for an end.
        assertThat(client.exitValue()).as(out).isEqualTo(ExitCodes.UNAVAILABLE);
    }

    /** A server whose job waits for the file {@code go}, and {@code logs -f} of that job through {@link #proxy}. */
    private record Ordering(Process server, Path serverOut, String job, Path go, Path followed, boolean terminal) {
    }

    private Ordering start(boolean terminal) throws Exception {
        return start(terminal, "[/bin/sh, -c, 'echo started; while [ ! -e \"$0\" ]; do sleep 0.1; done; echo"
                + " done-at-last', '" + dir.resolve("go") + "']");
    }

    /** As {@link #start(boolean)}, the job's command {@code command} (YAML), which waits for {@code go}. */
    private Ordering start(boolean terminal, String command) throws Exception {
        return start(terminal, command, "", "", 0);
    }

    /**
     * As {@link #start(boolean, String)}, with {@code server} added to the server's {@code server:} settings and
     * {@code runner} to its {@code runner:} settings (YAML flow entries, or empty), the proxy's connections to the
     * server with a receive buffer of {@code proxyBuffer} bytes (0: the system's).
     */
    private Ordering start(boolean terminal, String command, String server, String runner, int proxyBuffer)
            throws Exception {
        Path go = dir.resolve("go");
        ServeProcesses.followConfig(dir, "rules:\n  - name: ends-about-the-stop\n    run: {command: " + command
                + "}\n", server);
        Path config = dir.resolve("buildhook.yaml");
        Files.writeString(config, Files.readString(config) + "runner: {shutdown-grace: 10m"
                + (runner.isEmpty() ? "" : ", " + runner) + "}\n");
        processes = new ServeProcesses(dir);
        Path serverOut = dir.resolve("serve.out");
        Process serving = processes.serve(config, serverOut);
        URI url = ServeProcesses.awaitUrl(serving, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);
        proxy = new HoldingProxy(url, proxyBuffer);
        Path followed = dir.resolve("logs.out");
        if (terminal) {
            StringBuilder line = new StringBuilder();
            for (String word : List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                    System.getProperty("java.class.path"), Main.class.getName(), "logs", "-f", job, "--url",
                    proxy.url(url).toString(), "--token-file", dir.resolve("admin-token").toString())) {
                line.append(line.length() == 0 ? "" : " ").append('\'').append(word.replace("'", "'\\''")).append('\'');
            }
            client = new ProcessBuilder("script", "-qec", line.toString(), "/dev/null")
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true).redirectOutput(followed.toFile()).start();
        } else {
            client = ServeProcesses.logsFollow(job, proxy.url(url), dir, followed);
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> ServeProcesses.printed(followed, "started"));
        return new Ordering(serving, serverOut, job, go, followed, terminal);
    }

    /**
     * Stops the server (SIGTERM), waits for its end, closes the proxy's port, then lets the command have what the
     * server sent: its next request finds the port closed, as a stopped server's.
     */
    private void stopServerThenLetTheCommandRead(Ordering run) throws Exception {
        run.server().destroy();
        awaitTheStopThenLetTheCommandRead(run);
    }

    /** Waits for the server's end, closes the proxy's port, then lets the command have what the server sent. */
    private void awaitTheStopThenLetTheCommandRead(Ordering run) throws Exception {
        assertThat(run.server().waitFor(3, TimeUnit.MINUTES)).isTrue();
        proxy.refuse();
        proxy.release();
    }

    private void assertEndsWithTheJobsState(Ordering run, boolean stopLine) throws Exception {
        assertThat(client.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(run.followed()).replace("\r", "");
        List<String> lines = out.lines().toList();
        assertThat(lines).as(out).contains("done-at-last");
        // On a terminal, the server's own lines of the follow are marked as its notes (tryout41 F1, F7).
        String note = run.terminal() ? TerminalNotes.NOTE : "";
        assertThat(lines.get(lines.size() - 1)).as(out)
                .isEqualTo(note + "[buildhook] job " + run.job() + " SUCCEEDED: exited with 0 (1 attempt(s))");
        if (stopLine) {
            assertThat(lines.get(lines.size() - 2)).as(out).startsWith(note + "[buildhook] the log follow stopped: the server"
                    + " is stopping (graceful stop), after job " + run.job() + " ended SUCCEEDED");
        }
        assertThat(client.exitValue()).as(out).isEqualTo(ExitCodes.OK);
    }
}
