package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an admin command loads in its own process (tryout49 F4: every command cost seconds on a loaded host while
 * the server answered in milliseconds): the classes of what it does not need are not loaded at all. Counted by the
 * JVM's own class-loading log, not by time, so the machine's speed does not matter.
 */
class AdminCommandStartTest {

    @TempDir
    Path dir;
    AdminServer server;

    @BeforeEach
    void start() throws Exception {
        server = AdminServer.start(dir);
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    /**
     * {@code buildhook jobs --config FILE} of a configuration with a rules file and the server's address: it reads
     * the configuration for the address and the token only. It does not compile the rules file (the rule compiler's
     * classes), does not start Logback (its XML configuration parsed: a quarter of the command's CPU, for no line),
     * and, asking a plain {@code http} address, does not read the JDK's trust store (a sixth of its CPU).
     */
    @Test
    void jobsWithTheConfigurationLoadsNeitherRulesNorLoggingNorTheTrustStore() throws Exception {
        String delivery = server.deliver("build-67-passed.json");
        URI uri = server.uri();
        Path rules = dir.resolve("rules.yaml"); // the server's own, which it compiled
        Path config = Files.writeString(dir.resolve("client.yaml"), String.join("\n",
                "data-dir: " + dir.resolve("client-data"),
                "rules: " + rules,
                "server:",
                "  host: " + uri.getHost(),
                "  port: " + uri.getPort(),
                "admin:",
                "  token: {file: " + dir.resolve("admin-token") + "}",
                ""));
        Path classes = dir.resolve("classes.log");

        ProcessBuilder command = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "-Xlog:class+load=info:file=" + classes, "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "jobs", "--config", config.toString()).redirectErrorStream(true);
        Process p = command.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(p.waitFor()).as(output).isZero();
        assertThat(output).contains(delivery);
        List<String> loaded = Files.readAllLines(classes).stream()
                .filter(l -> l.contains("ch.qos.logback.") || l.contains("org.buildhook.runner.rules.RuleSetLoader")
                        || l.contains("sun.security.ssl.TrustStoreManager"))
                .collect(Collectors.toList());
        assertThat(loaded).as("classes loaded that jobs does not need").isEmpty();
    }
}
