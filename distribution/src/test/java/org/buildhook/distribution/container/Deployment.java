package org.buildhook.distribution.container;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What an operator mounts into the image, in a test's folder: {@code config/} (buildhook.yaml,
 * rules.yaml, the JobServ secret and admin token as files) on /etc/buildhook, {@code scripts/} on
 * /opt/scripts, and {@code data/} (owned by the image's user) on /var/lib/buildhook, so the test reads
 * what jobs write there without entering the container.
 */
final class Deployment {

    /** The image's user and group id. */
    static final String UID = "10001";

    final Path config;
    final Path scripts;
    final Path data;
    final String secret = "jobserv-" + UUID.randomUUID();
    final String adminToken = "admin-" + UUID.randomUUID();

    private Deployment(Path dir) throws IOException {
        this.config = Files.createDirectories(dir.resolve("config"));
        this.scripts = Files.createDirectories(dir.resolve("scripts"));
        this.data = Files.createDirectories(dir.resolve("data"));
    }

    /** A deployment whose buildhook.yaml has the secrets as files plus {@code extraYaml}, and {@code rules}. */
    static Deployment of(Path dir, String extraYaml, String rules) throws IOException {
        Deployment d = new Deployment(dir);
        Files.writeString(d.config.resolve("jobserv-secret"), d.secret + "\n");
        Files.writeString(d.config.resolve("admin-token"), d.adminToken + "\n");
        Files.writeString(d.config.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: /var/lib/buildhook",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - file: /etc/buildhook/jobserv-secret",
                "admin:",
                "  token: {file: /etc/buildhook/admin-token}",
                extraYaml,
                ""));
        Files.writeString(d.config.resolve("rules.yaml"), rules);
        for (Path folder : List.of(dir, d.config, d.scripts)) {
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Podman.exec(List.of("chown", UID + ":" + UID, d.data.toString()), null, Map.of(), Duration.ofMinutes(1)).ok();
        return d;
    }

    /** Writes an executable {@code /opt/scripts/<name>} with a POSIX shell {@code body}. */
    Deployment script(String name, String body) throws IOException {
        Path script = Files.writeString(scripts.resolve(name), "#!/bin/sh\n" + body, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return this;
    }

    /** The {@code podman run} options that mount this deployment. */
    List<String> mounts() {
        return List.of("-v", config + ":/etc/buildhook:ro", "-v", scripts + ":/opt/scripts:ro",
                "-v", data + ":/var/lib/buildhook");
    }

    /** Lines of a file the jobs write in the data folder; none when it does not exist yet. */
    List<String> lines(String file) throws IOException {
        Path path = data.resolve(file);
        return Files.exists(path) ? Files.readAllLines(path, StandardCharsets.UTF_8) : List.of();
    }
}
