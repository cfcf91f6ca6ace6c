package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.ServerSocket;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Socket activation (tryout35 F1): the server started from the built tarball with a listening socket as its
 * standard input, as systemd's {@code buildhook.socket} gives it ({@code StandardInput=socket}), serves on that
 * socket; and a delivery sent while it restarts, when no buildhook process runs at all, waits in the socket's
 * queue and is answered 202 by the next one, where a restart without it answered "connection refused".
 * {@code systemd-socket-activate} (Debian package systemd) and python3 are required on CI ({@code .ci/run}),
 * skipped elsewhere.
 */
class SocketActivationIT {

    static final Path SOCKET_ACTIVATE = Path.of("/usr/bin/systemd-socket-activate");
    static final Duration UPPER_BOUND = Duration.ofMinutes(3);
    static final String FIXTURE = "build-67-passed.json";

    @TempDir
    Path dir;
    Path home;
    Path work;
    Path ran;
    Process process;
    final List<String> output = Collections.synchronizedList(new ArrayList<>());
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void install() throws Exception {
        home = Tarball.unpack(dir);
        work = Files.createDirectories(dir.resolve("work"));
        ran = work.resolve("ran.txt");
        Files.writeString(work.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: note",
                "    run:",
                "      command: [/bin/sh, -c, 'echo \"ran $BUILDHOOK_BUILD_ID\" >> \"$1\"', sh, '" + ran + "']",
                ""), StandardCharsets.UTF_8);
        // server.port 0: a server that ignored the inherited socket would listen elsewhere, not on the test's port.
        Files.writeString(work.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "server:",
                "  host: 127.0.0.1",
                "  port: 0",
                "endpoints:",
                "  default:",
                "    secrets: [{env: JOBSERV_SECRET}]",
                ""), StandardCharsets.UTF_8);
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aServerStartedBySystemdSocketActivateAnswersOnItsSocketAndRunsTheJob() throws Exception {
        if (!Files.isExecutable(SOCKET_ACTIVATE)) {
            assertThat(System.getenv("CI")).as("systemd-socket-activate is required on CI (apt-get install systemd)")
                    .isNotEqualTo("true");
            assumeTrue(false, "systemd-socket-activate is not installed");
        }
        int port = freePort();
        // It passes on only the environment named by -E; without --accept it starts the command at the first
        // connection, with the listening socket as its standard input (--inetd).
        ProcessBuilder pb = server(List.of(SOCKET_ACTIVATE.toString(), "--inetd",
                "-l", "127.0.0.1:" + port, "-E", "JAVA_HOME", "-E", "JAVA_OPTS", "-E", "BUILDHOOK_CDS_DIR",
                "-E", "JOBSERV_SECRET", "-E", "LANG",
                // --inetd makes the socket standard output too: the server's output to a file instead (systemd's
                // StandardOutput=journal of the drop-in).
                "/bin/sh", "-c", "exec \"$@\" >> \"$0\" 2>&1", work.resolve("serve.log").toString(),
                home.resolve("bin/buildhook").toString(), "serve", "--config", work.resolve("buildhook.yaml").toString()));
        process = pb.start();
        follow(process);
        await().atMost(UPPER_BOUND).until(() -> ServeOutput.text(output).contains("Listening on 127.0.0.1:" + port));

        HttpResponse<String> answer = deliver(port).get(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS);

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        await().atMost(UPPER_BOUND).until(() -> ran().equals("ran 67\n"));
        // The delivery may be answered before serve prints its lines (it does once Jetty has started).
        await().atMost(UPPER_BOUND).until(() -> Files.readString(work.resolve("serve.log")).contains("buildhook listening on"));
        assertThat(Files.readString(work.resolve("serve.log"))).contains("buildhook listening on http://127.0.0.1:" + port + "/ ",
                "listening on the socket inherited from the service manager");
        // The admin commands find the server by the URL it wrote: the inherited socket's, not server.port's 0.
        assertThat(Files.readString(work.resolve("data/server-url")).strip()).isEqualTo("http://127.0.0.1:" + port + "/");
    }

    @Test
    void aDeliverySentWhileTheServerRestartsOnAHeldSocketIsAnswered202ByTheNextServer() throws Exception {
        Path script = Path.of("src/test/socket/hold-socket.py").toAbsolutePath();
        Path log = work.resolve("serve.log");
        List<String> command = new ArrayList<>(List.of(python3(), script.toString(), log.toString(), "--",
                // SIGTERM at its default, as systemd gives it (a test JVM under nohup hands it on ignored).
                "env", "--default-signal=HUP,INT,TERM", home.resolve("bin/buildhook").toString(), "serve",
                "--config", work.resolve("buildhook.yaml").toString()));
        process = server(command).redirectErrorStream(false)
                .redirectError(work.resolve("holder.err").toFile()).start();
        BufferedReader holder = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer commands = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        String first = holder.readLine();
        assertThat(first).as("the holder's first line; its errors: %s", work.resolve("holder.err")).startsWith("port ");
        int port = Integer.parseInt(first.substring("port ".length()));

        assertThat(tell(commands, holder, "start")).startsWith("started ");
        HttpResponse<String> health = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/healthz")).build(), HttpResponse.BodyHandlers.ofString()).get(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(Files.readString(log)).contains("listening on the socket inherited from the service manager",
                "buildhook listening on http://127.0.0.1:" + port + "/ ");

        // The restart: the first server stops (SIGTERM, its graceful stop) and has exited ...
        assertThat(tell(commands, holder, "stop")).isEqualTo("exited 143");
        // ... and no buildhook runs while JobServ sends: before socket activation, "connection refused".
        CompletableFuture<HttpResponse<String>> sent = deliver(port);
        assertThat(tell(commands, holder, "start")).startsWith("started ");

        HttpResponse<String> answer = sent.get(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        await().atMost(UPPER_BOUND).until(() -> ran().equals("ran 67\n"));
        commands.close();
        assertThat(process.waitFor(UPPER_BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    /** {@code command} as {@link Tarball#server} starts a server, in a UTF-8 locale, with the fixtures' secret. */
    ProcessBuilder server(List<String> command) throws Exception {
        ProcessBuilder pb = Tarball.server(work, signature()[1], command);
        pb.environment().put("LANG", "C.UTF-8");
        return pb;
    }

    /** Sends the fixture with the signature signatures.tsv gives it; no client timeout, as JobServ. */
    CompletableFuture<HttpResponse<String>> deliver(int port) throws Exception {
        byte[] body = Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures"), FIXTURE));
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhook"))
                .header("Content-Type", "application/json").header("X-JobServ-Sig", signature()[2])
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The fixture's line of signatures.tsv: file, secret, X-JobServ-Sig. */
    static String[] signature() throws Exception {
        return Files.readAllLines(Path.of(System.getProperty("buildhook.fixtures"), "signatures.tsv")).stream()
                .map(line -> line.split("\t")).filter(f -> f[0].equals(FIXTURE)).findFirst().orElseThrow();
    }

    static String tell(Writer commands, BufferedReader holder, String command) throws Exception {
        commands.write(command + "\n");
        commands.flush();
        return holder.readLine();
    }

    void follow(Process p) {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    output.add(line);
                }
            } catch (java.io.IOException e) {
                output.add("(output unreadable: " + e + ")");
            }
        }, "socket-activation-it-output");
        reader.setDaemon(true);
        reader.start();
    }

    String ran() throws Exception {
        return Files.exists(ran) ? Files.readString(ran, StandardCharsets.UTF_8) : "";
    }

    static int freePort() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** python3 from PATH: Debian's base has it; required on CI ({@code .ci/run} makes sure). */
    static String python3() throws Exception {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!folder.isEmpty() && Files.isExecutable(Path.of(folder, "python3"))) {
                return Path.of(folder, "python3").toString();
            }
        }
        assertThat(System.getenv("CI")).as("python3 is required on CI (apt-get install python3-minimal)")
                .isNotEqualTo("true");
        assumeTrue(false, "python3 is not installed");
        return null;
    }
}
