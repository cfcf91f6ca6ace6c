package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real 64 KiB tmpfs for a test whose log's disk must fill up (FullLogDiskTest, FullLogDiskNotesTest). Needs root:
 * fails, not skips, under {@code CI=true} when it cannot be mounted.
 */
final class SmallTmpfs {

    private SmallTmpfs() {
    }

    /**
     * Mounts a 64 KiB tmpfs on {@code at} (made if missing).
     *
     * @return {@code at}, mounted; unmount it with {@link #unmount}
     * @throws AssertionError under {@code CI=true} when it cannot be mounted (elsewhere the test is skipped)
     */
    static Path mount(Path at) throws IOException, InterruptedException {
        Path folder = Files.createDirectories(at);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder.toString())
                .inheritIO().start();
        boolean ok = mount.waitFor(60, TimeUnit.SECONDS) && mount.exitValue() == 0;
        if (!ok && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("cannot mount a tmpfs on " + folder + " (needs root): this test must run in CI");
        }
        Assumptions.assumeTrue(ok, "cannot mount a tmpfs here (needs root)");
        return folder;
    }

    /** Unmounts what {@link #mount} mounted; null does nothing. */
    static void unmount(Path mounted) throws IOException, InterruptedException {
        if (mounted != null) {
            new ProcessBuilder("umount", mounted.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
        }
    }
}
