package org.buildhook.runner.store;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/** The two database engines the store speaks; chosen by the JDBC URL. */
public enum Dialect {
    SQLITE("sqlite"),
    POSTGRESQL("postgresql");

    private final String folder;

    Dialect(String folder) {
        this.folder = folder;
    }

    /** The folder of this engine's migrations. */
    String folder() {
        return folder;
    }

    /** The engine a JDBC URL names, or a clear error for any other URL. */
    public static Dialect of(String jdbcUrl) {
        String url = jdbcUrl.toLowerCase(Locale.ROOT);
        if (url.startsWith("jdbc:sqlite:")) {
            return SQLITE;
        }
        if (url.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        throw new IllegalArgumentException("store url must start with jdbc:sqlite: or jdbc:postgresql:, got "
                + (url.length() > 20 ? url.substring(0, 20) + "…" : url));
    }

    /**
     * The file a {@code jdbc:sqlite:<path>[?…]} URL names, made absolute; empty for other engines,
     * in-memory databases and {@code file:} URIs.
     */
    static Optional<Path> sqliteFile(String jdbcUrl) {
        if (of(jdbcUrl) != SQLITE) {
            return Optional.empty();
        }
        String file = jdbcUrl.substring("jdbc:sqlite:".length());
        int query = file.indexOf('?');
        if (query >= 0) {
            file = file.substring(0, query);
        }
        if (file.isEmpty() || file.startsWith(":memory:") || file.startsWith("file:")) {
            return Optional.empty();
        }
        return Optional.of(Path.of(file).toAbsolutePath());
    }
}
