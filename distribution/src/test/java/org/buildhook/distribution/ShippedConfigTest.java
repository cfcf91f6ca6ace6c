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
        // Generated now, written by the start (tryout13 F6).
        assertThat(config.pendingSecrets()).extracting(org.buildhook.servlet.config.PendingSecret::file)
                .contains(config.dataDir().resolve("admin-token"));
        assertThat(AdminOptions.defaultUrl(config.server())).hasToString("http://localhost:8080/");
    }

    /**
     * The tarball's {@code conf/logback.xml} folds db-scheduler's and HikariCP's repeats while the
     * store is away (a try-out counted 650 lines of stack traces in 50 s of a PostgreSQL outage).
     */
    @Test
    void theShippedLoggingFoldsTheLibrariesRepeats() throws Exception {
        ch.qos.logback.classic.LoggerContext context = new ch.qos.logback.classic.LoggerContext();
        ch.qos.logback.classic.joran.JoranConfigurator configurator = new ch.qos.logback.classic.joran.JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(CONF.resolve("logback.xml").toFile());

        assertThat(context.getTurboFilterList()).hasAtLeastOneElementOfType(
                org.buildhook.servlet.logging.RepeatedLibraryLogFilter.class);
        assertThat(context.getStatusManager().getCopyOfStatusList()).noneMatch(st -> st.getLevel() >= 2);
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

    /**
     * "Embedded defaults" means one thing everywhere — no configuration file at all: no rules and
     * the admin API off, as the loader gives — and the shipped conf/buildhook.yaml (sample rules, a
     * generated admin token) is never called that, in the README, docs/ or any command's help.
     */
    @Test
    void embeddedDefaultsMeanNoFileAtAllEverywhereTheyAreNamed() throws Exception {
        BuildhookConfig defaults = new ConfigLoader(Map.of(), dir).withoutWriting().defaults();
        assertThat(defaults.rulesFile()).isNull();
        assertThat(defaults.admin().enabled()).isFalse();
        assertThat(defaults.endpoints()).containsOnlyKeys("default");
        assertThat(defaults.dataDir()).isEqualTo(dir.resolve("data"));
        assertThat(defaults.server().port()).isEqualTo(8080);

        Path root = Path.of(System.getProperty("buildhook.fixtures")).getParent();
        java.util.List<String> texts = new java.util.ArrayList<>();
        texts.add(Files.readString(root.resolve("README.md")));
        try (java.util.stream.Stream<Path> docs = Files.list(root.resolve("docs"))) {
            for (Path doc : docs.filter(p -> p.toString().endsWith(".md")).toList()) {
                texts.add(Files.readString(doc));
            }
        }
        java.io.StringWriter help = new java.io.StringWriter();
        picocli.CommandLine cl = BuildhookCommand.commandLine();
        cl.usage(new java.io.PrintWriter(help));
        for (picocli.CommandLine sub : cl.getSubcommands().values()) {
            sub.usage(new java.io.PrintWriter(help));
        }
        texts.add(help.toString());
        for (String text : texts) {
            // Each sentence (or help line pair) naming the embedded defaults must not give them rules or a token.
            for (String sentence : text.replace("\n", " ").split("(?<=[.;:])\\s|\\n\\s*\\n")) {
                if (sentence.contains("embedded defaults")) {
                    assertThat(sentence).as("a mention of the embedded defaults")
                            .doesNotContain("sample rules").doesNotContain("generated admin token");
                }
            }
        }
        Path configuration = root.resolve("docs/configuration.md");
        assertThat(Files.readString(configuration)).contains("**The embedded defaults**")
                .contains("**no rules** and **the admin API off**");
    }
}
