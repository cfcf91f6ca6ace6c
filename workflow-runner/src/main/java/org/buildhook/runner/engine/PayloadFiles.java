package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.buildhook.runner.RunnerException;

/** Writes a delivery's exact body where {@code BUILDHOOK_PAYLOAD} points, once, atomically. */
final class PayloadFiles {

    private PayloadFiles() {
    }

    static Path write(Path file, byte[] body) {
        if (Files.exists(file)) {
            return file;
        }
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), ".payload", ".tmp");
            Files.write(tmp, body);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            return file;
        } catch (IOException e) {
            throw new RunnerException("cannot write the payload file " + file + ": " + e.getMessage(), e);
        }
    }
}
