package org.buildhook.servlet;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build, written into {@code build.properties} by Maven's resource filtering. */
final class BuildInfo {

    private BuildInfo() {
    }

    /** e.g. {@code 1.0.0-SNAPSHOT}; {@code unknown} when the classes were not built by Maven. */
    static String version() {
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
