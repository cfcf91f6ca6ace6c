package org.buildhook.runner.exec;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A command that exits by itself exactly as a stop of its attempt (a cancel, a supersede, a timeout, a
 * shutdown) has looked for its processes and not yet signalled them: the moment of tryout22 F6, made
 * certain instead of hit by chance. The command ({@link #script}) writes its pid, then blocks reading a
 * FIFO, with no child of its own; the stop's first look ({@link ProcessTree#afterFirstLook}) writes that
 * FIFO and waits until the command has exited (a zombie counts), then lets the stop go on to its signals.
 * Every stop with something to signal while it is armed waits for the command to start: arm it only while
 * that command is the one to be stopped. For the tests of this package and of the engine (public for those).
 */
public final class ExitAtTheStop implements AutoCloseable {

    private final Path fifo;
    private final Path pidFile;

    private ExitAtTheStop(Path fifo, Path pidFile) {
        this.fifo = fifo;
        this.pidFile = pidFile;
        ProcessTree.afterFirstLook = root -> {
            // A stop may come before the command has written its pid (a short timeout on a slow machine).
            await().atMost(Duration.ofSeconds(60)).until(this::started);
            if (root.pid() == pid()) {
                release();
                await().atMost(Duration.ofSeconds(60)).alias("the command exited by itself")
                        .until(() -> Fixtures.isGone(root.pid()));
            }
        };
    }

    /** Makes the FIFO in {@code dir} and arms the seam; {@link #close()} disarms it. */
    public static ExitAtTheStop in(Path dir) throws IOException, InterruptedException {
        Path fifo = dir.resolve("exit-at-the-stop.fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        if (mkfifo.waitFor() != 0) {
            throw new IOException("mkfifo " + fifo + " failed");
        }
        return new ExitAtTheStop(fifo, dir.resolve("exit-at-the-stop.pid"));
    }

    /**
     * The shell lines of the command: its pid written, then a wait on the FIFO (the shell's own
     * {@code read}, no child process), then {@code done} and {@code exit <exit>}.
     */
    public String script(int exit) {
        return "echo $$ > '" + pidFile + "'\nread line < '" + fifo + "'\necho done\nexit " + exit;
    }

    /** Whether the command has started (written its pid). */
    public boolean started() throws IOException {
        return Files.exists(pidFile) && !Files.readString(pidFile).isBlank();
    }

    /** The command's pid, once {@link #started()}. */
    public long pid() {
        try {
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lets the command go on to its end (opening the FIFO waits for its reader). */
    public void release() {
        try (OutputStream out = Files.newOutputStream(fifo)) {
            out.write("go\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        ProcessTree.afterFirstLook = null;
    }
}
