package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * tryout53 F3: while the rules file the configuration names was moved away, every admin command run the documented
 * way ({@code buildhook status -c buildhook.yaml}) refused with "the configuration has mistakes: … rules file … not
 * found" (exit 3), exactly when {@code status} is the command that says the server refuses it. The admin commands read
 * only what they use of the configuration (its data folder, the server's address, the admin token); a problem
 * anywhere else is {@code check}'s to report, and one where they read is still said.
 */
class AdminCommandsWithoutTheRulesFileTest {

    @TempDir
    Path dir;

    private AdminServer server;
    private StringWriter out;
    private StringWriter err;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void statusAndJobsWithTheServersConfigurationSayTheRulesFileMissingWhileItIsMovedAway() throws Exception {
        server = AdminServer.start(dir);
        String delivery = server.deliver("build-67-passed.json");
        server.awaitJob(delivery, "SUCCEEDED");
        // As serve leaves it: where the configuration's own 'port: 0' server listens.
        ServerUrlFile.write(dir.resolve("data"), server.uri());
        Path yaml = dir.resolve("buildhook.yaml");
        Path rules = dir.resolve("rules.yaml");
        Files.move(rules, dir.resolve("rules.moved"));
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            server.app().rules().checkNow();
            return server.app().rules().lastError().isPresent();
        });

        assertThat(run("status", "-c", yaml.toString())).as(out + "" + err).isZero();
        assertThat(out.toString().lines()).anySatisfy(line -> assertThat(line)
                .startsWith("rules    REFUSED " + rules + " since ").contains("the rules file is missing"));
        assertThat(out.toString()).contains("health   ok");
        assertThat(err.toString()).doesNotContain("mistakes");

        assertThat(run("jobs", "-c", yaml.toString(), "--json")).as(out + "" + err).isZero();
        assertThat(AdminServer.json(out.toString()).path("items").size()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aMistakeWhereTheCommandsDoNotReadStopsNoneButOneWhereTheyReadIsSaid() throws Exception {
        server = AdminServer.start(dir);
        ServerUrlFile.write(dir.resolve("data"), server.uri());
        // The rules file a folder, an endpoint's secret file gone, a runner setting out of range, a key misspelt in a
        // section they do not read, a keystore that is not here: serve and check refuse it, the admin commands use none.
        Files.createDirectories(dir.resolve("rules-folder"));
        Path yaml = Files.writeString(dir.resolve("other.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules-folder",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - file: gone-secret",
                "admin:",
                "  token: {file: admin-token}",
                "runner:",
                "  threads: 0",
                "  kill-grce: 1s",
                "server:",
                "  host: 127.0.0.1",
                "  port: 1",
                "  tls: {keystore: not-here.p12, password: {file: not-here-either}}",
                ""));
        assertThat(run("check", "-c", yaml.toString())).isNotZero();

        assertThat(run("jobs", "-c", yaml.toString(), "--json")).as(out + "" + err).isZero();
        assertThat(AdminServer.json(out.toString()).path("items").isArray()).isTrue();

        // Where they read, a mistake or a missing file is said with its place, as before.
        Files.writeString(yaml, Files.readString(yaml).replace("{file: admin-token}", "{file: no-token}")
                .replace("port: 1", "port: http"));
        assertThat(run("jobs", "-c", yaml.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).startsWith("buildhook: the configuration has mistakes:\n")
                .contains(yaml + ":8:17: admin.token.file: secret file " + dir.resolve("no-token") + " not found")
                .contains(yaml + ":14:9: server.port: expected a whole number")
                .doesNotContain("rules").doesNotContain("threads").doesNotContain("gone-secret");

        Files.writeString(yaml, Files.readString(yaml).replace("port: http", "port: 1"));
        assertThat(run("status", "-c", yaml.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).isEqualTo("buildhook: the configuration names a file that is not there or cannot"
                + " be read:\n" + yaml + ":8:17: admin.token.file: secret file " + dir.resolve("no-token") + " not found\n");
    }

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }
}
