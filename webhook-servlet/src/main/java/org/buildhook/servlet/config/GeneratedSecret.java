package org.buildhook.servlet.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.buildhook.core.DataFiles;
import java.util.HexFormat;
import java.util.Optional;

/**
 * A secret kept in a file of the data folder ({@code webhook-secret}, {@code admin-token}): read when
 * it exists, otherwise made of 32 random bytes written as 64 hex characters into a new file only its
 * owner can read, so the first start needs no setup and later starts keep the same secret.
 */
final class GeneratedSecret {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** The secret and whether it was made just now. */
    record Result(String secret, boolean generated) {
        @Override
        public String toString() {
            return "Result[generated=" + generated + "]";
        }
    }

    private GeneratedSecret() {
    }

    /**
     * @return empty when the file exists but is empty (the caller reports it)
     * @throws UncheckedIOException when the file cannot be read or written
     */
    static Optional<Result> readOrCreate(Path file) {
        try {
            if (!Files.exists(file)) {
                Optional<Result> made = create(file);
                if (made.isPresent()) {
                    return made;
                }
            }
            String secret = SecretReader.stripTrailingNewlines(Files.readString(file, StandardCharsets.UTF_8));
            return secret.isEmpty() ? Optional.empty() : Optional.of(new Result(secret, false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new secret as it would be written: 32 random bytes as 64 hex characters. */
    static String fresh() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Empty when another process created the file first; then the caller reads theirs. */
    private static Optional<Result> create(Path file) throws IOException {
        Path dir = DataFiles.createDirectories(file.toAbsolutePath().getParent());
        String secret = fresh();
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
            return Optional.of(new Result(secret, true));
        } catch (FileAlreadyExistsException e) {
            return Optional.empty();
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
