package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.buildhook.core.DataFiles;

/**
 * What a store's mark in a folder it sweeps ({@code .buildhook-store-<installation id>}, {@link OrphanFiles}) records
 * (since 2026-12-05, switch41 F2): the store's JDBC URL without anything that may be a secret, so that once another
 * store is configured on the same data folder, {@code check} and the start can name the store that used it before and
 * count the jobs it holds not ended ({@link OtherStoreJobs}). A mark an older build made is an empty file: it names
 * no store, and is filled in when its store opens again.
 *
 * <p>The content is text, UTF-8: a comment line, then {@code store=<url>}. The URL keeps the host, port and
 * database, and of its parameters only {@code user}, {@code currentSchema}, {@code ssl} and {@code sslmode}; a
 * {@code //user:password@} part and every other parameter ({@code password} among them) are left out.
 */
final class StoreMark {

    private static final String KEY = "store=";
    /** The parameters of a PostgreSQL URL a mark keeps: none of them is a secret. */
    private static final Set<String> KEPT = Set.of("user", "currentschema", "ssl", "sslmode");

    private StoreMark() {
    }

    /** The URL a mark records for the store at {@code url}: without a password, or any parameter that may be one. */
    static String url(String url) {
        if (Dialect.of(url) != Dialect.POSTGRESQL) {
            int query = url.indexOf('?');
            return query < 0 ? url : url.substring(0, query); // an SQLite file's name holds no secret; its options may
        }
        String shown = url;
        // As StoreConfig.describe() finds them: a '@' that may end a password ends it.
        int at = StoreConfig.credentialsEnd(url);
        if (at < 0) {
            at = StoreConfig.atInDatabaseName(url);
        }
        if (at >= 0) {
            shown = url.substring(0, url.indexOf("//") + 2) + url.substring(at + 1);
        }
        int query = shown.indexOf('?');
        if (query < 0) {
            return shown;
        }
        List<String> kept = new ArrayList<>();
        for (String parameter : shown.substring(query + 1).split("&")) {
            int equals = parameter.indexOf('=');
            String name = equals < 0 ? parameter : parameter.substring(0, equals);
            if (KEPT.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                kept.add(parameter);
            }
        }
        return shown.substring(0, query) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
    }

    /** What a mark of the store at {@code url} holds. */
    static String content(String url) {
        return "# the buildhook store that sweeps this folder, without its secrets: see docs/storage.md\n"
                + KEY + url(url) + "\n";
    }

    /**
     * Makes the mark {@code mark} with {@code content}, or fills it in when an older build left it empty; a mark with
     * content is left as it is (another node of the store may have written it, naming the same database its own way).
     * Written whole or not at all: a file beside it, then moved onto it.
     */
    static void write(Path mark, String content) throws IOException {
        if (content.isEmpty()) {
            DataFiles.createIfMissing(mark);
            return;
        }
        if (Files.exists(mark) && Files.size(mark) > 0) {
            return;
        }
        // Not named as a mark: a sweep would take a half-written one for another store's.
        Path temporary = mark.resolveSibling(".buildhook-mark-" + ProcessHandle.current().pid() + "-"
                + Thread.currentThread().getId() + ".tmp");
        try {
            DataFiles.write(temporary, content.getBytes(StandardCharsets.UTF_8));
            Files.move(temporary, mark, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * The store URL {@code mark} records: empty when it records none (made by a build older than 2026-12-05).
     *
     * @throws IOException when it cannot be read
     */
    static Optional<String> recorded(Path mark) throws IOException {
        for (String line : Files.readAllLines(mark, StandardCharsets.UTF_8)) {
            if (line.startsWith(KEY) && line.length() > KEY.length()) {
                return Optional.of(line.substring(KEY.length()).strip());
            }
        }
        return Optional.empty();
    }
}
