package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code buildhook check} warns about a valid rules file on this machine (a program that does
 * not exist or is not executable) a real server says in its log too, at start and at each reload:
 * a hot-reloaded rule naming a script not deployed yet would otherwise show only as a failed job.
 */
class RulesMachineWarningsTest {

    @TempDir
    Path dir;

    @Test
    void aRuleWhoseProgramIsMissingIsWarnedAboutAtStartAndAtEachReloadWithItsLine() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: deploy",
                "    run: {command: [/no/such/deploy.sh]}",
                ""));
        Path config = TestConfig.write(dir, "rules: rules.yaml", TestConfig.LOCAL_SERVER);
        try (ApplicationLog log = new ApplicationLog();
                BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            assertThat(log.warnings()).anySatisfy(w -> assertThat(w).startsWith(rules + ":3:")
                    .contains("rule 'deploy': executable not found: /no/such/deploy.sh")
                    .contains("its jobs will fail to start on this node"));

            Path notExecutable = Files.writeString(dir.resolve("archive.sh"), "#!/bin/sh\n");
            Files.writeString(rules, String.join("\n",
                    "rules:",
                    "  - name: archive",
                    "    run: {command: [" + notExecutable + "]}",
                    ""));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(log.warnings())
                    .anySatisfy(w -> assertThat(w).startsWith(rules + ":3:")
                            .contains("rule 'archive': permission denied: " + notExecutable + " is not executable")));
        }
    }

    /** A placeholder written the shell way (tryout30 F2) is said in the server's log at start and at each reload. */
    @Test
    void aPlaceholderWrittenTheShellWayIsWarnedAboutAtStartAndAtEachReloadWithItsLineAndColumn() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: flash",
                "    run: {command: [/bin/echo, \"$BUILDHOOK_BUILD_ID\"]}",
                ""));
        Path config = TestConfig.write(dir, "rules: rules.yaml", TestConfig.LOCAL_SERVER);
        try (ApplicationLog log = new ApplicationLog();
                BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            assertThat(log.warnings()).anySatisfy(w -> assertThat(w).contains(rules + ":3:32: '$BUILDHOOK_BUILD_ID'"
                    + " stays that literal text: no shell expands it; use ${build.id} or read the variable in your script"));

            Files.writeString(rules, String.join("\n",
                    "rules:",
                    "  - name: flash",
                    "    run: {command: [/bin/echo, \"{build.id}\"]}",
                    ""));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(log.warnings())
                    .anySatisfy(w -> assertThat(w).contains(rules + ":3:32: '{build.id}' is not a placeholder")));
        }
    }

    /**
     * tryout47b F18: a follow-up's {@code ${job.url}} is empty on a node whose configuration has no {@code
     * admin.public-url}. The rules file stays valid (the address is the configuration's), but {@code check} and the
     * server's start say so at its place; with the address set, neither does.
     */
    @Test
    void aJobPageLinkWithNoPublicUrlIsWarnedAboutByCheckAndAtStartWithItsLineAndColumn() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: deploy",
                "    run: {command: [/bin/false]}",
                "    on-failure: {command: [/bin/echo, \"${job.id}\", \"${job.url}\"]}",
                ""));
        String warning = rules + ":4:53: warning: '${job.url}' is empty: the configuration sets no admin.public-url (the"
                + " address people open the status page at, https://buildhook.example.com/), which a job's page link is"
                + " made of (docs/configuration.md)";
        CheckRun check = new CheckRun();
        Path without = CheckRun.config(dir, dir.resolve("data"), "rules: " + rules + "\n");
        assertThat(check.check(without)).isZero();
        assertThat(check.out.toString().lines()).contains(warning);

        Path with = CheckRun.config(dir, dir.resolve("data"), "rules: " + rules + "\n"
                + "admin: {token: {value: t0ken-0f-the-admin}, public-url: \"https://ci.example.com/\"}\n");
        assertThat(check.check(with)).isZero();
        assertThat(check.out.toString()).doesNotContain("${job.url}");

        Path config = TestConfig.write(dir, "rules: rules.yaml", TestConfig.LOCAL_SERVER);
        try (ApplicationLog log = new ApplicationLog();
                BuildhookServer server = TestConfig.server(TestConfig.load(config))) {
            server.start();
            assertThat(log.warnings()).anySatisfy(w -> assertThat(w).contains(warning.replace(": warning: ", ": ")));
        }
    }
}
