package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.buildhook.core.Signer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graceful stop of the standalone server, started from the built tarball and stopped with real
 * signals: while running jobs get their grace period the node keeps accepting and storing
 * deliveries (their jobs wait for the next start), {@code /healthz} says it is stopping, and the
 * signal that stopped it is logged.
 */
class GracefulStopIT {

    static final String SECRET = "graceful-stop-secret-5d1e";
    static final Duration UPPER_BOUND = Duration.ofMinutes(2);

    @TempDir
    Path dir;
    Path home;
    Path work;
    Path journal;
    Path release;
    Process server;
    final List<String> output = Collections.synchronizedList(new ArrayList<>());
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void install() throws Exception {
        home = Tarball.unpack(dir);
        work = Files.createDirectories(dir.resolve("work"));
        journal = work.resolve("journal.txt");
        release = work.resolve("release");
        // Each job notes its start and end, notes an overlap if another job holds the lock, and runs
        // until the test creates the release file: a job as long as the test needs, on any machine.
        Files.writeString(work.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: long",
                "    run:",
                "      command: [/bin/sh, -c, 'echo \"start $BUILDHOOK_BUILD_ID\" >> \"$1\";"
                        + " mkdir \"$2.lock\" 2>/dev/null || echo overlap >> \"$1\";"
                        + " while [ ! -e \"$2\" ]; do [ -d \"$3\" ] || exit 1; sleep 0.1; done;"
                        + " rmdir \"$2.lock\"; echo \"end $BUILDHOOK_BUILD_ID\" >> \"$1\"',"
                        + " sh, '" + journal + "', '" + release + "', '" + dir + "']",
                ""), StandardCharsets.UTF_8);
        Files.writeString(work.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets: [{env: JOBSERV_SECRET}]",
                "runner:",
                "  shutdown-grace: 10m",
                ""), StandardCharsets.UTF_8);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aDeliverySentWhileRunningJobsGetTheirGraceIsStoredAndRunsAfterTheRestart() throws Exception {
        String base = serve();
        assertThat(send(base, "build-67-passed.json").statusCode()).isEqualTo(202);
        await().atMost(UPPER_BOUND).until(() -> journal().contains("start 67"));

        // SIGTERM, as systemctl stop, podman stop and kill send it (Process.destroy() would also close
        // the server's output here, and with it the lines the test reads).
        assertThat(server.toHandle().destroy()).isTrue();
        // Jetty's own graceful stop answers 503 too, on a connection already open: ask for the body's word.
        await().atMost(UPPER_BOUND).ignoreException(ConnectException.class).until(() -> {
            HttpResponse<String> health = get(base + "healthz");
            return health.statusCode() == 503 && health.body().contains("\"status\":\"stopping\"");
        });
        HttpResponse<String> during = send(base, "build-68-failed.json");
        assertThat(during.statusCode()).as(during.body()).isEqualTo(202);
        assertThat(during.body()).contains("\"jobs\":[");
        assertThat(server.isAlive()).as("the server waits for the running job").isTrue();

        Files.createFile(release);
        assertThat(server.waitFor(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).as("the exit status systemd expects of a SIGTERM").isEqualTo(143);
        assertThat(journal()).as("no job started during the stop").isEqualTo("start 67\nend 67\n");
        await().atMost(UPPER_BOUND).until(() -> ServeOutput.text(output).contains("buildhook stopped"));
        assertThat(ServeOutput.text(output)).contains("received SIGTERM", "deliveries are still accepted",
                "accepted: build 68");

        serve();
        await().atMost(UPPER_BOUND).until(() -> journal().contains("end 68"));
        assertThat(journal()).isEqualTo("start 67\nend 67\nstart 68\nend 68\n");
    }

    /**
     * Ctrl-C again (or a second SIGTERM) does not wait out runner.shutdown-grace (10 minutes here):
     * the running job is killed now and runs again at the next start.
     */
    @Test
    void aSecondInterruptStopsWithoutWaitingAndTheJobRunsAgainAtTheNextStart() throws Exception {
        String base = serve();
        assertThat(send(base, "build-67-passed.json").statusCode()).isEqualTo(202);
        await().atMost(UPPER_BOUND).until(() -> journal().contains("start 67"));

        signal("INT");
        await().atMost(UPPER_BOUND).until(() -> ServeOutput.text(output).contains("received SIGINT (Ctrl-C)"));
        assertThat(server.isAlive()).as("the first Ctrl-C waits for the running job").isTrue();
        signal("INT");

        assertThat(server.waitFor(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS))
                .as("stopped before the 10 minutes of grace").isTrue();
        assertThat(server.exitValue()).isEqualTo(130);
        await().atMost(UPPER_BOUND).until(() -> ServeOutput.text(output).contains("buildhook stopped"));
        assertThat(ServeOutput.text(output)).contains("received SIGINT again: stopping now");
        assertThat(journal()).isEqualTo("start 67\n");

        // The killed run's lock, which only its end would have taken away.
        Files.delete(Path.of(release + ".lock"));
        Files.createFile(release);
        serve();
        await().atMost(UPPER_BOUND).until(() -> journal().contains("end 67"));
        assertThat(journal()).isEqualTo("start 67\nstart 67\nend 67\n");
    }

    /**
     * A stop as systemd makes it of the shipped unit (systemd.kill(5), "KillMode="): the unit's {@code KillSignal}
     * (SIGTERM) goes to every process of the service's control group with {@code KillMode=control-group}, systemd's
     * default, and to its main process only with {@code mixed}, whose SIGKILL goes to what is left once the main
     * process has exited. The promise of docs/deploying.md (running jobs get runner.shutdown-grace) must hold for
     * {@code systemctl restart buildhook} as the unit ships: under {@code control-group}, the job's own shell got the
     * SIGTERM at the stop's first moment and ended "exited with 143", a failure of the job's own, not run again.
     * The control group here is the server and what it started (the processes systemd would find in it).
     */
    @Test
    void aStopAsTheShippedSystemdUnitSendsItLetsTheRunningJobFinishInItsGrace() throws Exception {
        String mode = killMode(home.resolve("systemd/buildhook.service"));
        String base = serve();
        assertThat(send(base, "build-67-passed.json").statusCode()).isEqualTo(202);
        await().atMost(UPPER_BOUND).until(() -> journal().contains("start 67"));

        List<ProcessHandle> group = new ArrayList<>(server.toHandle().descendants().toList());
        if (mode.equals("control-group")) {
            group.forEach(ProcessHandle::destroy); // SIGTERM to each, as to the server
        } else {
            assertThat(mode).as("a KillMode= that lets the main process stop its jobs").isEqualTo("mixed");
        }
        assertThat(server.toHandle().destroy()).isTrue();
        await().atMost(UPPER_BOUND).until(() -> ServeOutput.text(output).contains("received SIGTERM"));

        Files.createFile(release);
        assertThat(server.waitFor(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        // mixed: SIGKILL to what is left of the control group once the main process has exited.
        group.forEach(ProcessHandle::destroyForcibly);
        assertThat(server.exitValue()).isEqualTo(143);
        assertThat(journal()).as("the running job finished in its grace period; the server said:%n%s",
                ServeOutput.text(output)).isEqualTo("start 67\nend 67\n");
    }

    /** The unit's {@code KillMode=}, or systemd's default, {@code control-group}. */
    static String killMode(Path unit) throws Exception {
        return Files.readAllLines(unit).stream().filter(line -> line.startsWith("KillMode=")).reduce((a, b) -> b)
                .map(line -> line.substring("KillMode=".length()).strip()).orElse("control-group");
    }

    void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(server.pid())).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
    }

    @Test
    void aHangupIsLoggedAndStopsTheServerGracefully() throws Exception {
        String base = serve();
        assertThat(get(base + "healthz").statusCode()).isEqualTo(200);
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(server.pid())).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
        assertThat(server.waitFor(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).isEqualTo(129);
        await().atMost(UPPER_BOUND).until(() -> ServeOutput.text(output).contains("buildhook stopped"));
        assertThat(ServeOutput.text(output)).contains("received SIGHUP", "no reload", "buildhook stopped");
    }

    String journal() throws Exception {
        return Files.exists(journal) ? Files.readString(journal, StandardCharsets.UTF_8) : "";
    }

    HttpResponse<String> send(String base, String fixture) throws Exception {
        byte[] body = Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures"), fixture));
        return http.send(HttpRequest.newBuilder(URI.create(base + "webhook"))
                .header("Content-Type", "application/json")
                .header("X-JobServ-Sig", Signer.sign(body, SECRET.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    String serve() throws Exception {
        output.clear();
        // A test JVM started under nohup, or as a background job of a script, hands its children
        // SIGHUP (and SIGINT) ignored, and the JVM keeps an ignored stop signal ignored, as nohup
        // asks; the server under test gets them at their defaults, as systemd and a shell give them.
        server = Tarball.server(work, SECRET, List.of("env", "--default-signal=HUP,INT,TERM",
                home.resolve("bin/buildhook").toString(), "serve", "--config",
                work.resolve("buildhook.yaml").toString(), "--port", "0", "--host", "127.0.0.1")).start();
        return ServeOutput.awaitListening(server, output, "graceful-stop-it-server-output");
    }
}
