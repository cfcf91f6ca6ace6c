package org.buildhook.distribution.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs {@code podman} (and {@code podman-compose}) as separate processes. Uses the containers.conf
 * that {@code CONTAINERS_CONF} names, else the project's {@code src/test/container/containers.conf}
 * (runc, cgroupfs, no default ulimits: what works in the CI sandbox).
 */
final class Podman {

    /** {@code distribution/src/test/container}: containers.conf, build-images.sh, postgres/. */
    static final Path TEST_DIR = Path.of(System.getProperty("buildhook.container.test", "src/test/container"));
    /** {@code distribution/src/main/container}: Containerfile, compose.yaml and the example folders. */
    static final Path SOURCE_DIR = Path.of(System.getProperty("buildhook.container.source", "src/main/container"));

    /** What a finished command printed. */
    record Result(int exit, String out, String err) {
        Result ok() {
            assertThat(exit).as("exit status; stdout: %s; stderr: %s", out, err).isZero();
            return this;
        }
    }

    private Podman() {
    }

    /**
     * Skips the calling test when podman is not installed, except on CI ({@code CI=true}), where
     * that is a failure: {@code .ci/run} installs it.
     */
    static void requireInstalled() {
        boolean installed = onPath("podman") && onPath("podman-compose");
        if (!installed && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("podman and podman-compose must be installed on CI (see .ci/run)");
        }
        Assumptions.assumeTrue(installed, "podman or podman-compose not installed");
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    static Map<String, String> environment() {
        String conf = System.getenv("CONTAINERS_CONF");
        return Map.of("CONTAINERS_CONF", conf != null ? conf : TEST_DIR.resolve("containers.conf").toAbsolutePath().toString());
    }

    static Result podman(String... args) {
        List<String> command = new ArrayList<>();
        command.add("podman");
        command.addAll(List.of(args));
        return exec(command, null, Map.of(), Duration.ofMinutes(5));
    }

    /** Runs {@code command} in {@code dir} with the podman environment plus {@code env}. */
    static Result exec(List<String> command, Path dir, Map<String, String> env, Duration timeout) {
        try {
            Path out = Files.createTempFile("podman-out", ".txt");
            Path err = Files.createTempFile("podman-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                if (dir != null) {
                    pb.directory(dir.toFile());
                }
                pb.environment().putAll(environment());
                pb.environment().putAll(env);
                Process process = pb.start();
                if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                    throw new AssertionError(command + " did not end within " + timeout + "; stdout: "
                            + Files.readString(out) + "; stderr: " + Files.readString(err));
                }
                return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command, e);
        }
    }
}
