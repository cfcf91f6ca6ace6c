package org.buildhook.distribution.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Removing this checkout's older test images leaves alone what another checkout on the same machine
 * built (it may be about to run it) and what a container uses. Real podman, with tiny images of their
 * own names (a random checkout), so the images of real test runs are never touched.
 */
class ImagesTest {

    @TempDir
    Path dir;

    @Test
    void removingOlderBuildsRemovesOnlyThisCheckoutsOwnUnusedOnes() throws IOException {
        Podman.requireInstalled();
        String ours = "t" + UUID.randomUUID().toString().substring(0, 8);
        String theirs = "t" + UUID.randomUUID().toString().substring(0, 8);
        String keep = image(ours + "-0000000000000001");
        String older = image(ours + "-0000000000000002");
        String inUse = image(ours + "-0000000000000003");
        String another = image(theirs + "-0000000000000004"); // just built by another checkout
        List<String> containers = new ArrayList<>();
        try {
            containers.add(Podman.podman("create", "--name", ours + "-user", inUse, "/never-started").ok().out().strip());

            Images.removeOlderBuilds(keep, ours);

            assertThat(exists(keep)).as("the image this run uses").isTrue();
            assertThat(exists(older)).as("this checkout's older build").isFalse();
            assertThat(exists(inUse)).as("an older build a container uses").isTrue();
            assertThat(exists(another)).as("another checkout's build").isTrue();
        } finally {
            for (String container : containers) {
                Podman.podman("rm", "-f", container);
            }
            for (String image : List.of(keep, older, inUse, another)) {
                Podman.podman("rmi", image);
            }
        }
    }

    /** A tiny image of that tag in {@link Images#REPOSITORY}, distinct from every other (its own label). */
    private String image(String tag) throws IOException {
        String name = Images.REPOSITORY + ":" + tag;
        Path context = Files.createDirectories(dir.resolve(tag));
        Files.writeString(context.resolve("Containerfile"), "FROM scratch\n");
        Podman.exec(List.of("podman", "build", "--pull=never", "-q", "--label", "org.buildhook.test.image=" + tag,
                "-t", name, "-f", context.resolve("Containerfile").toString(), context.toString()), null, Map.of(),
                Duration.ofMinutes(5)).ok();
        assertThat(exists(name)).isTrue();
        return name;
    }

    private static boolean exists(String image) {
        return Podman.podman("image", "exists", image).exit() == 0;
    }
}
