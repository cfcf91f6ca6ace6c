package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout50 F6: on a real server the rule {@code [/usr/bin/git, -c, "core.sshCommand=${build.trigger}", ls-remote,
 * …]} loaded without a word, and a signed build whose trigger was {@code uname} ran {@code uname}: git's {@code -c
 * core.sshCommand} is {@code GIT_SSH_COMMAND}, which was refused. Now {@code check} refuses the file at the
 * element's line and column, a reload to it is refused (the rules before stay in force), and that build starts no job
 * of it.
 */
class GitSshCommandOptionRefusedTest {

    private static final String GITX = "rules:\n  - name: gitx\n    run:\n      command: [/usr/bin/git, -c,"
            + " \"core.sshCommand=${build.trigger}\", ls-remote, \"ssh://git@example.invalid/fleet.git\"]\n";

    @TempDir
    Path dir;

    private AdminServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void checkAndAReloadRefuseTheRuleAndTheTriggerUnameRunsNothingOfIt() throws Exception {
        Path alone = Files.writeString(dir.resolve("gitx.yaml"), GITX);
        CheckRun check = new CheckRun();
        assertThat(check.check(CheckRun.config(dir, dir.resolve("check-data"), "rules: " + alone + "\n")))
                .isNotEqualTo(ExitCodes.OK);
        assertThat(check.out.toString() + check.err).contains(alone + ":4:35: placeholder '${build.trigger}' in the"
                + " value of git's -c core.sshCommand: its value is the build's own text")
                .contains("$BUILDHOOK_TRIGGER");

        server = AdminServer.start(dir);
        server.replaceRules(GITX);
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            server.app().rules().checkNow();
            return server.app().rules().lastError().isPresent();
        });
        assertThat(server.app().rules().lastError().orElseThrow().problems().get(0).message())
                .contains("in the value of git's -c core.sshCommand");

        ObjectNode build = (ObjectNode) new ObjectMapper().readTree(AdminServer.fixture("build-67-passed.json"));
        build.put("trigger_name", "uname");
        String delivery = server.deliverBody(new ObjectMapper().writeValueAsBytes(build));

        JsonNode jobs = server.getJson("jobs?delivery=" + delivery.toLowerCase(java.util.Locale.ROOT)).path("items");
        assertThat(jobs.findValuesAsText("rule")).as(jobs.toString()).containsExactly("echo");
        assertThat(server.app().rules().current().ruleNames()).containsExactly("echo", "wait");
    }
}
