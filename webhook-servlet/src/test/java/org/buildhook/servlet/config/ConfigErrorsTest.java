package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigErrorsTest {

    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(Map.of("SECRET", "x"), Path.of("."));

    /** Copies a fixture next to the test's own files, so relative paths in it resolve in the temporary folder. */
    private Path fixture(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/config/" + name)) {
            Path file = dir.resolve(name);
            Files.copy(in, file);
            return file;
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "config-unknown-key.yaml         | 3:3: store.dedup-windw: unknown key; did you mean 'dedup-window'?",
        "config-bad-duration.yaml        | 2:15: runner.kill-grace: bad duration '10 seconds': write a number and a unit (ms, s, m, h, d), for example 30s, 10m or 1h30m",
        "config-bad-url.yaml             | 3:8: store.url: expected a jdbc:sqlite: or jdbc:postgresql: URL, got 'jdbc:mysql://db/buildhook'",
        "config-url-with-password.yaml   | 3:8: store.url: a user name or password before the host (//user:password@host) is not read by the PostgreSQL driver, which takes it for part of the host name: write the user as store.user and the password as store.password ({file: PATH} or {env: NAME}), and the URL as jdbc:postgresql://host:5432/database",
        "config-bad-url-with-password.yaml | 3:8: store.url: expected a jdbc:sqlite: or jdbc:postgresql: URL, got 'jdbc:mysql://***@db/buildhook'",
        "config-url-with-slash-in-password.yaml | 3:8: store.url: a user name or password before the host (//user:password@host) is not read by the PostgreSQL driver, which takes it for part of the host name: write the user as store.user and the password as store.password ({file: PATH} or {env: NAME}), and the URL as jdbc:postgresql://host:5432/database",
        "config-bad-url-with-slash-in-password.yaml | 3:8: store.url: expected a jdbc:sqlite: or jdbc:postgresql: URL, got 'postgresql://***@db/buildhook'",
        "config-unset-env.yaml           | 3:21: endpoints.default.secrets[0].env: environment variable BUILDHOOK_TEST_UNSET is not set",
        "config-bad-cidr.yaml            | 4:7: http.trusted-proxies[1]: bad address block '10.0.0.0/33': the prefix length after '/' must be 0..32 for an IPv4 address",
        "config-bad-port.yaml            | 3:9: server.port: must be between 0 and 65535, got 80800",
        "config-syntax-error.yaml        | 3:2: YAML syntax error: expected <block end>, but found '<block mapping start>' (while parsing a block mapping that starts at line 1, column 1); check the indentation of this line and the one before: keys of one mapping start in the same column, the '-' of one list line up, and a key's value is indented further than the key (spaces only)",
        "config-bad-endpoint-name.yaml   | 2:3: endpoints.Jobserv: bad endpoint name: use a-z, 0-9, '_' and '-' (at most 63), starting with a letter or digit; it becomes the URL /webhook/<name>",
        "config-no-secrets.yaml          | 3:14: endpoints.lmp.secrets: the endpoint has no secrets; add at least one ({file: PATH} or {env: NAME})",
        "config-bad-size.yaml            | 2:13: http.max-body: bad size '5MB': write a number of bytes or a number and a unit (KiB, MiB, GiB), for example 512KiB or 10MiB",
        "config-wrong-type.yaml          | 2:12: runner.threads: expected a whole number between 1 and 1000, got a string ('four')",
        "config-bad-metrics.yaml         | 2:12: metrics.enabled: expected true or false, got a string ('sometimes')",
        "config-admin-token-misspelt.yaml | 2:10: admin.token: looks like a misspelt 'generate' (as an inline token it would be one anyone could guess); write 'token: generate' for a generated token, or {file: PATH} / {env: NAME} for a token of your own",
        "config-endpoint-secret-generate.yaml | 3:15: endpoints.fleet.secrets[0]: a secret cannot be generated here: only admin.token takes 'generate' (an endpoint gets a generated secret only as the default endpoint, when the file has no endpoints section); write {file: PATH} or {env: NAME}",
        // drill35: what cannot be a node id.
        "config-reserved-node-id.yaml    | 2:12: runner.node-id: '(sqlite server)' is the name under which a SQLite store records the server that serves it (in node_leases), not a node's: a node with this id would be taken for that record, left out of buildhook nodes and of the nodes' comparison of their rules; write letters, digits, '-', '_' or '.', e.g. the host's name (node-1, build-host-2.example.com)",
        "config-alias.yaml               | 2:12: '*node-1' is a YAML alias (a reference to an '&node-1' anchor), which buildhook does not support; a value that starts with '*', such as a glob, must be quoted: \"*node-1\"",
    })
    void reportsEachMistakeWithItsPositionAndKey(String name, String expected) throws IOException {
        Path file = fixture(name);
        assertThatThrownBy(() -> loader.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ":" + expected);
    }

    @Test
    void namesAMissingSecretFileButNeverItsContent() throws IOException {
        Path file = fixture("config-missing-secret-file.yaml");
        assertThatThrownBy(() -> loader.load(file))
                .hasMessage(file + ":4:15: endpoints.default.secrets[0].file: secret file " + dir.resolve("no-such-secret")
                        + " not found");
    }

    @Test
    void aRulesFileOrKeystorePathThatIsNoRegularFileSaysWhatIsThereRatherThanNotFound() throws IOException {
        Files.createDirectories(dir.resolve("conf"));
        Path file = Files.writeString(dir.resolve("folders.yaml"), String.join("\n",
                "rules: conf",
                "server:",
                "  tls:",
                "    keystore: /dev/null",
                "    password: {value: x}",
                ""));

        assertThatThrownBy(() -> loader.load(file))
                .hasMessageContaining(file + ":1:8: rules: rules file " + dir.resolve("conf")
                        + " is a folder, not a file: name the file itself")
                .hasMessageContaining(file + ":4:15: server.tls.keystore: keystore /dev/null is not a regular file")
                .hasMessageNotContaining("not found");
    }

    /**
     * A keystore Jetty cannot use is a mistake at the key to fix, said by {@code check} and before a
     * start writes anything — not the JDK's words once the listener starts ({@code toDerInputStream
     * rejects tag type 114}, {@code BadPaddingException}, an NPE's text without a password).
     */
    @Test
    void aKeystoreThatDoesNotOpenIsAMistakeAtTheKeyToFix() throws Exception {
        Path server = TestKeystores.withKey(dir.resolve("server.p12"), "rightpass");
        TestKeystores.certificateOnly(dir.resolve("cert-only.p12"), server, "rightpass");
        Files.writeString(dir.resolve("not-a-keystore.p12"), "root:x:0:0:root:/root:/bin/bash\n");

        assertThat(mistakeOf("keystore: server.p12", "password: {value: wrongpass}"))
                .isEqualTo("5:15: server.tls.password: does not open keystore " + server + ": the password is wrong");
        assertThat(mistakeOf("keystore: not-a-keystore.p12", "password: {value: rightpass}"))
                .startsWith("4:15: server.tls.keystore: keystore " + dir.resolve("not-a-keystore.p12")
                        + " is not a PKCS12 (or JKS) keystore;");
        assertThat(mistakeOf("keystore: cert-only.p12", "password: {value: rightpass}"))
                .startsWith("4:15: server.tls.keystore: keystore " + dir.resolve("cert-only.p12")
                        + " holds no private key");
        assertThat(mistakeOf("keystore: server.p12", ""))
                .startsWith("4:5: server.tls.password: missing: the keystore's password opens it");
    }

    /** The one mistake of a configuration with these {@code server.tls} lines, without the file's name. */
    private String mistakeOf(String keystoreLine, String passwordLine) throws IOException {
        Path file = Files.writeString(dir.resolve("tls.yaml"), String.join("\n",
                "data-dir: data",
                "server:",
                "  tls:",
                "    " + keystoreLine,
                passwordLine.isEmpty() ? "" : "    " + passwordLine,
                ""));
        try {
            loader.load(file);
        } catch (ConfigException e) {
            assertThat(e.getMessage().lines()).as(e.getMessage()).hasSize(1);
            assertThat(e.getMessage()).doesNotContain("rightpass", "wrongpass", "Exception");
            return e.getMessage().substring((file + ":").length());
        }
        throw new AssertionError("loaded without a mistake");
    }

    /** A sparse file of {@code length} bytes: nothing of it is written to the disk. */
    private Path sparse(String name, long length) throws IOException {
        Path file = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(length);
        }
        return file;
    }

    /**
     * review55b F5: a configuration file, a secret file or a generated secret read with {@code Files.readAllBytes}:
     * {@code /dev/zero} or a file larger than the heap ended in an OutOfMemoryError and its stack trace. Each is
     * refused in words, as a file that cannot be read (which a restart may find mended, as the others).
     */
    @Test
    void refusesAConfigurationOrSecretFileLargerThanItsLimitOrADeviceInWords() throws IOException {
        Path huge = sparse("huge.yaml", 8L << 30);
        assertThatThrownBy(() -> loader.load(huge)).isInstanceOf(ConfigException.class)
                .hasMessage(huge + ": cannot read the configuration file: " + huge + " is 8 GiB, over the limit of"
                        + " 16 MiB; check that this names the configuration file (buildhook.yaml): it is read whole, and"
                        + " a few KiB hold every setting")
                .satisfies(e -> assertThat(((ConfigException) e).restartMayMend()).isTrue());
        assertThatThrownBy(() -> loader.load(Path.of("/dev/zero"))).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("/dev/zero: cannot read the configuration file: /dev/zero is not a regular file"
                        + " (a device, a pipe or a socket) and gave more than the limit of 16 MiB; check that");

        Path secret = sparse("secret", 1L << 30);
        Path secrets = Files.writeString(dir.resolve("secrets.yaml"), "data-dir: data\nendpoints:\n  lmp:\n"
                + "    secrets: [{file: " + secret + "}, {file: /dev/zero}]\n");
        assertThatThrownBy(() -> loader.load(secrets)).isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        secrets + ":4:22: endpoints.lmp.secrets[0].file: cannot read secret file " + secret + " ("
                                + secret + " is 1 GiB, over the limit of 64 KiB); check that this names the file that"
                                + " holds the secret itself",
                        secrets + ":4:" + (22 + secret.toString().length() + 10) + ": endpoints.lmp.secrets[1].file:"
                                + " cannot read secret file /dev/zero (/dev/zero is not a regular file (a device, a pipe"
                                + " or a socket) and gave more than the limit of 64 KiB); check that this names the file"
                                + " that holds the secret itself"))
                .satisfies(e -> assertThat(((ConfigException) e).restartMayMend()).isTrue());

        Files.createDirectories(dir.resolve("data"));
        Path generated = sparse("data/webhook-secret", 1L << 20);
        Path defaults = Files.writeString(dir.resolve("defaults.yaml"), "data-dir: " + dir.resolve("data") + "\n");
        assertThatThrownBy(() -> loader.load(defaults)).isInstanceOf(ConfigException.class)
                .hasMessage(defaults + ":1:11: data-dir: cannot read the secret file " + generated + " of endpoint"
                        + " 'default': " + generated + " is 1 MiB, over the limit of 64 KiB; it is no secret buildhook"
                        + " wrote: move it away to have a new secret generated");
    }

    /** review55b F5: nested past Jackson's depth, the configuration was answered without a line or plain words. */
    @Test
    void saysWhereTheConfigurationIsNestedTooDeep() throws IOException {
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 1100; i++) {
            deep.append(" ".repeat(i)).append("k").append(i).append(":\n");
        }
        Path file = Files.writeString(dir.resolve("deep.yaml"), deep);

        // Where the mapping of level 1001 starts: k999's value, on line 1001.

        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessage(file + ":1001:1001: lists and mappings are nested more than 1000 levels deep here, more"
                        + " than buildhook reads (its files need a few levels): check for a '[' or '{' written by"
                        + " mistake, or a generator that went wrong");
    }

    @Test
    void refusesAnEmptySecretFile() throws IOException {
        Path file = fixture("config-empty-secret.yaml");
        Files.writeString(dir.resolve("empty-secret"), "\n\n");
        assertThatThrownBy(() -> loader.load(file))
                .hasMessage(file + ":4:15: endpoints.lmp.secrets[0].file: secret file " + dir.resolve("empty-secret")
                        + " is empty");
    }

    @Test
    void refusesAnEmptyEnvironmentVariableAndASecretListOfTheWrongShape() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"),
                "endpoints:\n  a:\n    secrets: [{env: EMPTY}]\n  b:\n    secrets: {env: SECRET}\n  c:\n");
        ConfigLoader withEmpty = new ConfigLoader(Map.of("EMPTY", "\n", "SECRET", "x"), dir);
        assertThatThrownBy(() -> withEmpty.load(file)).hasMessage(String.join("\n",
                file + ":3:21: endpoints.a.secrets[0].env: environment variable EMPTY is empty",
                file + ":5:14: endpoints.b.secrets: expected a list of secrets (- file: PATH), got a mapping",
                file + ":6:3: endpoints.c: the endpoint has no secrets; add secrets: [{file: PATH}]"));
    }

    @Test
    void refusesASecondDocumentAndATopLevelList() throws IOException {
        Path two = Files.writeString(dir.resolve("two.yaml"), "rules: r.yaml\n---\nrules: s.yaml\n");
        Path list = Files.writeString(dir.resolve("list.yaml"), "- store\n");
        assertThatThrownBy(() -> loader.load(two)).hasMessage(two + ":3:1: the configuration file holds a second YAML"
                + " document (after '---'): keep everything in one document");
        assertThatThrownBy(() -> loader.load(list))
                .hasMessage(list + ":1:1: (top level): expected a mapping (key: value lines), got a list");
    }

    @Test
    void reportsAllThreeMistakesOfOneFileAtOnce() throws IOException {
        Path file = fixture("config-three-mistakes.yaml");
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> loader.load(file));
        assertThat(e.problems()).hasSize(3);
        assertThat(e.getMessage()).isEqualTo(String.join("\n",
                file + ":2:1: stor: unknown key; did you mean 'store'?",
                file + ":5:12: runner.threads: must be between 1 and 1000, got 0",
                file + ":7:9: server.port: expected a whole number between 0 and 65535, got a string ('http')"));
    }

    @Test
    void namesAMissingConfigurationFile() {
        Path missing = dir.resolve("buildhook.yaml");
        assertThatThrownBy(() -> loader.load(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessage(missing + ": configuration file not found (looked for " + missing + ")");
    }

    @Test
    void neverShowsSecretValuesInMessages() throws IOException {
        Files.writeString(dir.resolve("secret"), "file-secret-value\n");
        Path file = dir.resolve("buildhook.yaml");
        Files.writeString(file, String.join("\n",
                "store:",
                "  url: jdbc:sqlite:x.db",
                "  password: {value: password-inline-value}",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - {file: secret, env: SECRET}",
                "      - [inline-list-value]",
                "admin:",
                "  token: {value: [token-value]}",
                ""));
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> loader.load(file));
        assertThat(e.problems()).hasSize(4);
        assertThat(e.getMessage())
                .contains("store.password: only used with a jdbc:postgresql: URL")
                .doesNotContain("password-inline-value", "file-secret-value", "inline-list-value", "token-value");
    }

    @Test
    void hidesTheDatabasePasswordOfAnUnsupportedUrl() throws IOException {
        Path file = dir.resolve("buildhook.yaml");
        Files.writeString(file, "store:\n  url: jdbc:mysql://db/x?user=a&password=hunter2\n");
        assertThatThrownBy(() -> loader.load(file))
                .hasMessageContaining("password=***")
                .message().doesNotContain("hunter2");
    }

    @Test
    void writesNoGeneratedSecretWhenTheFileHasMistakes() throws IOException {
        Path file = dir.resolve("buildhook.yaml");
        Files.writeString(file, "data-dir: data\nadmin:\n  token: generate\nruner: {}\n");
        assertThatThrownBy(() -> loader.load(file)).hasMessage(file + ":4:1: runer: unknown key; did you mean 'runner'?");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void warnsAboutASecretFileOrVariableEndingInASpaceWithoutShowingIt() throws IOException {
        Files.writeString(dir.resolve("padded-secret"), "s3cr3t-value \n");
        Path file = Files.writeString(dir.resolve("buildhook.yaml"),
                "endpoints:\n  a:\n    secrets: [{file: padded-secret}, {env: PADDED}]\n");

        BuildhookConfig config = new ConfigLoader(Map.of("PADDED", "\tenv-secret"), dir).load(file);

        assertThat(config.warnings())
                .anySatisfy(w -> assertThat(w).startsWith(file + ":3:22: warning: endpoints.a.secrets[0].file: the secret in "
                        + dir.resolve("padded-secret") + " ends with a space or tab"))
                .anySatisfy(w -> assertThat(w).contains("endpoints.a.secrets[1].env: the secret in environment "
                        + "variable PADDED starts with a space or tab"));
        assertThat(String.join("\n", config.warnings())).doesNotContain("s3cr3t-value").doesNotContain("env-secret");
    }

    @Test
    void aPaddedSecretsWarningSaysWhatItBreaksForWhatTheSecretIsFor() throws IOException {
        // tryout53 F5: the admin token's and the database password's warnings spoke of JobServ's signatures.
        Files.writeString(dir.resolve("padded-token"), "sometokenvalue1234567890abcdef\t\n");
        Files.writeString(dir.resolve("padded-secret"), "s3cr3t-value \n");
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "endpoints:\n  a:\n    secrets: [{file: padded-secret}]\n"
                + "admin:\n  token: {file: padded-token}\n"
                + "store:\n  url: jdbc:postgresql://db/buildhook\n  user: buildhook\n  password: {env: PADDED}\n");

        BuildhookConfig config = new ConfigLoader(Map.of("PADDED", "hunter2 "), dir).load(file);

        assertThat(config.warnings())
                .anySatisfy(w -> assertThat(w).contains("endpoints.a.secrets[0].file: the secret in")
                        .endsWith("JobServ's signatures will not match unless the factory's secret has it too; remove"
                                + " it if it is an accident"))
                .anySatisfy(w -> assertThat(w).contains("admin.token.file: the secret in").endsWith("the admin API,"
                        + " the admin commands and the status page refuse (401) a token given without it; remove it if"
                        + " it is an accident"))
                .anySatisfy(w -> assertThat(w).contains("store.password.env: the secret in environment variable PADDED"
                        + " ends with a space or tab").endsWith("PostgreSQL refuses the login unless the role's password"
                        + " has it too; remove it if it is an accident"));
        assertThat(String.join("\n", config.warnings())).doesNotContain("hunter2");
    }

    @Test
    void saysWhyASecretFileCannotBeReadInWords() throws IOException {
        Files.createDirectories(dir.resolve("a-folder"));
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "endpoints:\n  a:\n    secrets: [{file: a-folder}]\n");

        assertThatThrownBy(() -> new ConfigLoader(Map.of(), dir).load(file))
                .hasMessageStartingWith(file + ":3:22: endpoints.a.secrets[0].file: cannot read secret file "
                        + dir.resolve("a-folder") + " (")
                .hasMessageNotContaining("Exception");
    }

    /**
     * tryout47b F18: {@code admin.public-url}, of which a follow-up's {@code ${job.url}} is made. Given with or without
     * a final '/', it is kept with one (the job's page is {@code <it>?job=<id>}); every mistake of it is said at its
     * file:line:column, a user or password in it without quoting them (it would go into jobs' commands), also where
     * java.net.URI reads no host (review49 F5: none of these errors quotes the value).
     */
    @Test
    void thePublicUrlIsKeptWithAFinalSlashAndEachMistakeOfItIsSaidAtItsPlace() throws IOException {
        Path good = Files.writeString(dir.resolve("good.yaml"),
                "admin:\n  token: {value: t0ken-0f-the-admin}\n  public-url: https://ci.example.com/buildhook\n");
        BuildhookConfig config = loader.load(good);
        assertThat(config.engine().statusPage()).hasToString("https://ci.example.com/buildhook/");
        assertThat(config.engine().jobPage("01JOB")).isEqualTo("https://ci.example.com/buildhook/?job=01JOB");
        assertThat(loader.load(Files.writeString(dir.resolve("none.yaml"), "admin:\n  token: {value: t0ken-0f-the-admin}\n"))
                .engine().jobPage("01JOB")).isNull();

        Map<String, String> mistakes = new java.util.LinkedHashMap<>();
        mistakes.put("https://deploy:s3cr3t@ci.example.com/", "a user or password before the host would be written into"
                + " every job's ${job.url}, its command or environment: leave it out (the status page asks for the admin"
                + " token itself)");
        String userInfo = mistakes.get("https://deploy:s3cr3t@ci.example.com/");
        // review49 F5: an authority java.net.URI reads as registry-based (no user info, no host): a '_' in the host,
        // an '@' in the password; and a value with no host read is never quoted.
        mistakes.put("https://deploy:s3cr3t@ci_box.example/", userInfo);
        mistakes.put("https://deploy:p@s3cr3t@ci.example.com/", userInfo);
        mistakes.put("https://ci_s3cr3t.example/", "expected an http:// or https:// URL with a host, but it has no host"
                + " name of letters, digits, '-' and '.' (a '_' is not allowed in one)");
        mistakes.put("https://deploy:s3cr3t/x@ci.example.com/", "expected an http:// or https:// URL with a host, but it"
                + " has no host name of letters, digits, '-' and '.' (a '_' is not allowed in one)");
        mistakes.put("ci.example.com/buildhook", "expected an http:// or https:// URL with a host, but it has no scheme");
        mistakes.put("ftp://s3cr3t.example.com/", "expected an http:// or https:// URL with a host, but its scheme is"
                + " ftp");
        mistakes.put("https://ci.example.com/?job=1", "has a query ('?'), but buildhook adds ?job=<id> to it for a job's"
                + " page");
        mistakes.put("https://ci.example.com/a b", "not a URL (Illegal character in path at character 25)");
        String advice = "; write the address people open the status page at, as https://buildhook.example.com/ (with its"
                + " path when it is not at the root: https://ci.example.com/buildhook/)";
        for (Map.Entry<String, String> m : mistakes.entrySet()) {
            Path file = Files.writeString(dir.resolve("bad.yaml"),
                    "admin:\n  token: {value: t0ken-0f-the-admin}\n  public-url: \"" + m.getKey() + "\"\n");
            assertThatThrownBy(() -> loader.load(file)).as(m.getKey()).isInstanceOf(ConfigException.class)
                    .hasMessage(file + ":3:15: admin.public-url: " + m.getValue() + advice)
                    .hasMessageNotContaining("s3cr3t");
        }

        Path noToken = Files.writeString(dir.resolve("no-token.yaml"), "admin:\n  public-url: https://ci.example.com/\n");
        assertThat(loader.load(noToken).warnings()).contains(noToken + ":2:15: warning: admin.public-url: the status"
                + " page is off (no admin.token), so the job pages ${job.url} links to answer 404; set admin.token too");
    }
}
