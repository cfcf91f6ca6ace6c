package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAR in a real Tomcat hands its jobs no secret: the endpoint secret and the admin token come
 * from environment variables of the container's JVM (set by failsafe), a rule runs
 * {@code /usr/bin/env}, and neither variable is in the job's log.
 */
class WarJobEnvironmentIT {

    static final String ENDPOINT_SECRET_VARIABLE = "BUILDHOOK_IT_ENDPOINT_SECRET";
    static final String ADMIN_TOKEN_VARIABLE = "BUILDHOOK_IT_ADMIN_TOKEN";

    @Test
    void aJobOfTheWarSeesNeitherTheEndpointSecretNorTheAdminToken(@TempDir Path dir) throws Exception {
        String endpointSecret = System.getenv(ENDPOINT_SECRET_VARIABLE);
        String adminToken = System.getenv(ADMIN_TOKEN_VARIABLE);
        assertThat(endpointSecret).as("set by failsafe").isEqualTo(Deliveries.SECRET);
        assertThat(adminToken).as("set by failsafe").isNotBlank();
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: show-env\n    run: {command: [/usr/bin/env]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets: [{env: " + ENDPOINT_SECRET_VARIABLE + "}]",
                "admin:",
                "  token: {env: " + ADMIN_TOKEN_VARIABLE + "}",
                "runner:",
                "  inherit-env: [" + ADMIN_TOKEN_VARIABLE + "]",
                ""));
        try (Container container = new TomcatContainer(dir.resolve("container"))) {
            assertThat(container.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();

            assertThat(Deliveries.postSigned(container.base().resolve("webhook"), Deliveries.seedWithBuildId(801))
                    .statusCode()).isEqualTo(202);

            Path logs = dir.resolve("data/logs");
            await().atMost(Duration.ofSeconds(60)).until(() -> !attemptLogs(logs).isEmpty()
                    && Files.readString(attemptLogs(logs).get(0)).contains("BUILDHOOK_RULE=show-env"));
            String env = Files.readString(attemptLogs(logs).get(0), StandardCharsets.UTF_8);
            assertThat(env).contains("BUILDHOOK_BUILD_ID=801", "PATH=")
                    .doesNotContain(endpointSecret, adminToken, ENDPOINT_SECRET_VARIABLE, ADMIN_TOKEN_VARIABLE);
        }
    }

    private static List<Path> attemptLogs(Path logs) throws java.io.IOException {
        if (!Files.isDirectory(logs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(logs)) {
            return files.filter(p -> p.getFileName().toString().equals("attempt-1.log")).toList();
        }
    }
}
