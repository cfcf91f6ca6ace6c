package org.buildhook.core;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Finds {@code <factory>/<project>} in a JobServ build URL,
 * {@code https://api.foundries.io/projects/<factory>/<project>/builds/<id>/}. Done by hand rather
 * than with {@link java.net.URI}, which rejects some URLs JobServ could send (spaces, raw
 * non-ASCII) and decodes {@code %2F} into a path separator.
 */
final class ProjectPath {

    private ProjectPath() {
    }

    static String of(String url) {
        String[] segments = rawPath(url).split("/", -1);
        for (int i = 0; i + 3 < segments.length; i++) {
            if (segments[i].equals("projects") && !segments[i + 1].isEmpty() && !segments[i + 2].isEmpty()
                    && segments[i + 3].equals("builds")) {
                return decode(segments[i + 1]) + "/" + decode(segments[i + 2]);
            }
        }
        return "";
    }

    private static String rawPath(String url) {
        int scheme = url.indexOf("://");
        int pathStart = scheme < 0 ? 0 : url.indexOf('/', scheme + 3);
        if (pathStart < 0) {
            return "";
        }
        int end = url.length();
        for (char stop : new char[] {'?', '#'}) {
            int at = url.indexOf(stop, pathStart);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        return url.substring(pathStart, end);
    }

    /**
     * Percent-decoding as in a URI path (a {@code +} stays a {@code +}). Bad escapes, and {@code %2F}
     * which would put a {@code /} inside a name, stay as they are.
     */
    private static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        StringBuilder out = new StringBuilder(segment.length());
        ByteArrayOutputStream escaped = new ByteArrayOutputStream();
        for (int i = 0; i < segment.length(); i++) {
            int value = i + 2 < segment.length() && segment.charAt(i) == '%' ? escapedByte(segment, i) : -1;
            if (value >= 0 && value != '/') {
                escaped.write(value);
                i += 2;
                continue;
            }
            out.append(escaped.toString(StandardCharsets.UTF_8));
            escaped.reset();
            out.append(segment.charAt(i));
        }
        return out.append(escaped.toString(StandardCharsets.UTF_8)).toString();
    }

    private static int escapedByte(String segment, int percent) {
        int high = Character.digit(segment.charAt(percent + 1), 16);
        int low = Character.digit(segment.charAt(percent + 2), 16);
        return high < 0 || low < 0 ? -1 : (high << 4) | low;
    }
}
