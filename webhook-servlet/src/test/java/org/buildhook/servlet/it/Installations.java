package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /** The secret, a rule touching {@code markers/<build id>} and buildhook.yaml naming them, in {@code dir}. */
    static Path writeConfiguration(Path dir, Path markers) throws IOException {
        writeMarkerRules(dir, markers);
        return writeBuildhookYaml(dir);
    }

    /** {@code dir/rules.yaml}: the rule {@code marker}, touching {@code markers/<build id>}, then the {@code more} lines. */
    static void writeMarkerRules(Path dir, Path markers, String... more) throws IOException {
        List<String> lines = new ArrayList<>(List.of(
                "rules:",
                "  - name: marker",
                "    run:",
                "      command: [/usr/bin/touch, \"" + markers + "/${build.id}\"]",
                "      timeout: 30s"));
        lines.addAll(List.of(more));
        lines.add("");
        Files.writeString(dir.resolve("rules.yaml"), String.join("\n", lines));
    }

    /**
     * {@code dir/secret} ({@link Deliveries#SECRET}) and {@code dir/buildhook.yaml}: data in {@code dir/data}, the
     * rules in {@code dir/rules.yaml}, the endpoint {@code default} with that secret, then the {@code more} lines.
     */
    static Path writeBuildhookYaml(Path dir, String... more) throws IOException {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET + "\n");
        List<String> lines = new ArrayList<>(List.of(
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - file: secret"));
        lines.addAll(List.of(more));
        lines.add("");
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n", lines));
    }

    /** A fixture sent by JobServ's own sender (another process), without retries; its output. */
    static String send(URI app, String fixture) throws Exception {
        return sendFile(app, Deliveries.FIXTURES.resolve(fixture), secretOf(fixture));
    }

    /** {@code payload} signed with {@code secret} and sent by JobServ's own sender, without retries; its output. */
    static String sendFile(URI app, Path payload, String secret) throws Exception {
        Path sender = Path.of(System.getProperty("buildhook.tools")).resolve("jobserv-send");
        Process process = new ProcessBuilder("python3", sender.toString(), app.resolve("webhook").toString(),
                payload.toString(), secret, "--no-retry").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        return output;
    }

    /** The secret signatures.tsv gives {@code fixture}: {@link Deliveries#SECRET}. */
    private static String secretOf(String fixture) throws IOException {
        String secret = null;
        for (String row : Files.readAllLines(Deliveries.FIXTURES.resolve("signatures.tsv"))) {
            String[] cols = row.split("\t");
            if (cols[0].equals(fixture)) {
                secret = cols[1];
            }
        }
        assertThat(secret).as("signatures.tsv row for " + fixture).isEqualTo(Deliveries.SECRET);
        return secret;
    }

    /** Build 68 from JobServ's sender is accepted (202) and its job, the rule of {@link #writeConfiguration}, runs. */
    static void deliverBuild68AndAwaitItsJob(URI app, Path markers) throws Exception {
        assertThat(send(app, "build-68-failed.json")).startsWith("HTTP 202");
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(markers.resolve("68")));
    }

    /** The WAR deployed again into {@code webapps}: the same body of build 68 is then the same delivery (200). */
    static void redeployAndSendBuild68Again(Path webapps, URI app) throws Exception {
        copyWar(webapps);
        awaitHealth(app, 200);
        assertThat(send(app, "build-68-failed.json")).startsWith("HTTP 200").contains("\"duplicate\":true");
    }

    /**
     * The port a container listens on after it was told port 0 (so that two test JVMs on one machine
     * never pick the same one, as a port found free and then handed over could be), read from the
     * first line of its {@code log} that {@code bound} (group 1: the port) matches; waits for it
     * while {@code running} says the container runs.
     */
    static int boundPort(Path log, Pattern bound, BooleanSupplier running) throws IOException {
        await().atMost(DEPLOY).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> !running.getAsBoolean() || bound.matcher(Files.readString(log)).find());
        Matcher found = bound.matcher(Files.readString(log));
        assertThat(found.find()).as("the port in %s: %s", log.getFileName(), Files.readString(log)).isTrue();
        return Integer.parseInt(found.group(1));
    }
}
