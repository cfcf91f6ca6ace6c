package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.stream.Stream;

/** What the real-installation ITs (Tomcat's and Jetty's own distributions) share. */
final class Installations {

    /** Deploy and undeploy waits: generous, CI's two cores may be busy (Tomcat scans every 10 s). */
    static final Duration DEPLOY = Duration.ofMinutes(3);

    private Installations() {
    }

    /** Unpacks {@code tarball} into {@code into}; returns its top folder whose name starts with {@code prefix}. */
    static Path unpack(Path tarball, Path into, String prefix) throws Exception {
        Path unpacked = Files.createDirectories(into);
        Process tar = new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", unpacked.toString())
                .redirectErrorStream(true).start();
        String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tar.waitFor()).as(output).isZero();
        try (Stream<Path> top = Files.list(unpacked)) {
            return top.filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst().orElseThrow();
        }
    }

    /** The WAR copied beside {@code webapps} and moved in at once, so that the container never sees half a WAR. */
    static void copyWar(Path webapps) throws IOException {
        Files.createDirectories(webapps);
        Path staged = Files.copy(Container.war(), webapps.resolveSibling("buildhook.war.part"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.move(staged, webapps.resolve("buildhook.war"), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Waits until the application's /healthz answers {@code status} (404: undeployed). */
    static void awaitHealth(URI app, int status) {
        await().atMost(DEPLOY).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> Deliveries.get(app.resolve("healthz")).statusCode() == status);
    }

    /** A POST with a JSON body of 2 bytes and {@code requestLine} as written, over a plain socket; the raw answer. */
    static String raw(int port, String requestLine) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write((requestLine + "\r\nHost: localhost\r\nAccept: */*\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                    .getBytes(StandardCharsets.ISO_8859_1));
            return RawHttp.readAnswer(socket, Duration.ofSeconds(30));
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
