package org.buildhook.servlet;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Which build of buildhook this is: the version and the git commit it was built from, written into
 * {@code build.properties} at build time (Maven's resource filtering, the commit by
 * git-commit-id-maven-plugin). Shown by {@code buildhook --version}, the start line, the status page
 * and {@code buildhook_build_info}.
 */
public final class BuildInfo {

    /** What each part says when the build could not tell (classes not built by Maven, sources without .git). */
    public static final String UNKNOWN = "unknown";

    private static final Properties BUILD = load();

    private BuildInfo() {
    }

    /** The Maven version, e.g. {@code 1.0.0-SNAPSHOT}; {@link #UNKNOWN} when the classes were not built by Maven. */
    public static String version() {
        return filled(BUILD.getProperty("version"));
    }

    /**
     * The commit the build was made from: its short id (8 hex digits), with {@code -dirty} when the tree
     * had changes not committed; {@link #UNKNOWN} when built from sources without git (a tarball).
     */
    public static String revision() {
        return revision(BUILD);
    }

    /** One phrase for logs and pages: {@code 1.0.0 (commit 0123abcd)}, or {@code 1.0.0 (commit unknown)}. */
    public static String describe() {
        return version() + " (commit " + revision() + ")";
    }

    static String revision(Properties p) {
        String id = filled(p.getProperty("revision"));
        if (UNKNOWN.equals(id)) {
            return UNKNOWN;
        }
        return "true".equals(p.getProperty("dirty")) ? id + "-dirty" : id;
    }

    /** A property Maven left as {@code ${…}} (no such property at build time) is not known. */
    private static String filled(String value) {
        return value == null || value.isBlank() || value.startsWith("${") ? UNKNOWN : value.trim();
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // Unreadable from inside our own jar: every part says unknown.
        }
        return p;
    }
}
