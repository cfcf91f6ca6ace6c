package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The distribution tarball that {@code mvn verify} built ({@code -Dbuildhook.tarball}), for tests that run it. */
public final class Tarball {

    private Tarball() {
    }

    /**
     * Unpacks the tarball under {@code dir} with the system's {@code tar}, as an operator would.
     *
     * @return the installation folder it made ({@code dir/buildhook-<version>})
     */
    public static Path unpack(Path dir) throws IOException, InterruptedException {
        Path tarball = Path.of(System.getProperty("buildhook.tarball"));
        assertThat(tarball).exists();
        Process tar = new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", dir.toString()).inheritIO().start();
        assertThat(tar.waitFor()).isZero();
        try (Stream<Path> unpacked = Files.list(dir)) {
            return unpacked.filter(p -> p.getFileName().toString().startsWith("buildhook-")).findFirst().orElseThrow();
        }
    }

    /**
     * {@code bin/buildhook <args>} of installation {@code home}, run in {@code work}, standard error
     * merged into standard output, on this JVM's Java and without the test's {@code BUILDHOOK_CONFIG}.
     * The user's cache folder ({@code XDG_CACHE_HOME}, where {@code serve} keeps its class-data archive
     * when {@code BUILDHOOK_CDS_DIR} is unset, and JNA its library) is {@link #userCache}, beside the
     * installation, not the home folder of the user running the tests.
     */
    public static ProcessBuilder launcher(Path home, Path work, String... args) {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/buildhook").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("BUILDHOOK_CONFIG");
        pb.environment().remove("BUILDHOOK_CDS_DIR");
        pb.environment().put("XDG_CACHE_HOME", userCache(home).toString());
        return pb;
    }

    /**
     * {@code command}, the installation's {@code bin/buildhook serve …} or a program that starts it ({@code env
     * --default-signal=…}, {@code systemd-socket-activate}, a socket holder), run in {@code work} with standard error
     * merged into standard output, as the server tests start it: on this JVM's Java with a small heap, C1 only and the
     * serial collector, without the test's {@code BUILDHOOK_CONFIG}, with no class-data archive ({@code
     * BUILDHOOK_CDS_DIR} empty: unset would keep one in the user's cache folder; ClassDataArchiveIT), and {@code
     * secret} in {@code JOBSERV_SECRET} (for a configuration's {@code secrets: [{env: JOBSERV_SECRET}]}).
     */
    public static ProcessBuilder server(Path work, String secret, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("JAVA_OPTS", "-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
        pb.environment().remove("BUILDHOOK_CONFIG");
        pb.environment().put("BUILDHOOK_CDS_DIR", "");
        pb.environment().put("JOBSERV_SECRET", secret);
        return pb;
    }

    /** The {@code XDG_CACHE_HOME} that {@link #launcher} gives installation {@code home}: a sibling folder. */
    public static Path userCache(Path home) {
        return home.resolveSibling("xdg-cache");
    }

    /**
     * Where {@code bin/buildhook serve} of installation {@code home} keeps its class-data archive when
     * {@code BUILDHOOK_CDS_DIR} is unset, under the cache folder {@code cache}: {@code
     * <cache>/buildhook/cds-<checksum of the install folder>}, the only folder there for one installation.
     */
    public static Path defaultArchiveFolder(Path cache) throws IOException {
        Path parent = cache.resolve("buildhook");
        try (Stream<Path> folders = Files.list(parent)) {
            List<Path> all = folders.filter(p -> p.getFileName().toString().startsWith("cds-")).toList();
            assertThat(all).as("archive folders in " + parent).hasSize(1);
            return all.get(0);
        }
    }
}
