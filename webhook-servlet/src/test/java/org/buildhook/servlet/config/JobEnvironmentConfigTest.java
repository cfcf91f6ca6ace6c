package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a job inherits of the server's environment, as the configuration decides it. */
class JobEnvironmentConfigTest {

    static final Map<String, String> SERVER_ENV = Map.ofEntries(
            Map.entry("PATH", "/usr/bin:/bin"), Map.entry("HOME", "/var/lib/buildhook"), Map.entry("LANG", "C.UTF-8"),
            Map.entry("LC_TIME", "en_GB.UTF-8"), Map.entry("TZ", "UTC"), Map.entry("USER", "buildhook"),
            Map.entry("LOGNAME", "buildhook"), Map.entry("TMPDIR", "/tmp"),
            Map.entry("AWS_SECRET_ACCESS_KEY", "cloud-secret"), Map.entry("JAVA_TOOL_OPTIONS", "-Dx=y"),
            Map.entry("HTTPS_PROXY", "http://proxy:3128"), Map.entry("BUILDHOOK_CONFIG", "/etc/buildhook.yaml"),
            Map.entry("JOBSERV_SECRET", "endpoint-secret"), Map.entry("ADMIN_TOKEN", "admin-secret"),
            Map.entry("DB_PASSWORD", "db-secret"), Map.entry("KEYSTORE_PASSWORD", "keystore-secret"));

    @TempDir
    Path dir;

