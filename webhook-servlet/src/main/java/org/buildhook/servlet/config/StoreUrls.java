package org.buildhook.servlet.config;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** The store URL: which ones are supported, adding credentials, and hiding the password again. */
final class StoreUrls {

    private static final Pattern PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");

    private StoreUrls() {
    }

    static boolean supported(String url) {
        return url.startsWith("jdbc:sqlite:") || url.startsWith("jdbc:postgresql:");
    }

    static boolean postgres(String url) {
        return url.startsWith("jdbc:postgresql:");
    }

    /**
     * A relative SQLite file resolves against the configuration file's folder, like every other path
     * in it; {@code :memory:} and {@code file:} URIs are left as written.
     */
    static String resolveSqlite(String url, java.nio.file.Path baseDir) {
        String prefix = "jdbc:sqlite:";
        if (!url.startsWith(prefix)) {
            return url;
        }
        String target = url.substring(prefix.length());
        if (target.isEmpty() || target.startsWith(":") || target.startsWith("file:")
                || java.nio.file.Path.of(target).isAbsolute()) {
            return url;
        }
        return prefix + baseDir.resolve(target).normalize();
    }

    /** The file of a {@code jdbc:sqlite:} URL resolved by {@link #resolveSqlite}; empty for others, {@code :memory:} and {@code file:} URIs. */
    static java.util.Optional<java.nio.file.Path> sqliteFile(String url) {
        String prefix = "jdbc:sqlite:";
        if (!url.startsWith(prefix)) {
            return java.util.Optional.empty();
        }
        String target = url.substring(prefix.length());
        int query = target.indexOf('?');
        target = query >= 0 ? target.substring(0, query) : target;
        if (target.isEmpty() || target.startsWith(":") || target.startsWith("file:")) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(java.nio.file.Path.of(target));
        } catch (java.nio.file.InvalidPathException e) {
            return java.util.Optional.empty(); // the store says so when it opens it
        }
    }

    /** Appends {@code name=value} to a PostgreSQL URL's query: the store opens the pool with the URL alone. */
    /** Whether the URL's query already has a parameter {@code name} (PostgreSQL's names are case-sensitive). */
    static boolean hasParameter(String url, String name) {
        int query = url.indexOf('?');
        if (query < 0) {
            return false;
        }
        for (String parameter : url.substring(query + 1).split("&")) {
            int eq = parameter.indexOf('=');
            if ((eq < 0 ? parameter : parameter.substring(0, eq)).equals(name)) {
                return true;
            }
        }
        return false;
    }

    static String withParameter(String url, String name, String value) {
        return url + (url.contains("?") ? "&" : "?") + name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    /**
     * Whether the URL names a user (and maybe a password) before its host, {@code //user:password@host}.
     * The PostgreSQL driver does not read that form: it takes the whole of it for the host name.
     */
    static boolean hasUserInfo(String url) {
        return userInfoEnd(url) >= 0;
    }

    /** The URL with any {@code password=} value, and any {@code user:password@} before the host, masked. */
    static String redact(String url) {
        int at = userInfoEnd(url);
        String hidden = at < 0 ? url : url.substring(0, url.indexOf("//") + 2) + "***" + url.substring(at);
        return PASSWORD.matcher(hidden).replaceAll("$1***");
    }

    /** The index of the '@' that ends a {@code //user:password@} part, or -1 (the rule the store's log lines follow too). */
    private static int userInfoEnd(String url) {
        return org.buildhook.runner.store.StoreConfig.credentialsEnd(url);
    }
}
