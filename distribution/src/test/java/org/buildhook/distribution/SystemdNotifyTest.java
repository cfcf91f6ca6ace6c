package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Type=notify}: a real {@code serve} process started with {@code NOTIFY_SOCKET} sends {@code READY=1} with
 * its pid once it listens and {@code STOPPING=1} at SIGTERM, to a real Unix datagram socket this test binds (through
 * libc with JNA, as systemd's socket is), at a path and at an abstract name; its jobs do not get {@code NOTIFY_SOCKET}
 * even when {@code runner.inherit-env} names it. Not tested here: systemd itself (PID 1 of the test machine is not
 * systemd).
 */
@EnabledOnOs(OS.LINUX)
class SystemdNotifyTest {

    static final int SOCK_NONBLOCK = 0x800;

    /** What the test's receiving socket needs of libc. */
    interface Receiver extends Library {
        Receiver C = Native.load("c", Receiver.class);

        int socket(int domain, int type, int protocol) throws LastErrorException;

        int bind(int fd, byte[] addr, int addrlen) throws LastErrorException;

        NativeLong recv(int fd, byte[] buf, NativeLong len, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    @TempDir
    Path dir;

    @Test
    void aServerTellsASocketAtAPathItIsReadyAndThatItStops() throws Exception {
        readyAndStopping(dir.resolve("notify").toString());
    }

    @Test
    void aServerTellsAnAbstractSocketItIsReadyAndThatItStops() throws Exception {
        readyAndStopping("@buildhook-notify-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    void readyAndStopping(String socket) throws Exception {
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-notify-test\n");
        Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: show-env",
                "    run:",
                "      command: [/usr/bin/env]",
                ""));
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "server: {host: 127.0.0.1, port: 0}",
                "runner: {inherit-env: [NOTIFY_SOCKET, SHARED_SETTING]}",
                ""));
        Path out = dir.resolve("serve.out");
        List<String> received = Collections.synchronizedList(new ArrayList<>());
        int fd = bound(socket);
        try (ServeProcesses processes = new ServeProcesses(dir)) {
            Process server = processes.serve(config, out,
                    Map.of(SystemdNotify.VARIABLE, socket, "SHARED_SETTING", "shared"));
            java.net.URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
            await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive())
                    .until(() -> receive(fd, received).contains("READY=1\nMAINPID=" + server.pid()));
            assertThat(Files.readString(out)).contains("buildhook started")
                    .contains("runner.inherit-env[0]: NOTIFY_SOCKET is systemd's socket")
                    .doesNotContain("cannot tell systemd");

            ServeProcesses.sendSample(url, dir);
            await().atMost(Duration.ofMinutes(2)).until(() -> logOf("show-env") != null);
            assertThat(logOf("show-env")).contains("SHARED_SETTING=shared").doesNotContain("NOTIFY_SOCKET",
                    socket);

            server.destroy(); // SIGTERM
            await().atMost(Duration.ofMinutes(2)).until(() -> receive(fd, received).contains("STOPPING=1"));
            assertThat(server.waitFor(3, TimeUnit.MINUTES)).isTrue();
            assertThat(received).containsExactly("READY=1\nMAINPID=" + server.pid(), "STOPPING=1");
        } finally {
            Receiver.C.close(fd);
        }
    }

    @Test
    void aSocketNobodyListensOnIsOneWarningNotAFailedStart() throws Exception {
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-notify-test\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "server: {host: 127.0.0.1, port: 0}",
                ""));
        Path out = dir.resolve("serve.out");
        try (ServeProcesses processes = new ServeProcesses(dir)) {
            Process server = processes.serve(config, out,
                    Map.of(SystemdNotify.VARIABLE, dir.resolve("nobody-listens").toString()));
            java.net.URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
            await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive())
                    .until(() -> ServeProcesses.printed(out, "cannot tell systemd READY=1"));
            assertThat(java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(url.resolve("healthz")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(Files.readString(out)).containsOnlyOnce("cannot tell systemd")
                    .contains("No such file or directory");
        }
    }

    @Test
    void addressesAreSystemdsForAPathAndAnAbstractName() {
        byte[] path = SystemdNotify.address("/run/systemd/notify").orElseThrow();
        assertThat(path).hasSize(2 + 19 + 1);
        assertThat(path[path.length - 1]).isZero();
        assertThat(new String(path, 2, 19, StandardCharsets.UTF_8)).isEqualTo("/run/systemd/notify");
        byte[] name = SystemdNotify.address("@abc").orElseThrow();
        assertThat(name).hasSize(2 + 4).endsWith(0, 'a', 'b', 'c');
        assertThat(SystemdNotify.address("relative/path")).isEmpty();
        assertThat(SystemdNotify.address("/")).isEmpty();
        assertThat(SystemdNotify.address("vsock:2:1234")).isEmpty();
        assertThat(SystemdNotify.address("/" + "x".repeat(106))).isPresent();
        assertThat(SystemdNotify.address("/" + "x".repeat(107))).isEmpty();
    }

    /**
     * The addresses are systemd's own: {@code systemd-notify} (systemd's client, from the same package as
     * systemd-analyze, which CI installs) reaches a socket bound at each, so the path's NUL byte and the abstract
     * name's length are as systemd computes them. {@code --no-block}: no barrier, which only systemd answers.
     */
    @Test
    void systemdsOwnClientReachesSocketsBoundAtTheseAddresses() throws Exception {
        Path client = Path.of("/usr/bin/systemd-notify");
        if (!Files.isExecutable(client)) {
            assertThat(System.getenv("CI")).as("systemd-notify is required on CI (apt-get install systemd)")
                    .isNotEqualTo("true");
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "systemd-notify is not installed");
        }
        for (String socket : List.of(dir.resolve("notify").toString(),
                "@buildhook-notify-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime())) {
            int fd = bound(socket);
            try {
                ProcessBuilder builder = new ProcessBuilder(client.toString(), "--no-block", "STATUS=from systemd-notify")
                        .redirectErrorStream(true);
                builder.environment().put(SystemdNotify.VARIABLE, socket);
                Process p = builder.start();
                String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
                assertThat(p.exitValue()).as(socket + ": " + said).isZero();
                List<String> received = receive(fd, new ArrayList<>());
                assertThat(received).as(socket).anySatisfy(m -> assertThat(m).contains("STATUS=from systemd-notify"));
            } finally {
                Receiver.C.close(fd);
            }
        }
    }

    /** A non-blocking datagram socket bound to {@code socket} (a path or {@code @name}). */
    static int bound(String socket) {
        int fd = Receiver.C.socket(SystemdNotify.AF_UNIX, SystemdNotify.SOCK_DGRAM | SystemdNotify.SOCK_CLOEXEC
                | SOCK_NONBLOCK, 0);
        byte[] address = SystemdNotify.address(socket).orElseThrow();
        Receiver.C.bind(fd, address, address.length);
        return fd;
    }

    /** Adds the datagrams waiting on {@code fd} to {@code received}, returns it. */
    static List<String> receive(int fd, List<String> received) {
        byte[] buf = new byte[4096];
        while (true) {
            try {
                int n = Receiver.C.recv(fd, buf, new NativeLong(buf.length), 0).intValue();
                received.add(new String(buf, 0, n, StandardCharsets.UTF_8));
            } catch (LastErrorException e) {
                return received; // EAGAIN: none waiting
            }
        }
    }

    /** The log of the rule's job's first attempt, once it holds the job's environment; null before. */
    String logOf(String rule) throws java.io.IOException {
        return AttemptLogs.firstOf(dir.resolve("data/logs"), rule);
    }
}
