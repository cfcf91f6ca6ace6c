package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.Signer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The line {@code serve} prints once it listens names the URL JobServ must post to: with no endpoint
 * {@code default}, a plain {@code /webhook} is answered 404, so the line names each endpoint's own URL.
 */
class ServeBannerTest {

    @TempDir
    Path dir;
    Process server;
    final List<String> output = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Starts {@code serve --config config} in its own JVM in {@link #dir}; returns its base URL once it listens. */
    private String serve(Path config) throws Exception {
        return serve(config, "-Dbuildhook.test=1");
    }

    /** As {@link #serve(Path)}, with {@code property} ({@code -Dname=value}) for the JVM. */
    private String serve(Path config, String property) throws Exception {
        server = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), property, "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", config.toString())
                .directory(dir.toFile()).redirectErrorStream(true).start();
        return ServeOutput.awaitListening(server, output, "serve-banner-test-output");
    }

    /**
     * tryout46 F1: with the default server.host (0.0.0.0) the line said "listening on http://localhost:PORT/" while the
     * server, its admin API and status page included, answered on every interface: it says so now, and still names
     * the URL that reaches it from this host.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"0.0.0.0", "'::'", "'0:0:0:0:0:0:0:0'"})
    void aServerOnEveryInterfaceSaysSoBesideTheUrlOfThisHost(String host) throws Exception {
        // review46: "0:0:0:0:0:0:0:0", every interface too, was taken for one address: "http://0:0:0:0:0:0:0:0:PORT/".
        Files.writeString(dir.resolve("secret"), "s3cret\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints:",
                "  default: {secrets: [{file: secret}]}",
                "server: {host: " + host + ", port: 0}",
                ""));
        String base = serve(config);

        String listening = snapshot().stream().filter(l -> l.startsWith("buildhook listening on")).findFirst().orElseThrow();
        Matcher port = Pattern.compile("^http://localhost:(\\d+)/$").matcher(base);
        assertThat(port.find()).as(base).isTrue();
        assertThat(listening).isEqualTo("buildhook listening on all interfaces, port " + port.group(1)
                + " (from this host: " + base + "; POST " + base + "webhook)");
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base
                + "healthz")).timeout(Duration.ofMinutes(1)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as("the URL of this host reaches it").isIn(200, 503);
    }

    @Test
    void withoutADefaultEndpointTheListeningLineNamesTheUrlsThatAcceptWebhooks() throws Exception {
        Files.writeString(dir.resolve("secret"), "s3cret\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints:",
                "  factory: {secrets: [{file: secret}]}",
                "  staging: {secrets: [{file: secret}]}",
                TestConfig.LOCAL_SERVER,
                ""));
        String base = serve(config);

        String listening = snapshot().stream().filter(l -> l.startsWith("buildhook listening on")).findFirst().orElseThrow();
        assertThat(listening).isEqualTo("buildhook listening on " + base + " (POST " + base + "webhook/factory, "
                + base + "webhook/staging)");
        Matcher first = Pattern.compile("\\(POST (\\S+),").matcher(listening);
        assertThat(first.find()).isTrue();
        byte[] body = Files.readAllBytes(CommandLineTest.FIXTURES.resolve("build-67-passed.json"));
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
        HttpResponse<String> named = client.send(post(URI.create(first.group(1)), body), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> plain = client.send(post(URI.create(base + "webhook"), body), HttpResponse.BodyHandlers.ofString());

        assertThat(named.statusCode()).as(named.body()).isEqualTo(202);
        assertThat(plain.statusCode()).as("plain /webhook, which the line no longer names").isEqualTo(404);
        // Which build runs (tryout18 F5): in the banner and at the end of the log's start line.
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> output.contains(
                "  build:     " + org.buildhook.servlet.BuildInfo.describe()));
        assertThat(snapshot()).as("a node that can write its folders").noneMatch(l -> l.startsWith("  jobs:"));
        assertThat(snapshot()).anyMatch(l -> l.contains("buildhook started: endpoints [factory, staging];")
                && l.endsWith("; build " + org.buildhook.servlet.BuildInfo.describe()));
    }

    /**
     * tryout19 F9: a node started with a file where its payload folder goes starts no jobs (final18 F1), and
     * its banner, the first thing an operator reads, said nothing of it; it now has a {@code jobs:} line. A
     * node that can write has none.
     */
    @Test
    void aNodePausedFromItsStartSaysSoInItsBanner() throws Exception {
        Files.createDirectories(dir.resolve("data"));
        Path payloads = Files.writeString(dir.resolve("data").resolve("payloads"), "not a folder");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                TestConfig.LOCAL_SERVER,
                ""));
        serve(config);

        // Awaited itself, not after the build line: serve prints the banner a line at a time (an autoflushed
        // writer), and the jobs line comes after the build line, so a look between the two saw no jobs line yet.
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(snapshot())
                .anyMatch(l -> l.startsWith("  jobs:      none start now: it cannot write ") && l.endsWith(
                        payloads.getFileName() + " (a file is where the folder goes); they start once it can")));
    }

    /**
     * tryout47b F14: the tarball's walk-through, run from the unpacked folder with the shipped relative data-dir, kept
     * the store and the webhook secret inside the installation, which the next version's folder does not have (an
     * empty store, a new secret: every delivery 401). The banner says so; a data folder elsewhere gets no such line.
     */
    @Test
    void aDataFolderInsideTheInstallationIsSaidInTheBanner() throws Exception {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                TestConfig.LOCAL_SERVER,
                ""));
        serve(config, "-Dbuildhook.home=" + dir);

        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> snapshot().stream()
                .anyMatch(l -> l.startsWith("  build:     ")));
        assertThat(snapshot()).anyMatch(l -> l.equals("  warning:   the data folder is inside the installation folder "
                + dir.toAbsolutePath().normalize() + ": the next version, unpacked into a folder of its own, starts with"
                + " an empty store and a new webhook secret (every JobServ delivery then answered 401). For a lasting"
                + " install give data-dir a folder of its own, e.g. /var/lib/buildhook (docs/deploying.md)"));
        assertThat(ServeCommand.insideInstallation(dir.resolve("elsewhere"), dir.resolve("opt").toString())).isEmpty();
        assertThat(ServeCommand.insideInstallation(dir.resolve("data"), null)).isEmpty();
    }

    @Test
    void withoutARulesFileTheStartWarnsOnceAndTheStopNamesTheGraceAsItIsWritten() throws Exception {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "runner: {shutdown-grace: 45s}",
                TestConfig.LOCAL_SERVER,
                ""));
        serve(config);

        // SIGTERM through the handle: Process.destroy() would also close the output this test reads.
        assertThat(server.toHandle().destroy()).isTrue();
        try {
            org.awaitility.Awaitility.await("the last line of a stop after SIGTERM").atMost(Duration.ofMinutes(2))
                    .until(() -> snapshot().stream().anyMatch(l -> l.contains("buildhook stopped")));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("serve's output: " + String.join("\n", snapshot()), e);
        }
        List<String> lines = snapshot();
        assertThat(lines.stream().filter(l -> l.contains(" WARN ") && l.contains("no rules file configured")))
                .as(String.join("\n", lines)).hasSize(1);
        assertThat(lines.stream().filter(l -> l.contains("stopping: deliveries are still accepted"))).singleElement()
                .asString().contains("running jobs get up to 45s (runner.shutdown-grace)").doesNotContain("PT45S");
        assertThat(lines).anySatisfy(l -> assertThat(l).endsWith("received SIGTERM: stopping gracefully"));
    }

    private List<String> snapshot() {
        synchronized (output) {
            return new ArrayList<>(output);
        }
    }

    private static HttpRequest post(URI uri, byte[] body) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("X-JobServ-Sig", Signer.sign(body, "s3cret".getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    /** An IPv6 address of one interface is written in brackets in the URL: "http://::1:PORT/" was no URL (review46). */
    @Test
    void aServerOnOneIpv6AddressNamesItInBrackets() throws Exception {
        Files.writeString(dir.resolve("secret"), "s3cret\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints:",
                "  default: {secrets: [{file: secret}]}",
                "server: {host: '::1', port: 0}",
                ""));
        String base = serve(config);

        assertThat(base).matches("^http://\\[::1\\]:\\d+/$");
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base
                + "healthz")).timeout(Duration.ofMinutes(1)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as("the URL reaches it").isIn(200, 503);
    }
}
