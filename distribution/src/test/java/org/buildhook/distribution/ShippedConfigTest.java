package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tarball's {@code conf/buildhook.yaml}: valid, with the rules and a generated admin token on. */
class ShippedConfigTest {

    private static final Path CONF = Path.of("src/main/dist/conf");

    @TempDir
    Path dir;

    @Test
    void theShippedConfigurationLoadsWithRulesAndAGeneratedAdminToken() throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.copy(CONF.resolve("buildhook.yaml"), conf.resolve("buildhook.yaml"));
        Files.copy(CONF.resolve("rules.yaml"), conf.resolve("rules.yaml"));

        BuildhookConfig config = new ConfigLoader(Map.of(), dir).load(conf.resolve("buildhook.yaml"));

        assertThat(config.rulesFile()).isEqualTo(conf.resolve("rules.yaml"));
        assertThat(config.admin().enabled()).isTrue();
        assertThat(config.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(config.dataDir().resolve("admin-token")).isNotEmptyFile();
        assertThat(AdminOptions.defaultUrl(config.server())).hasToString("http://localhost:8080/");
    }

    @Test
    void theShippedConfigurationShowsEveryTopLevelKeyOfTheExample() throws Exception {
        String shipped = Files.readString(CONF.resolve("buildhook.yaml"));
        for (String key : new String[] {"data-dir:", "rules:", "store:", "url:", "dedup-window:", "retention:",
                "pool-size:", "endpoints:", "secrets:", "runner:", "threads:", "node-id:", "log-dir:", "log-max-bytes:",
                "kill-grace:", "shutdown-grace:", "workdir:", "http:", "max-body:", "retry-after:", "trusted-proxies:",
                "admin:", "token:", "server:", "host:", "port:", "context-path:", "tls:", "keystore:", "password:",
                "idle-timeout:", "request-timeout:", "stop-timeout:"}) {
            assertThat(shipped).as(key).contains(key);
        }
    }
}
