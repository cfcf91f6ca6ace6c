package org.buildhook.distribution;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.buildhook.core.DataFiles;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code <data-dir>/server-url}: where a running {@code serve} listens, written once it listens and
 * removed once its port has closed at its stop. The admin commands read it after finding the configuration exactly
 * as {@code serve} found it, so they reach the server that configuration runs even when {@code serve}
 * was given {@code --port}/{@code --host} or a free port ({@code --port 0}).
 */
final class ServerUrlFile {

    /** The file this process wrote and what it wrote in it, once written. */
    private static final java.util.concurrent.atomic.AtomicReference<Written> WRITTEN =
            new java.util.concurrent.atomic.AtomicReference<>();

    static final String NAME = "server-url";
    private static final Logger LOG = LoggerFactory.getLogger(ServerUrlFile.class);

    private record Written(Path file, String text) {
    }

    private ServerUrlFile() {
    }

    /**
     * Writes the file; {@link #removeIfOwn()} removes it once the server's port has closed (its stop's last step, in
     * the stop's own shutdown hook).
     */
    static void write(Path dataDir, URI uri) {
        Path file = dataDir.resolve(NAME);
        String text = uri + "\n";
        try {
            // Nothing else may have made the data folder yet (a PostgreSQL store, a first start).
            DataFiles.createDirectories(dataDir);
            DataFiles.write(file, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.warn("cannot write {} (the admin commands then need --url): {}", file,
                    org.buildhook.core.IoProblems.describe(e));
            return;
        }
        WRITTEN.set(new Written(file, text));
    }

    /**
     * Removes the file this process wrote, if it still holds what this process wrote: called once the port has
     * closed, so that the admin commands find the server for the whole of its graceful stop (its drain may last
     * {@code runner.shutdown-grace}; tryout40 F1: the file was removed as the stop began, and the commands then
     * asked {@code localhost:8080}), and never removing the file of another server that shares the data folder
     * (two nodes of one PostgreSQL store with one configuration; tryout40 F2). Never throws.
     */
    static void removeIfOwn() {
        Written written = WRITTEN.getAndSet(null);
        if (written == null) {
            return;
        }
        try {
            if (Files.readString(written.file(), StandardCharsets.UTF_8).equals(written.text())) {
                Files.deleteIfExists(written.file());
            }
        } catch (IOException e) {
            // gone already, or unreadable: the next start overwrites it
        }
    }

    /** The URL a running server wrote, or empty when there is none (not running, or another user's). */
    static Optional<URI> read(Path dataDir) {
        Path file = dataDir.resolve(NAME);
        if (!Files.isReadable(file)) {
            return Optional.empty();
        }
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? Optional.empty() : Optional.of(URI.create(text));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
