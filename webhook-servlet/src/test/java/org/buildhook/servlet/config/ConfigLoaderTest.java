package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.buildhook.core.Secret;
import org.buildhook.runner.engine.EngineConfig;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    /** docs/ of the repository, found beside the fixtures surefire names. */
    static final Path DOCS = Path.of(System.getProperty("buildhook.fixtures", "../fixtures")).resolveSibling("docs");

    @TempDir
    Path dir;

    @Test
    void aRulesFileWithMistakesIsRefusedBeforeAnySecretIsGenerated() throws IOException {
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: a\n    run:\n      comand: [/bin/true]\n");
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "rules: rules.yaml\nadmin:\n  token: generate\n");

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(file))
                .isInstanceOf(org.buildhook.runner.rules.RuleException.class).hasMessageContaining("rules.yaml:4:7");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    /**
     * tryout47b F19: a buildhook.yaml (or rules file) with one Latin-1 byte was refused with "not UTF-8 text" and no
     * line, column or byte, the only mistake without them; both files now say where, which byte, and to save as UTF-8.
     */
    @Test
    void aByteThatIsNotUtf8IsSaidWithItsLineAndColumnNotItsValue() throws IOException {
        Path file = dir.resolve("buildhook.yaml");
        byte[] latin1 = "data-dir: data\n# d\u00e9j\u00e0 vu, caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Files.write(file, latin1);
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":2:4: a byte that is not UTF-8 (not shown: the file may hold secrets): the configuration file must be saved"
                        + " as UTF-8 text (an editor saving Latin-1 or Windows-1252 writes 'é' as the one byte 0xE9;"
                        + " save it again choosing UTF-8, or convert it: iconv -f latin1 -t utf-8)");

        // A byte of a secret written inline is not shown (review48 F8): where it is, not what.
        byte[] secret = "endpoints:\n  fleet:\n    secrets: [{value: \"s3cr\u00f7t\"}]\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Files.write(file, secret);
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":3:28: a byte that is not UTF-8 (not shown")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("F7").doesNotContain("s3cr"));

        // After a UTF-8 'é' on the same line, the column still counts characters.
        byte[] rules = "rules:\n  - name: lat1\n    run: {command: [/bin/echo, \"\u00e9 caf".getBytes(
                java.nio.charset.StandardCharsets.UTF_8);
        byte[] all = java.util.Arrays.copyOf(rules, rules.length + 4);
        all[rules.length] = (byte) 0xe9;
        all[rules.length + 1] = '"';
        all[rules.length + 2] = ']';
        all[rules.length + 3] = '}';
        Path rulesFile = Files.write(dir.resolve("rules.yaml"), all);
        assertThatThrownBy(() -> new org.buildhook.runner.rules.RuleSetLoader(java.time.Clock.systemUTC()).load(rulesFile))
                .isInstanceOf(org.buildhook.runner.rules.RuleException.class)
                .hasMessageStartingWith(rulesFile + ":3:38: a byte that is not UTF-8 (not shown: the file may hold secrets): the rules file must be saved as"
                        + " UTF-8 text");
    }

    @Test
    void loadsTheDocumentedExampleWithEveryValueAsWritten() throws Exception {
        Path file = dir.resolve("buildhook.yaml");
        Files.copy(DOCS.resolve("buildhook.example.yaml"), file);
        Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(dir.resolve("secrets/jobserv-secret"), "jobserv-one\n");
        Files.writeString(dir.resolve("secrets/lmp-secret"), "lmp-one");
        Files.writeString(dir.resolve("secrets/admin-token"), "admin-one\r\n");
        Files.writeString(dir.resolve("secrets/keystore-pass"), "changeit\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules: []\n");
        TestKeystores.withKey(dir.resolve("keystore.p12"), "changeit");
        Map<String, String> env = Map.of("BUILDHOOK_DB_PASSWORD", "db pass&1", "JOBSERV_SECRET_NEXT", "jobserv-two");

        BuildhookConfig config = new ConfigLoader(env, dir.resolve("elsewhere")).load(file);

        assertThat(config.source()).isEqualTo(file);
        assertThat(config.dataDir()).isEqualTo(Path.of("/var/lib/buildhook"));
        assertThat(config.rulesFile()).isEqualTo(dir.resolve("rules.yaml"));
        StoreConfig store = config.store();
        assertThat(store.url()).isEqualTo("jdbc:postgresql://db:5432/buildhook?user=buildhook&password=db+pass%261");
        assertThat(store.dataDir()).isEqualTo(Path.of("/var/lib/buildhook"));
        assertThat(store.dedupWindow()).isEqualTo(Duration.ofDays(7));
        assertThat(store.retention()).isEqualTo(Duration.ofDays(30));
        assertThat(store.poolSize()).isEqualTo(10);
        assertThat(store.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.endpoints()).containsOnlyKeys("default", "lmp");
        assertThat(config.endpoints().keySet()).containsExactly("default", "lmp");
        assertThat(config.endpoints().get("default").secrets()).containsExactly(Secret.of("jobserv-one"), Secret.of("jobserv-two"));
        assertThat(config.endpoints().get("lmp").secrets()).containsExactly(Secret.of("lmp-one"));
        EngineConfig engine = config.engine();
        assertThat(engine.threads()).isEqualTo(4);
        assertThat(engine.nodeId()).isEqualTo("builder-1");
        assertThat(engine.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(engine.statusPage()).hasToString("https://buildhook.example.com/");
        LauncherConfig launcher = config.launcher();
        assertThat(launcher.logDirectory()).isEqualTo(dir.resolve("logs"));
        assertThat(launcher.logCapBytes()).isEqualTo(10L * 1024 * 1024);
        assertThat(launcher.killGrace()).isEqualTo(Duration.ofSeconds(10));
        assertThat(launcher.defaultWorkdir()).isEqualTo(Path.of("/tmp"));
        assertThat(launcher.baseEnvironment()).as("both variables hold secrets").isEmpty();
        assertThat(config.http().maxBodyBytes()).isEqualTo(5L * 1024 * 1024);
        assertThat(config.http().retryAfter()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.http().trustedProxies()).extracting(Cidr::toString)
                .containsExactly("127.0.0.1/32", "10.0.0.0/8", "0:0:0:0:0:0:0:1/128");
        assertThat(config.admin().token()).isEqualTo(Secret.of("admin-one"));
        ServerSettings server = config.server();
        assertThat(server.host()).isEqualTo("0.0.0.0");
        assertThat(server.port()).isEqualTo(8443);
        assertThat(server.contextPath()).isEqualTo("/");
        assertThat(server.keystore()).isEqualTo(dir.resolve("keystore.p12"));
        assertThat(server.keystorePassword()).containsExactly("changeit".toCharArray());
        assertThat(server.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(server.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(server.minThreads()).isEqualTo(4);
        assertThat(server.maxThreads()).isEqualTo(64);
        assertThat(server.stopTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.warnings()).isEmpty();
        assertThat(config.toString()).contains("password=***")
                .doesNotContain("db pass", "db+pass", "jobserv-one", "jobserv-two", "admin-one", "changeit");
    }

    @Test
    void anEmptyFileGivesEveryDefault() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "# nothing yet\n");
        Path work = dir.resolve("work");

        BuildhookConfig config = new ConfigLoader(Map.of(), work).load(file);

        Path data = work.resolve("data");
        assertThat(config.source()).isEqualTo(file);
        assertThat(config.dataDir()).isEqualTo(data);
        assertThat(config.store().url()).isEqualTo(StoreConfig.sqlite(data).url());
        assertThat(config.store().dedupWindow()).isEqualTo(StoreConfig.DEFAULT_DEDUP_WINDOW);
        assertThat(config.store().poolSize()).isEqualTo(StoreConfig.DEFAULT_POOL_SIZE);
        assertThat(config.store().connectTimeout()).isEqualTo(StoreConfig.DEFAULT_CONNECT_TIMEOUT);
        assertThat(config.rulesFile()).isNull();
        assertThat(config.endpoints()).containsOnlyKeys("default");
        assertThat(config.engine().threads()).isEqualTo(EngineConfig.defaults().threads());
        assertThat(config.launcher().logDirectory()).isEqualTo(data.resolve("logs"));
        // Not the data folder itself, beside the database and the secrets (tryout13 F4).
        assertThat(config.launcher().defaultWorkdir()).isEqualTo(data.resolve("work"));
        assertThat(config.launcher().logCapBytes()).isEqualTo(LauncherConfig.DEFAULT_LOG_CAP);
        assertThat(config.http()).isEqualTo(HttpSettings.defaults());
        assertThat(config.admin().enabled()).isFalse();
        assertThat(config.server().port()).isEqualTo(8080);
        assertThat(config.warnings()).anySatisfy(w -> assertThat(w).contains("no rules file configured"));
        String secret = Files.readString(written(config).dataDir().resolve("webhook-secret")).strip();
        assertThat(config.endpoints().get("default").secrets()).containsExactly(Secret.of(secret));
    }

    @Test
    void defaultsGenerateAPrivateWebhookSecretOnceAndReuseIt() throws IOException {
        Path work = dir.resolve("work");
        ConfigLoader loader = new ConfigLoader(Map.of(), work);

        BuildhookConfig first = loader.defaults();

        Path secretFile = work.resolve("data/webhook-secret");
        // Written by the start, once nothing can refuse it (tryout13 F6), not by reading the configuration.
        assertThat(secretFile).doesNotExist();
        assertThat(first.pendingSecrets()).extracting(PendingSecret::file).containsExactly(secretFile);
        written(first);
        assertThat(first.source()).isNull();
        assertThat(first.dataDir()).isEqualTo(work.resolve("data"));
        assertThat(first.store().url()).isEqualTo(StoreConfig.sqlite(work.resolve("data")).url());
        assertThat(first.rulesFile()).isNull();
        assertThat(first.admin().enabled()).isFalse();
        assertThat(first.http()).isEqualTo(HttpSettings.defaults());
        assertThat(first.server().port()).isEqualTo(ServerSettings.defaults().port());
        String secret = Files.readString(secretFile).strip();
        assertThat(secret).matches("[0-9a-f]{64}");
        assertThat(Files.getPosixFilePermissions(secretFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        try (var left = Files.list(secretFile.getParent())) {
            assertThat(left).as("no temporary file left behind").containsExactly(secretFile);
        }
        assertThat(first.endpoints().get("default").secrets()).containsExactly(Secret.of(secret));
        assertThat(first.warnings()).anySatisfy(w -> assertThat(w).contains("generated a new secret", secretFile.toString()));
        assertThat(String.join("\n", first.warnings())).doesNotContain(secret);

        BuildhookConfig second = loader.defaults();

        assertThat(Files.readString(secretFile).strip()).isEqualTo(secret);
        assertThat(second.endpoints().get("default").secrets()).containsExactly(Secret.of(secret));
        assertThat(second.warnings()).noneSatisfy(w -> assertThat(w).contains("generated"));
        assertThat(second.pendingSecrets()).isEmpty();
    }

    /**
     * A secret file another start made between this start's reading of the configuration and its write
     * is kept as it is, and this start refused: it holds a secret nobody else has.
     */
    @Test
    void aSecretFileMadeByAnotherStartMeanwhileIsKeptAndThisStartRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\n");
        BuildhookConfig config = new ConfigLoader(Map.of(), dir).load(file);
        Path secretFile = Files.writeString(Files.createDirectories(dir.resolve("data")).resolve("webhook-secret"),
                "the-other-start's\n");

        assertThatThrownBy(() -> config.pendingSecrets().forEach(PendingSecret::create))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ":1:11: data-dir: the secret file " + secretFile + " of endpoint 'default' was"
                        + " created by another start while this one started; it is kept as it is: start again, and"
                        + " this server uses it");
        assertThat(secretFile).hasContent("the-other-start's");
    }

    /**
     * review15: a secret file that is a symbolic link to nothing (its target removed, a volume not
     * mounted) was read as no file, and the start then refused its new secret as "created by another
     * start"; serve and check say what it is, and nothing is written over the link.
     */
    @Test
    void aSecretFileThatIsALinkToNothingIsSaidToBeOne() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\n");
        Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("data")).resolve("webhook-secret"),
                dir.resolve("unmounted/jobserv-secret"));
        String expected = file + ":1:11: data-dir: the secret file " + link + " of endpoint 'default' is a symbolic"
                + " link to " + dir.resolve("unmounted/jobserv-secret") + ", which does not exist: restore the file it"
                + " points to, or remove the link to have a new secret generated";

        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(file)).isInstanceOf(ConfigException.class)
                .hasMessage(expected);
        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).withoutWriting().load(file))
                .isInstanceOf(ConfigException.class).hasMessage(expected);
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(dir.resolve("unmounted")).doesNotExist();
    }

    /**
     * tryout17: deploying.md's "the same buildhook.yaml on every node" with the shipped defaults gave each
     * node of a PostgreSQL cluster its own webhook secret (the factory's deliveries refused 401 by the
     * others) and its own admin token. On PostgreSQL the warning that a secret is, or will be, generated
     * says so; on SQLite (one node) it does not.
     */
    @Test
    void onPostgresqlAGeneratedSecretIsSaidToBeThisNodesOwnWhichAClusterMustShare() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n"
                + "store:\n  url: jdbc:postgresql://db.example.com:5432/buildhook\n");

        BuildhookConfig announced = new ConfigLoader(Map.of(), dir).withoutWriting().load(file);
        BuildhookConfig started = new ConfigLoader(Map.of(), dir).load(file);

        String cluster = "; the store is PostgreSQL, which several nodes may share, and each node generates its own: in a"
                + " cluster every node needs the same one, from a file copied to each (";
        for (BuildhookConfig config : List.of(announced, started)) {
            assertThat(config.warnings())
                    .anySatisfy(w -> assertThat(w).contains("endpoint 'default' ").endsWith(cluster
                            + "endpoints.default.secrets: [{file: …}]; deploying.md, Clustering), else behind a load"
                            + " balancer the factory's deliveries would be refused (401) by the others"))
                    .anySatisfy(w -> assertThat(w).contains("the admin API").endsWith(cluster + "admin.token: {file: …};"
                            + " deploying.md, Clustering), else each node would refuse the others' token"));
        }
    }

    @Test
    void withoutWritingAnnouncesTheSecretsItWouldGenerateAndCreatesNoFile() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n");
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();

        BuildhookConfig config = loader.load(file);
        BuildhookConfig defaults = loader.defaults();

        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(file);
        }
        assertThat(config.endpoints().get("default").secrets()).hasSize(1);
        assertThat(config.admin().enabled()).isTrue();
        assertThat(config.warnings())
                .anySatisfy(w -> assertThat(w).isEqualTo(file + ": warning: the secret of endpoint 'default' will be generated at first "
                        + "start in " + dir.resolve("data/webhook-secret") + " (nothing is written now)"))
                .anySatisfy(w -> assertThat(w).contains("the secret of the admin API will be generated at first start",
                        dir.resolve("data/admin-token").toString()));
        assertThat(defaults.warnings()).anySatisfy(w -> assertThat(w).contains("will be generated at first start"));
        assertThat(Files.exists(dir.resolve("data"))).isFalse();
    }

    @Test
    void withoutWritingUsesASecretFileThatExists() throws IOException {
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/webhook-secret"), "kept\n");

        BuildhookConfig config = new ConfigLoader(Map.of(), dir).withoutWriting().defaults();

        assertThat(config.endpoints().get("default").secrets()).containsExactly(Secret.of("kept"));
        assertThat(config.warnings()).noneSatisfy(w -> assertThat(w).contains("will be generated"));
    }

    @Test
    void generatesAnAdminTokenOnlyWhenAskedToAndSaysWhatEachSecretIsFor() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n");

        BuildhookConfig config = written(new ConfigLoader(Map.of(), dir).load(file));

        Path token = dir.resolve("data/admin-token");
        assertThat(config.admin().token()).isEqualTo(Secret.of(Files.readString(token).strip()));
        assertThat(config.warnings())
                .anySatisfy(w -> assertThat(w).contains("generated a new secret for the admin API", token.toString(),
                        "bearer token of the admin API", "never give it to JobServ"))
                .anySatisfy(w -> assertThat(w).contains("generated a new secret for endpoint 'default'",
                        "give it to JobServ: it is the secret the factory signs its webhooks with"))
                .noneSatisfy(w -> assertThat(w).contains("admin").contains("give it to JobServ:"));
        assertThat(Files.getPosixFilePermissions(token)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(new ConfigLoader(Map.of(), dir).defaults().admin().enabled()).isFalse();
    }

    @Test
    void refusesTheAdminTokenAsAnEndpointSecretNamingBothKeysAndNeverTheValue() throws IOException {
        Files.writeString(dir.resolve("secret"), "one-s3cret-for-both\n");
        Files.writeString(dir.resolve("other"), "one-s3cret-for-both");
        Path sameFile = Files.writeString(dir.resolve("same.yaml"), String.join("\n", "data-dir: data",
                "endpoints:",
                "  lmp: {secrets: [{file: other}, {file: secret}]}",
                "admin: {token: {file: secret}}", ""));
        Path viaEnv = Files.writeString(dir.resolve("env.yaml"), String.join("\n", "data-dir: data",
                "endpoints: {default: {secrets: [{env: SIGNING}]}}",
                "admin:", "  token: {file: other}", ""));

        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(sameFile)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(sameFile + ":4:16: admin.token: the admin token is also the secret"
                        + " endpoints.lmp.secrets[0] (" + sameFile + ":3:19)")
                .hasMessageContaining("admin.token: the admin token is also the secret endpoints.lmp.secrets[1] ("
                        + sameFile + ":3:34)")
                .hasMessageNotContaining("one-s3cret-for-both");
        assertThatThrownBy(() -> new ConfigLoader(Map.of("SIGNING", "one-s3cret-for-both"), dir).load(viaEnv))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(viaEnv + ":4:10: admin.token: the admin token is also the secret"
                        + " endpoints.default.secrets[0] (" + viaEnv + ":2:33)")
                .hasMessageNotContaining("one-s3cret-for-both");
    }

    @Test
    void refusesAGeneratedAdminTokenCopiedIntoAnEndpointsSecretFile() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n", "data-dir: data",
                "endpoints: {default: {secrets: [{file: data/admin-token}]}}", "admin: {token: generate}", ""));
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/admin-token"), "copied-by-mistake");

        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("admin.token: the admin token is also a secret of endpoint 'default'")
                .hasMessageNotContaining("copied-by-mistake");
    }

    @Test
    void warnsAboutAnInlineSecretWithoutShowingIt() throws IOException {
        Path file = dir.resolve("config-inline-secret.yaml");
        Files.copy(getClass().getResourceAsStream("/config/config-inline-secret.yaml"), file);

        BuildhookConfig config = new ConfigLoader(Map.of(), dir).load(file);

        assertThat(config.endpoints().get("default").secrets()).containsExactly(Secret.of("s3cr3t-inline-value"));
        assertThat(config.warnings()).contains(file + ":4:16: warning: endpoints.default.secrets[0].value: inline secret;"
                + " prefer file: or env: (a file that holds secrets must not be checked in)");
        assertThat(String.join("\n", config.warnings()) + config).doesNotContain("s3cr3t-inline-value");
    }

    @Test
    void resolvesRelativePathsAgainstTheFilesFolder() throws IOException {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path file = Files.writeString(conf.resolve("buildhook.yaml"), "data-dir: ../var\nrunner: {log-dir: logs}\n"
                + "endpoints: {a: {secrets: [{file: s}]}}\nstore: {url: 'jdbc:sqlite:db/buildhook.db'}\n");
        Files.writeString(conf.resolve("s"), "x");

        BuildhookConfig config = new ConfigLoader(Map.of(), dir.resolve("cwd")).load(file);

        assertThat(config.dataDir()).isEqualTo(dir.resolve("var"));
        assertThat(config.launcher().logDirectory()).isEqualTo(conf.resolve("logs"));
        assertThat(config.store().url()).isEqualTo("jdbc:sqlite:" + conf.resolve("db/buildhook.db"));
        assertThat(config.endpoints().get("a").secrets()).containsExactly(Secret.of("x"));
    }

    @Test
    void locatePrefersTheInitParameterThenTheSystemPropertyThenTheEnvironment() {
        Map<String, String> env = Map.of(ConfigLoader.ENV, "/env.yaml");
        String before = System.getProperty(ConfigLoader.PROPERTY);
        try {
            System.setProperty(ConfigLoader.PROPERTY, "/property.yaml");
            assertThat(ConfigLoader.locate("/param.yaml", env)).contains(Path.of("/param.yaml"));
            assertThat(ConfigLoader.locate(null, env)).contains(Path.of("/property.yaml"));
            System.clearProperty(ConfigLoader.PROPERTY);
            assertThat(ConfigLoader.locate("  ", env)).contains(Path.of("/env.yaml"));
            assertThat(ConfigLoader.locate(null, Map.of())).isEmpty();
        } finally {
            if (before == null) {
                System.clearProperty(ConfigLoader.PROPERTY);
            } else {
                System.setProperty(ConfigLoader.PROPERTY, before);
            }
        }
    }

    @Test
    void valuesHideTheirSecretsWhenPrinted() {
        EndpointConfig endpoint = new EndpointConfig("lmp", List.of(Secret.of("endpoint-secret")));
        ServerSettings server = new ServerSettings("0.0.0.0", 1, "/", Path.of("k.p12"), "store-pass".toCharArray(),
                Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1, Duration.ofSeconds(1));
        AdminSettings admin = new AdminSettings(Secret.of("admin-secret"));

        assertThat(endpoint + " " + server + " " + admin).doesNotContain("endpoint-secret", "store-pass", "admin-secret")
                .contains("lmp", "secrets=1", "enabled=true");
    }

    /** Which of two passwords counts is not obvious (the driver takes the last): said, never shown. */
    @Test
    void aPasswordInBothTheStoreUrlAndStorePasswordIsWarnedAboutAtTheKeyWithoutItsValue() throws IOException {
        Path both = Files.writeString(dir.resolve("both.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  url: 'jdbc:postgresql://db:5432/buildhook?user=u&password=in-the-url'\n"
                + "  password: {value: in-the-key}\n");
        Path one = Files.writeString(dir.resolve("one.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  url: 'jdbc:postgresql://db:5432/buildhook?user=u'\n  password: {value: in-the-key}\n");
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();

        List<String> warnings = loader.load(both).warnings();

        assertThat(warnings).filteredOn(w -> w.contains("also given")).singleElement().asString()
                .startsWith(both + ":4:3: warning: store.password: also given in store.url (password=…); this one is"
                        + " used")
                .doesNotContain("in-the-url").doesNotContain("in-the-key");
        assertThat(loader.load(one).warnings()).noneMatch(w -> w.contains("also given in store.url"));
    }

    /** review20 R3: how many deaths of its node in a row end a job, 3 unless set, 1 to 1000. */
    @Test
    void readsTheDeathsInARowThatEndAJob() throws IOException {
        readsABoundInARow("deaths-in-a-row", EngineConfig::deathsInARow, 3, 5, "0", ":3:20:");
    }

    /** review21 R2: how many stops of its node in a row end a job, 10 unless set, 1 to 1000. */
    @Test
    void readsTheStopsInARowThatEndAJob() throws IOException {
        readsABoundInARow("stops-in-a-row", EngineConfig::stopsInARow, 10, 20, "1001", ":3:19:");
        assertThat(new ConfigLoader(Map.of(), dir).withoutWriting().load(dir.resolve("set.yaml")).engine()
                .deathsInARow()).as("the other bound untouched").isEqualTo(3);
    }

    /**
     * {@code runner.<key>}: {@code dflt} unless set, {@code set} read, {@code bad} refused at {@code where} (line and
     * column) with the range.
     */
    private void readsABoundInARow(String key, java.util.function.ToIntFunction<EngineConfig> read, int dflt, int set,
            String bad, String where) throws IOException {
        String head = "endpoints: {default: {secrets: [{value: s3cret}]}}\nrunner:\n";
        Path none = Files.writeString(dir.resolve("none.yaml"), head + "  threads: 2\n");
        Path given = Files.writeString(dir.resolve("set.yaml"), head + "  " + key + ": " + set + "\n");
        Path wrong = Files.writeString(dir.resolve("wrong.yaml"), head + "  " + key + ": " + bad + "\n");
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();

        assertThat(read.applyAsInt(loader.load(none).engine())).isEqualTo(dflt);
        assertThat(read.applyAsInt(loader.load(given).engine())).isEqualTo(set);
        assertThatThrownBy(() -> loader.load(wrong))
                .hasMessageContaining(wrong + where + " runner." + key + ": must be between 1 and 1000, got " + bad);
    }

    @Test
    void aPostgresqlPoolSmallerThanTheRunnersThreadsPlusTwoStartsWithOneWarningThatSaysWhereAndWhatToSet()
            throws IOException {
        Path small = Files.writeString(dir.resolve("small.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  url: jdbc:postgresql://db:5432/buildhook\n  pool-size: 8\nrunner:\n  threads: 16\n");
        Path threadsOnly = Files.writeString(dir.resolve("threads.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store: {url: 'jdbc:postgresql://db:5432/buildhook'}\nrunner:\n  threads: 9\n");
        Path enough = Files.writeString(dir.resolve("enough.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store: {url: 'jdbc:postgresql://db:5432/buildhook', pool-size: 18}\nrunner: {threads: 16}\n");
        Path sqlite = Files.writeString(dir.resolve("sqlite.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store: {pool-size: 8}\nrunner: {threads: 16}\n");
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();

        // Loaded, not refused: such a configuration started before, and works (only less well under load).
        assertThat(poolWarnings(loader.load(small))).singleElement().asString()
                .startsWith(small + ":4:14: warning: store.pool-size: 8 connections per pool are fewer than runner.threads (16) + 2")
                .contains("heartbeats wait or fail", "Set store.pool-size: 18 or more", "max_connections");
        assertThat(poolWarnings(loader.load(threadsOnly))).singleElement().asString()
                .startsWith(threadsOnly + ":4:12: warning: store.pool-size: 10 (the default) connections per pool are fewer than"
                        + " runner.threads (9) + 2")
                .contains("Set store.pool-size: 11 or more");
        assertThat(poolWarnings(loader.load(enough))).isEmpty();
        // On SQLite the jobs' bookkeeping goes through the store's writer, not the engine's pool.
        assertThat(poolWarnings(loader.load(sqlite))).isEmpty();
    }

    /**
     * slots43's note: a runner.slot-retry shorter than a pick (its range starts at 1ms) made a free thread pick a job
     * waiting for its slot back to back. Below 100ms, 100ms is used, said as a warning at the key; not a refusal (such
     * a configuration started before).
     */
    @Test
    void aSlotRetryShorterThanTheShortestUsedIsRaisedWithAWarningAtItsKey() throws IOException {
        Path short_ = Files.writeString(dir.resolve("short.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "runner:\n  slot-retry: 1ms\n");
        Path enough = Files.writeString(dir.resolve("enough.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "runner:\n  slot-retry: 100ms\n");
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();

        BuildhookConfig loaded = loader.load(short_);
        assertThat(loaded.engine().slotRetryDelay()).isEqualTo(Duration.ofMillis(100));
        assertThat(loaded.warnings()).filteredOn(w -> w.contains("runner.slot-retry")).singleElement().asString()
                .startsWith(short_ + ":3:15: warning: runner.slot-retry: 1ms is shorter than the shortest used, 100ms,"
                        + " which is used instead")
                .contains("busy loop", "Set runner.slot-retry: 100ms or more");
        assertThat(loader.load(enough).warnings()).noneMatch(w -> w.contains("runner.slot-retry"));
        assertThat(loader.load(enough).engine().slotRetryDelay()).isEqualTo(Duration.ofMillis(100));
    }

    /**
     * drill35 / fixes36: a node id an earlier version accepted and that breaks one of its uses (a space, '/', a control
     * character) is a warning at its key, not a refusal: an upgrade must not stop a node that ran the day before.
     */
    @Test
    void aNodeIdThatBreaksOneOfItsUsesIsADeprecationWarningAtItsKeyAndTheNodeStillTakesIt() throws Exception {
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();
        for (String name : new String[] {"config-node-id-with-space.yaml", "config-node-id-with-slash.yaml",
                "config-node-id-with-control.yaml"}) {
            Path file = Path.of(getClass().getResource("/config/" + name).toURI());
            var loaded = loader.load(file);
            assertThat(loaded.warnings()).as(name).filteredOn(w -> w.contains("runner.node-id")).singleElement()
                    .asString().startsWith(file + ":2:12: warning: runner.node-id: ")
                    .endsWith("(accepted for now; deprecated since 2026-12-04: a later version refuses it)");
        }
        Path space = Path.of(getClass().getResource("/config/config-node-id-with-space.yaml").toURI());
        assertThat(loader.load(space).engine().nodeId()).isEqualTo("build host 1");
    }

    /**
     * review12 L12: a retention shorter than the duplicate window let a repeat JobServ sends after its
     * delivery was deleted be stored and run again, with no word at check or start.
     */
    @Test
    void aRetentionShorterThanTheDuplicateWindowIsAWarningAtItsKey() throws IOException {
        Path shorter = Files.writeString(dir.resolve("shorter.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  dedup-window: 2d\n  retention: 1d\n");
        Path longer = Files.writeString(dir.resolve("longer.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  dedup-window: 1d\n  retention: 2d\n");
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();

        assertThat(loader.load(shorter).warnings()).filteredOn(w -> w.contains("store.retention")).singleElement()
                .asString().startsWith(shorter + ":4:14: warning: store.retention: 24h is shorter than"
                        + " store.dedup-window (48h)").contains("runs its jobs again");
        assertThat(loader.load(longer).warnings()).noneMatch(w -> w.contains("shorter than store.dedup-window"));
        // tryout28 F10: the key was named twice ("warning: store.retention: store.retention (2m) …"); at either key once.
        Path window = Files.writeString(dir.resolve("window.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  dedup-window: 60d\n");
        assertThat(loader.load(window).warnings()).filteredOn(w -> w.contains("store.dedup-window")).singleElement()
                .asString().startsWith(window + ":3:17: warning: store.dedup-window: 1440h is longer than store.retention (")
                .contains("Keep store.retention at least as long");
    }

    /**
     * tryout11 F7, point 1: a server.threads.max an older build took (8) is refused since the key got
     * its range, and the error did not say the range is new: an upgrade that worked stopped at start.
     */
    @Test
    void aValueAnOlderBuildTookOutsideANarrowedRangeSaysTheRangeIsNew() throws IOException {
        Path old = Files.writeString(dir.resolve("old.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "server:\n  threads:\n    max: 8\n");

        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).withoutWriting().load(old))
                .hasMessageContaining(old + ":4:10: server.threads.max: must be between 16 and 10000, got 8; this range"
                        + " is new since 2026-11-29 (builds before took fewer)");
    }

    /**
     * store18: the store's connection wait was fixed at 5 s, and a packed WAR on a busy host could not
     * start; {@code store.connect-timeout} sets it, within 250ms (HikariCP's least) and 10m, and a value
     * outside is a mistake at its file, line and column.
     */
    @Test
    void theStoresConnectTimeoutIsReadAndAValueOutsideItsRangeIsAMistakeAtItsKey() throws IOException {
        Path longer = Files.writeString(dir.resolve("longer.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  url: jdbc:postgresql://db:5432/buildhook\n  connect-timeout: 45s\n");
        Path tooShort = Files.writeString(dir.resolve("short.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store:\n  connect-timeout: 100ms\n");
        Path tooLong = Files.writeString(dir.resolve("long.yaml"), "endpoints: {default: {secrets: [{value: s3cret}]}}\n"
                + "store: {connect-timeout: 1h}\n");
        ConfigLoader loader = new ConfigLoader(Map.of(), dir).withoutWriting();

        assertThat(loader.load(longer).store().connectTimeout()).isEqualTo(Duration.ofSeconds(45));
        assertThatThrownBy(() -> loader.load(tooShort))
                .hasMessageContaining(tooShort + ":3:20: store.connect-timeout: must be at least 250ms, got 100ms");
        assertThatThrownBy(() -> loader.load(tooLong))
                .hasMessageContaining(tooLong + ":2:26: store.connect-timeout: must be between 250ms and 10m, got 1h");
    }

    private static List<String> poolWarnings(BuildhookConfig config) {
        return config.warnings().stream().filter(w -> w.contains("store.pool-size")).toList();
    }

    /** {@code config} once its generated secrets are written, as the start writes them. */
    private static BuildhookConfig written(BuildhookConfig config) {
        config.pendingSecrets().forEach(PendingSecret::create);
        return config;
    }
}
