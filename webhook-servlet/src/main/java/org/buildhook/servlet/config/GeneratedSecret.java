package org.buildhook.servlet.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.buildhook.core.BoundedFile;
import org.buildhook.core.DataFiles;
import org.buildhook.core.IoProblems;
import java.util.HexFormat;
import java.util.Optional;

/**
 * A secret kept in a file of the data folder ({@code webhook-secret}, {@code admin-token}): read when
 * it exists, otherwise made of 32 random bytes written as 64 hex characters into a new file only its
 * owner can read, so the first start needs no setup and later starts keep the same secret. The file is
 * written only once the start that made the secret passed every check that can refuse it
 * ({@link PendingSecret}).
 */
final class GeneratedSecret {

    private static final SecureRandom RANDOM = new SecureRandom();

    private GeneratedSecret() {
    }

    /**
     * The secret in {@code file}, without its trailing newlines; empty when the file does not exist.
     * A file that exists but holds nothing gives the empty string (the caller reports it).
     *
     * @throws UncheckedIOException when the file cannot be read, or holds more than
     *         {@link BoundedFile#SECRET_FILE_BYTES} (a {@link org.buildhook.core.FileTooLargeException})
     */
    static Optional<String> read(Path file) {
        try {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            return Optional.of(SecretReader.stripTrailingNewlines(BoundedFile.readString(file,
                    BoundedFile.SECRET_FILE_BYTES)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Where {@code file} points when it is a symbolic link to nothing (its target removed or not mounted),
     * which {@link #read} takes for no file; empty for anything else.
     */
    static Optional<String> danglingLink(Path file) {
        if (!Files.isSymbolicLink(file) || Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readSymbolicLink(file).toString());
        } catch (IOException e) {
            return Optional.of("(unreadable: " + IoProblems.describe(e) + ")");
        }
    }

    /** A new secret as it would be written: 32 random bytes as 64 hex characters. */
    static String fresh() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * Writes {@code secret} into the new file {@code file} (its folders made as needed): false, and
     * nothing written, when the file exists already (another start made it first).
     *
     * @throws IOException when the folder or the file cannot be made
     */
    static boolean create(Path file, String secret) throws IOException {
        Path dir = DataFiles.createDirectories(file.toAbsolutePath().getParent());
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        // Written whole into a private temporary file first, so nobody ever sees the secret file empty,
        // half written or readable by others; the move refuses to replace a file another start made.
        Path temporary = posix
                ? Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(temporary, secret + "\n", StandardCharsets.UTF_8);
            Files.move(temporary, file);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
