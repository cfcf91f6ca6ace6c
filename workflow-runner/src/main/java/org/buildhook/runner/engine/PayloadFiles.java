package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.StandardOpenOption;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import org.buildhook.core.DataFiles;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.buildhook.runner.exec.NodeFilesException;

/**
 * Writes a delivery's exact body where {@code BUILDHOOK_PAYLOAD} points, once per delivery.
 *
 * <p>Every job pays for this, so it costs one file creation and nothing else: no temporary file
 * renamed into place, no look before the creation, and the folder made only when the write finds
 * it missing. Jobs of one
 * delivery that start at the same time on this node wait for the first one's write (a lock per
 * delivery id stripe), and a file whose length is not the body's — cut short by a crash — is
 * written again; the body never changes, so a file of the right length is the whole body.
 */
final class PayloadFiles {

    private static final Object[] STRIPES = new Object[64];

    static {
        for (int i = 0; i < STRIPES.length; i++) {
            STRIPES[i] = new Object();
        }
    }

    private PayloadFiles() {
    }

    /**
     * Writes {@code body} into {@code file} unless a file of its length is there already; returns {@code file}.
     *
     * @throws NodeFilesException when it cannot be written (disk full, read-only, permissions, a file where
     *         its folder must be), naming the file and the file system's error
     */
    static Path write(Path file, byte[] body) {
        synchronized (STRIPES[Math.floorMod(file.getFileName().hashCode(), STRIPES.length)]) {
            try {
                try {
                    // A delivery's first job finds no file: created at once, without asking first
                    // (docs/BENCHMARKS.md, "Fifth pass: CPU per delivery").
                    create(file, body);
                } catch (FileAlreadyExistsException e) {
                    if (lengthOf(file) != body.length) {
                        DataFiles.write(file, body);
                    }
                } catch (NoSuchFileException e) {
                    // The first payload, or the folder was removed meanwhile (an operator, a test).
                    DataFiles.createDirectories(file.getParent());
                    DataFiles.write(file, body);
                }
                return file;
            } catch (IOException e) {
                // The node's fault, not the job's: the engine puts the job back and stops picking (tryout17 F3).
                throw new NodeFilesException("the payload file " + file, file.getParent(), file, body.length, e);
            }
        }
    }

    /** Writes {@code body} into {@code file}, which must not exist yet. */
    private static void create(Path file, byte[] body) throws IOException {
        try (FileChannel channel = DataFiles.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(body);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
    }

    /**
     * The file's length, or -1 when it is missing: without an exception for a missing file (Java
     * 17's {@code Files.size} builds one, and every delivery's first job finds its file missing).
     */
    private static long lengthOf(Path file) {
        if (file.getFileSystem() != FileSystems.getDefault()) {
            try {
                return Files.size(file);
            } catch (IOException e) {
                return -1;
            }
        }
        java.io.File f = file.toFile();
        long length = f.length();
        return length == 0 && !f.isFile() ? -1 : length;
    }
}
