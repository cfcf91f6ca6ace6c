package org.buildhook.distribution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;

/**
 * The smallest configuration the distribution tests start from: a {@code secret} file and a
 * {@code buildhook.yaml} with the data in {@code data} and the {@code default} endpoint signed with
 * that secret; each test adds its own lines. And the standalone server on it, built (not started).
 */
final class TestConfig {

    /** The default endpoint's secret, unless a test names its own. */
    static final String SECRET = "s3cret";
    /** The standalone server on the loopback address, on any free port. */
    static final String LOCAL_SERVER = "server: {host: 127.0.0.1, port: 0}";

    private TestConfig() {
    }

    /**
     * Writes {@code dir/secret} ({@link #SECRET}) and {@code dir/buildhook.yaml}: {@code data-dir: data},
     * the default endpoint's line, then {@code lines}.
     *
     * @return the configuration file
     */
    static Path write(Path dir, String... lines) throws IOException {
        return writeWithSecret(dir, SECRET, lines);
    }

    /** As {@link #write(Path, String...)}, with {@code secret} as the default endpoint's secret. */
    static Path writeWithSecret(Path dir, String secret, String... lines) throws IOException {
        Files.writeString(dir.resolve("secret"), secret);
        List<String> yaml = new ArrayList<>(List.of("data-dir: data", "endpoints: {default: {secrets: [{file: secret}]}}"));
        yaml.addAll(List.of(lines));
        yaml.add("");
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n", yaml));
    }

    /** The configuration file loaded as {@code serve} does, relative paths against its folder. */
    static BuildhookConfig load(Path config) {
        return new ConfigLoader(Map.of(), config.getParent()).load(config);
    }

    /** The standalone server with buildhook installed as {@code serve} does it; built, not started. */
    static BuildhookServer server(BuildhookConfig loaded) {
        return BuildhookServer.create(loaded.server(), c -> ServeCommand.install(c, loaded));
    }
}
