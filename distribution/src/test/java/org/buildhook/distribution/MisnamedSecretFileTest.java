package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A secret file named where a rules file, a configuration or a payload was meant ({@code rules:
 * jobserv-secret}, {@code --config data/admin-token}) is refused without its content: YAML reads its
 * one line as a string, which the error, and for {@code serve} the server log, used to repeat.
 */
class MisnamedSecretFileTest {

    static final String SECRET = "UseSomethingGoodHere-7f3a9c";

    @TempDir
    Path dir;
    Path secretFile;
    ServeProcesses processes;
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    @BeforeEach
    void aSecretFile() throws Exception {
        secretFile = Files.writeString(dir.resolve("jobserv-secret"), SECRET + "\n");
        processes = new ServeProcesses(dir);
    }

    @AfterEach
    void killAll() throws InterruptedException {
        processes.close();
    }

    int run(String... args) {
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void checkAndTestNameASecretFileGivenAsTheRulesOrTheConfigurationWithoutPrintingIt() {
        assertThat(run("check", "--rules", secretFile.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(run("check", "--config", secretFile.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(run("test", CommandLineTest.PAYLOAD, "--rules", secretFile.toString())).isEqualTo(ExitCodes.FAILED);

        String said = out + "\n" + err;
        assertThat(said).doesNotContain(SECRET).doesNotContain("UseSomething")
                .contains("jobserv-secret:1:1: the rules file must be a mapping (key: value lines), got a plain text of "
                        + SECRET.length() + " character(s), not shown since such a file may hold a secret")
                .contains("jobserv-secret:1:1: (top level): expected a mapping (key: value lines), got a plain text of "
                        + SECRET.length() + " character(s)");
    }

    @Test
    void testGivenASecretFileAsItsPayloadSaysItIsNoJsonObjectWithoutPrintingIt() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"),
                "rules:\n  - name: a\n    run: {command: [/bin/true]}\n");

        assertThat(run("test", secretFile.toString(), "--rules", rules.toString())).isEqualTo(ExitCodes.FAILED);

        assertThat(out + "\n" + err).doesNotContain(SECRET).doesNotContain("UseSomething")
                .contains("jobserv-secret is not a JobServ build event: it is not a JSON object")
                .contains("not shown");
    }

    @Test
    void aServerWhoseRulesKeyNamesASecretFileRefusesToStartAndLogsNoSecret() throws Exception {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: jobserv-secret",
                "endpoints:",
                "  fleet:",
                "    secrets: [{file: jobserv-secret}]",
                ""));
        Path log = dir.resolve("serve.out");

        Process serve = processes.serve(config, log, "--host", "127.0.0.1", "--port", "0");

        assertThat(serve.waitFor(2, TimeUnit.MINUTES)).as("a refused start ends by itself").isTrue();
        String printed = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(serve.exitValue()).as(printed).isEqualTo(ExitCodes.CONFIGURATION);
        assertThat(printed).contains("jobserv-secret:1:1: the rules file must be a mapping")
                .doesNotContain(SECRET).doesNotContain("UseSomething");
    }
}
