package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real small tmpfs for a test whose disk must fill up (FullLogDiskTest, FullLogDiskNotesTest, the SQLite store's
 * start on a full disk). Needs root: fails, not skips, under {@code CI=true} when it cannot be mounted.
 */
public final class SmallTmpfs {

    private SmallTmpfs() {
    }

    /** Mounts a 64 KiB tmpfs on {@code at}; see {@link #mount(Path, String)}. */
    static Path mount(Path at) throws IOException, InterruptedException {
        return mount(at, "64k");
    }

    /**
     * Mounts a tmpfs of {@code size} ({@code mount}'s {@code size=} option: {@code 64k}, {@code 8m}) on {@code at}
     * (made if missing).
     *
     * @return {@code at}, mounted; unmount it with {@link #unmount}
     * @throws AssertionError under {@code CI=true} when it cannot be mounted (elsewhere the test is skipped)
     */
    public static Path mount(Path at, String size) throws IOException, InterruptedException {
        Path folder = Files.createDirectories(at);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", folder.toString())
                .inheritIO().start();
        boolean ok = mount.waitFor(60, TimeUnit.SECONDS) && mount.exitValue() == 0;
        if (!ok && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("cannot mount a tmpfs on " + folder + " (needs root): this test must run in CI");
        }
        Assumptions.assumeTrue(ok, "cannot mount a tmpfs here (needs root)");
        return folder;
    }

    /** Unmounts what {@link #mount} mounted; null does nothing. */
    public static void unmount(Path mounted) throws IOException, InterruptedException {
        if (mounted != null) {
            new ProcessBuilder("umount", mounted.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
        }
    }
}
