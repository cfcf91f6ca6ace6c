package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.buildhook.core.DataFiles;
import org.buildhook.core.IoProblems;

/**
 * Whether this node can write the folders it writes for an attempt before the command starts (the
 * payload folder, the log folder, its own default working directory), asked the way the attempt
 * writes them (tryout17 F3, final18 F1, review18 R6, R11). Used at the engine's start, every polling
 * interval while the node is paused because it could not, and (without writing) by {@code buildhook
 * check}.
 */
public final class NodeFolders {

    /** The least a probe writes: more than a delivery's payload usually takes, so that a nearly full disk fails it. */
    public static final int PROBE_BYTES = 64 * 1024;
    /** How {@link #whyNotWritable} begins for a folder whose disk has less than {@link #PROBE_BYTES} free. */
    public static final String DISK_FULL = "its disk is full";
    /**
     * How a probe file's name begins; a random suffix follows. Never {@code .buildhook-store-} (retention's
     * marks), never a job id or {@code attempt-<n>.log}: no sweep or log reader takes it for one of its own.
     */
    static final String PROBE_PREFIX = ".buildhook-write-probe-";
    private static final java.util.regex.Pattern PROBE_NAME =
            java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(PROBE_PREFIX) + "[0-9a-f]{1,16}");

    /**
     * Whether {@code name} is that of a probe file ({@link #PROBE_PREFIX} and the hex digits of its random
     * suffix). A probe deletes its file at once; one is left only by a node killed during the probe, and
     * retention removes such a file once it is old enough (review19 R4).
     *
     * @param name a file name, without folder
     */
    public static boolean isProbe(String name) {
        return PROBE_NAME.matcher(name).matches();
    }

    private NodeFolders() {
    }

    /**
     * A folder the node needs before any command starts.
     *
     * @param what        what it is, for messages ({@code "runner.log-dir"}, {@code "the payload folder"})
     * @param path        the folder
     * @param writesFiles whether the node writes files into it (false: it only makes it, as buildhook's own
     *                    default working directory, which the jobs share as their cwd)
     */
    public record Folder(String what, Path path, boolean writesFiles) {

        /** Probes it as {@link NodeFolders#probe}; the failure as the engine takes it. */
        public void probe() throws NodeFilesException {
            try {
                NodeFolders.probe(path, writesFiles, 0, null);
            } catch (IOException e) {
                throw writesFiles ? new NodeFilesException(what + " " + path, path, 0, e)
                        : NodeFilesException.folderNotMade(what + " " + path, path, e);
            }
        }
    }

    /**
     * Makes {@code folder} (and its parents) as an attempt would, and, when {@code writesFiles}, writes
     * and deletes a file of at least {@link #PROBE_BYTES} bytes (or {@code bytes}) in it; when {@code
     * file} is given and exists, also opens it for writing, without changing it, as the write that failed
     * would (a payload file of the wrong length that this user may not overwrite, a folder where the file
     * goes: the folder alone would take a new file, and the node would resume and fail again every polling
     * interval, review18 R6).
     *
     * <p>The probe file has a name of its own for each probe ({@link #PROBE_PREFIX} and a random
     * suffix), created new and deleted at once, and is never written into a folder that only has to
     * exist ({@code writesFiles} false: the jobs' shared working directory, where running commands list
     * and clean their cwd, review18 R11): a job never finds a probe it did not make, nor has one of its
     * own files overwritten or deleted by it.
     *
     * @param bytes how many bytes the write that failed needed (0 when not known): the probe writes at
     *              least as many
     * @param file  the file whose write failed, or null
     * @throws IOException what the file system said; {@link #reason} puts it in words
     */
    public static void probe(Path folder, boolean writesFiles, long bytes, Path file) throws IOException {
        DataFiles.createDirectories(folder);
        if (!writesFiles) {
            return;
        }
        Path probe = folder.resolve(PROBE_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        long left = Math.max(PROBE_BYTES, bytes);
        ByteBuffer zeros = ByteBuffer.allocate(PROBE_BYTES);
        try {
            try (FileChannel channel = DataFiles.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                while (left > 0) {
                    zeros.clear().limit((int) Math.min(zeros.capacity(), left));
                    while (zeros.hasRemaining()) {
                        left -= channel.write(zeros);
                    }
                }
            }
        } finally {
            Files.deleteIfExists(probe);
        }
        if (file != null && Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            // WRITE without TRUNCATE: asks for the right to write it (and that it is a file), changes nothing.
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.size();
            }
        }
    }

    /**
     * Why {@code folder} could not be written, without repeating its path: {@code "a file is where the
     * folder goes"}, {@code "/data is not a directory: a file is where a folder goes"} (a parent), else the file system's error in
     * words ({@link IoProblems#describe}).
     */
    public static String reason(Path folder, IOException e) {
        if (e instanceof NotDirectoryException nd && nd.getFile() != null) {
            Path file = Path.of(nd.getFile());
            return file.toAbsolutePath().equals(folder.toAbsolutePath()) ? "a file is where the folder goes"
                    : file + " is not a directory: a file is where a folder goes";
        }
        return IoProblems.describe(e);
    }

    /**
     * Why this node could not write {@code folder}, looked at without writing anything (for {@code
     * buildhook check}, which writes nothing): it (or its nearest existing parent, when it is still to
     * be made) is not a folder, not writable for this user, on a read-only file system, or has less than
     * {@link #PROBE_BYTES} free. Empty when none of these is seen; the running node's probe, which
     * writes, is the last word.
     */
    public static Optional<String> whyNotWritable(Path folder) {
        Path absolute = folder.toAbsolutePath();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return Optional.of("none of its parents exists");
        }
        if (!Files.isDirectory(existing)) {
            return Optional.of(existing.equals(absolute) ? "a file is where the folder goes"
                    : existing + " is not a directory: a file is where a folder goes");
        }
        String where = existing.equals(absolute) ? "" : " (" + existing + ", where it would be made)";
        try {
            FileStore store = Files.getFileStore(existing);
            if (store.isReadOnly()) {
                return Optional.of("its file system is read-only" + where);
            }
            if (!Files.isWritable(existing)) {
                return Optional.of("this user may not write it" + where + " (check its owner and mode)");
            }
            if (store.getUsableSpace() < PROBE_BYTES) {
                return Optional.of(DISK_FULL + " (" + store.getUsableSpace() + " bytes free)" + where);
            }
        } catch (IOException e) {
            return Optional.of(IoProblems.describe(e));
        }
        return Optional.empty();
    }
}
