package org.buildhook.distribution.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The images the container tests run, made once per test JVM and kept between runs: the base and
 * PostgreSQL images by {@code build-images.sh} (cached by their existence), the buildhook image from
 * the built tarball with the shipped Containerfile, tagged with this checkout and the tarball's digest
 * so an unchanged tarball is not built again.
 *
 * <p>Other checkouts on the machine build and run their own images at the same time: only this
 * checkout's earlier builds are ever removed, and none a container uses. (Before, every other
 * {@code buildhook-it} image was removed, also one another checkout had just built and was about to
 * run.)
 */
final class Images {

    static final String BASE = "localhost/buildhook-base:bookworm";
    static final String POSTGRES = "localhost/buildhook-test-postgres:15";
    /** Where the buildhook images of every checkout are. */
    static final String REPOSITORY = "localhost/buildhook-it";

    private static String buildhook;

    private Images() {
    }

    /** The name of the buildhook image built from this build's tarball. */
    static synchronized String buildhook() {
        if (buildhook == null) {
            buildhook = build();
        }
        return buildhook;
    }

    private static String build() {
        Podman.exec(List.of("bash", Podman.TEST_DIR.resolve("build-images.sh").toString()), null,
                Map.of("BUILDHOOK_BASE_IMAGE", BASE, "BUILDHOOK_POSTGRES_IMAGE", POSTGRES), Duration.ofMinutes(30)).ok();
        Path tarball = Path.of(System.getProperty("buildhook.tarball"));
        assertThat(tarball).exists();
        String name = REPOSITORY + ":" + checkout() + "-" + digest(tarball).substring(0, 16);
        if (Podman.podman("image", "exists", name).exit() == 0) {
            return name;
        }
        try {
            Path context = Files.createTempDirectory("buildhook-image");
            try {
                Files.copy(tarball, context.resolve(tarball.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                long start = System.nanoTime();
                Podman.exec(List.of("podman", "build", "--pull=never", "--network=host", "--format", "docker",
                        "--build-arg", "BASE_IMAGE=" + BASE, "-t", name,
                        "-f", Podman.SOURCE_DIR.resolve("Containerfile").toString(), context.toString()),
                        null, Map.of(), Duration.ofMinutes(30)).ok();
                System.out.printf("built %s from %s in %d s%n", name, tarball.getFileName(),
                        Duration.ofNanos(System.nanoTime() - start).toSeconds());
                removeOlderBuilds(name, checkout());
            } finally {
                Files.deleteIfExists(context.resolve(tarball.getFileName()));
                Files.deleteIfExists(context);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return name;
    }

    /**
     * This checkout's earlier builds (of other tarballs) would only fill the disk: removed, except one a
     * container uses ({@code podman rmi} without {@code --force} refuses it). Another checkout's
     * images are left alone, since it may be about to run one. An image shared with another tag (the
     * same tarball built by another checkout) only loses this checkout's tag.
     *
     * @param keep     the image this run uses
     * @param checkout the checkout whose builds these are ({@link #checkout()})
     */
    static void removeOlderBuilds(String keep, String checkout) {
        for (String image : Podman.podman("images", "--format", "{{.Repository}}:{{.Tag}}", REPOSITORY)
                .ok().out().lines().toList()) {
            if (!image.equals(keep) && image.startsWith(REPOSITORY + ":" + checkout + "-")) {
                Podman.podman("rmi", image);
            }
        }
    }

    /** This checkout, as its image tags name it: a digest of its source folder's absolute path. */
    static String checkout() {
        try {
            byte[] path = Podman.SOURCE_DIR.toAbsolutePath().normalize().toString().getBytes(
                    java.nio.charset.StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(path)).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String digest(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            MessageDigest md = ((DigestInputStream) in).getMessageDigest();
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