    BuildhookConfig load(String yaml) throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), yaml);
        return new ConfigLoader(SERVER_ENV, dir).withoutWriting().load(file);
    }

    @Test
    void aJobInheritsOnlyTheAllowListByDefault() throws IOException {
        BuildhookConfig config = load("data-dir: data\n");

        assertThat(config.launcher().baseEnvironment()).containsOnlyKeys("PATH", "HOME", "LANG", "LC_TIME", "TZ", "USER",
                "LOGNAME", "TMPDIR");
    }

    @Test
    void aJobInheritsWhatTheOperatorNamesAsWell() throws IOException {
        BuildhookConfig config = load("runner:\n  inherit-env: [HTTPS_PROXY, NOT_SET_ANYWHERE]\n");

        assertThat(config.launcher().baseEnvironment()).containsEntry("HTTPS_PROXY", "http://proxy:3128")
                .doesNotContainKeys("NOT_SET_ANYWHERE", "AWS_SECRET_ACCESS_KEY", "BUILDHOOK_CONFIG");
    }

    @Test
    void aVariableASecretIsReadFromNeverReachesAJobEvenWhenNamed() throws Exception {
        TestKeystores.withKey(dir.resolve("keystore.p12"), "keystore-secret");
        BuildhookConfig config = load(String.join("\n",
                "endpoints:",
                "  default:",
                "    secrets: [{env: JOBSERV_SECRET}]",
                "admin:",
                "  token: {env: ADMIN_TOKEN}",
                "store:",
                "  url: jdbc:postgresql://db:5432/buildhook",
                "  password: {env: DB_PASSWORD}",
                "server:",
                "  tls: {keystore: keystore.p12, password: {env: KEYSTORE_PASSWORD}}",
                "runner:",
                "  inherit-env: [JOBSERV_SECRET, ADMIN_TOKEN, DB_PASSWORD, KEYSTORE_PASSWORD, HTTPS_PROXY]",
                ""));

        assertThat(config.launcher().baseEnvironment()).containsKey("HTTPS_PROXY")
                .doesNotContainKeys("JOBSERV_SECRET", "ADMIN_TOKEN", "DB_PASSWORD", "KEYSTORE_PASSWORD");
        assertThat(config.launcher().baseEnvironment().values())
                .doesNotContain("endpoint-secret", "admin-secret", "db-secret", "keystore-secret");
        assertThat(config.warnings()).filteredOn(w -> w.contains("jobs never inherit it")).hasSize(4)
                .anySatisfy(w -> assertThat(w).contains("buildhook.yaml:12:17: warning: runner.inherit-env[0]: JOBSERV_SECRET"));
        assertThat(String.join("\n", config.warnings())).doesNotContain("endpoint-secret", "admin-secret");
    }

    /**
     * tryout38 F6: an inherited variable whose name looks secret only because a secret word is part of a longer word
     * has its value masked in every job's log, as a rule's env variable's: warned at its place, never with its value;
     * a real secret's name and one only shown under its name (buildhook never shows an inherited one) are not.
     */
    @Test
    void anInheritedNameSecretOnlyByAWordInsideALongerWordIsWarnedOf() throws IOException {
        BuildhookConfig config = load("runner:\n  inherit-env: [HTTPS_PROXY, BYPASS_CACHE, DB_PASSWORD, AUTHOR_NAME]\n");

        assertThat(config.launcher().baseEnvironment()).containsKey("DB_PASSWORD");
        assertThat(config.warnings()).filteredOn(w -> w.contains("looks secret")).singleElement().asString()
                .isEqualTo(dir.resolve("buildhook.yaml") + ":2:30: warning: runner.inherit-env[1]: 'BYPASS_CACHE' looks secret only"
                        + " because 'PASS' is part of the word 'BYPASS': jobs inherit it, and when its value has 4"
                        + " characters or more it is replaced by *** wherever a job's log prints it (masked before the"
                        + " file is written). If it holds no secret, rename it to a name without 'PASS' in it to have"
                        + " its value shown; if it does, write that word as a word of its own (DB_PASS, API_KEY,"
                        + " GITHUB_TOKEN …) to keep it masked. A secret word found only inside a longer word is"
                        + " deprecated since 2026-12-05: a later version judges a name by its whole words, and this one"
                        + " would no longer be secret (docs/rules.md, Secrets)");
    }

    /**
     * names40: an inherited variable secret by a whole word whose name ends in a setting's word (AUTH_ENABLED,
     * JWT_KEY_ALGORITHM) has its value masked in every job's log, as a rule's env variable's: warned at its place in
     * the configuration, by its name, never with its value; not a real secret's name, one not masked where else it
     * appears (KEY_TYPE), nor one secret only by a word inside a longer word (its own warning).
     */
    @Test
    void anInheritedSecretNameEndingInASettingsWordIsWarnedOfAtItsPlace() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"),
                "runner:\n  inherit-env: [HTTPS_PROXY, AUTH_ENABLED, DB_PASSWORD, KEY_TYPE, BYPASS_MODE, JWT_KEY_ALGORITHM]\n");
        Map<String, String> env = new java.util.HashMap<>(SERVER_ENV);
        env.put("AUTH_ENABLED", "true");
        env.put("JWT_KEY_ALGORITHM", "RS256");
        env.put("BYPASS_MODE", "strict");
        BuildhookConfig config = new ConfigLoader(env, dir).withoutWriting().load(file);

        assertThat(config.launcher().baseEnvironment()).containsEntry("JWT_KEY_ALGORITHM", "RS256");
        String setting = " but seems to hold a setting, as its name ends in '%s': jobs inherit it, and when its value"
                + " has 4 characters or more and is no true or false it is replaced by *** wherever a job's log prints"
                + " it (masked before the file is written), so each place a job prints it is hidden. If it holds no"
                + " secret, give it to jobs under a name that does not look secret (set that one in buildhook's"
                + " environment and list it here) to have its value shown; if it is a secret, ignore this warning";
        assertThat(config.warnings()).filteredOn(w -> w.contains("looks secret")).containsExactly(
                file + ":2:30: warning: runner.inherit-env[1]: 'AUTH_ENABLED' looks secret (by the word 'AUTH')"
                        + setting.formatted("ENABLED"),
                file + ":2:67: warning: runner.inherit-env[4]: 'BYPASS_MODE' looks secret only because 'PASS' is part"
                        + " of the word 'BYPASS': jobs inherit it, and when its value has 4 characters or more it is"
                        + " replaced by *** wherever a job's log prints it (masked before the file is written). If it"
                        + " holds no secret, rename it to a name without 'PASS' in it to have its value shown; if it"
                        + " does, write that word as a word of its own (DB_PASS, API_KEY, GITHUB_TOKEN …) to keep it"
                        + " masked. A secret word found only inside a longer word is deprecated since 2026-12-05: a"
                        + " later version judges a name by its whole words, and this one would no longer be secret"
                        + " (docs/rules.md, Secrets)",
                file + ":2:80: warning: runner.inherit-env[5]: 'JWT_KEY_ALGORITHM' looks secret (by the word 'KEY')"
                        + setting.formatted("ALGORITHM"));
        assertThat(String.join("\n", config.warnings())).doesNotContain("RS256").doesNotContain("strict");
    }

    /** A job with systemd's NOTIFY_SOCKET could tell systemd the service is stopping (notify32). */
    @Test
    void systemdsNotifySocketNeverReachesAJobEvenWhenNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "runner:\n  inherit-env: [NOTIFY_SOCKET, HTTPS_PROXY]\n");
        Map<String, String> env = new java.util.HashMap<>(SERVER_ENV);
        env.put("NOTIFY_SOCKET", "/run/systemd/notify");
        BuildhookConfig config = new ConfigLoader(env, dir).withoutWriting().load(file);

        assertThat(config.launcher().baseEnvironment()).containsKey("HTTPS_PROXY").doesNotContainKey("NOTIFY_SOCKET");
        assertThat(config.warnings()).anySatisfy(w -> assertThat(w).contains("buildhook.yaml:2:17: warning:"
                + " runner.inherit-env[0]: NOTIFY_SOCKET is systemd's socket", "jobs never inherit it"));
    }

    @Test
    void aSecretInAnAllowedVariableIsNotInheritedEither() throws IOException {
        BuildhookConfig config = load("admin:\n  token: {env: LC_TIME}\n");

        assertThat(config.launcher().baseEnvironment()).doesNotContainKey("LC_TIME").containsKey("LANG");
    }

    @Test
    void aNameThatIsNotAVariableNameIsAMistakeWithItsPlace() throws IOException {
        assertThatThrownBy(() -> load("runner:\n  inherit-env: [HTTPS_PROXY, 'A=B', 3]\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("buildhook.yaml:2:30: runner.inherit-env[1]: not a variable name: 'A=B'")
                .hasMessageContaining("runner.inherit-env[2]: not a variable name: '3'");
        assertThatThrownBy(() -> load("runner:\n  inherit-env: HTTPS_PROXY\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("runner.inherit-env: expected a list of variable names");
    }
}
