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
 * removed when it stops. The admin commands read it after finding the configuration exactly as
 * {@code serve} found it, so they reach the server that configuration runs even when {@code serve}
 * was given {@code --port}/{@code --host} or a free port ({@code --port 0}).
 */
final class ServerUrlFile {

    /** The shutdown hook that deletes the file, once written. */
    private static final java.util.concurrent.atomic.AtomicReference<Thread> CLEANUP =
            new java.util.concurrent.atomic.AtomicReference<>();

    static final String NAME = "server-url";
    private static final Logger LOG = LoggerFactory.getLogger(ServerUrlFile.class);

    private ServerUrlFile() {
    }

    /** Writes the file and removes it when the JVM ends normally (SIGTERM, Ctrl-C). */
    static void write(Path dataDir, URI uri) {
        Path file = dataDir.resolve(NAME);
        try {
            // Nothing else may have made the data folder yet (a PostgreSQL store, a first start).
            DataFiles.createDirectories(dataDir);
            DataFiles.write(file, (uri + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.warn("cannot write {} (the admin commands then need --url): {}", file,
                    org.buildhook.core.IoProblems.describe(e));
            return;
        }
        Thread cleanup = new Thread(() -> {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // the next start overwrites it
            }
        }, "buildhook-server-url-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        CLEANUP.set(cleanup);
    }

    /**
     * Waits (at most 5 s) until the shutdown hook that deletes the file has run, for a stop that ends
     * the process itself ({@link ExitArchive}) rather than let the JVM wait for its hooks. Returns at once
     * when no file was written.
     */
    static void awaitCleanup() {
        Thread cleanup = CLEANUP.get();
        if (cleanup == null) {
            return;
        }
        try {
            cleanup.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
