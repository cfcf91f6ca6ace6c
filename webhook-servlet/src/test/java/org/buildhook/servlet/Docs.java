package org.buildhook.servlet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The operator's reference pages under {@code docs/}, for the tests that keep them true to the code. */
public final class Docs {

    private static final Pattern HEADING = Pattern.compile("(?m)^(#{1,6}) (.*)$");

    private Docs() {
    }

    /** The repository's root: the parent of the fixtures folder surefire names. */
    public static Path root() {
        return Path.of(System.getProperty("buildhook.fixtures", "../fixtures")).toAbsolutePath().getParent();
    }

    /**
     * One section of a page: from its heading line (exactly as written, e.g. {@code "## Metrics"}) to
     * the next heading of the same or a higher level, or the end of the page.
     *
     * @param page a file name under {@code docs/}, e.g. {@code "operations.md"}
     * @throws AssertionError when the page has no such heading
     */
    public static String section(String page, String heading) throws IOException {
        String text = "\n" + Files.readString(root().resolve("docs").resolve(page));
        int start = text.indexOf("\n" + heading + "\n");
        if (start < 0) {
            throw new AssertionError("docs/" + page + " has no heading " + heading);
        }
        int level = heading.indexOf(' ');
        Matcher next = HEADING.matcher(text);
        int end = text.length();
        int from = start + 1 + heading.length();
        while (next.find(from)) {
            from = next.end();
            if (next.group(1).length() <= level && !insideCodeBlock(text, next.start())) {
                end = next.start();
                break;
            }
        }
        return text.substring(start, end);
    }

    /**
     * The first fenced code block of a section whose opening fence names {@code language} and whose
     * text contains {@code containing}, without its fences and without the indentation of a list item.
     *
     * @throws AssertionError when the section has no such block
     */
    public static String codeBlock(String page, String heading, String language, String containing)
            throws IOException {
        Matcher block = Pattern.compile("(?ms)^ *```" + Pattern.quote(language) + "\\n(.*?)^ *```$")
                .matcher(section(page, heading));
        while (block.find()) {
            if (block.group(1).contains(containing)) {
                return block.group(1).stripTrailing().stripIndent() + "\n";
            }
        }
        throw new AssertionError("docs/" + page + ", " + heading + ": no ```" + language + " block with " + containing);
    }

    private static boolean insideCodeBlock(String text, int position) {
        int fences = 0;
        for (int i = text.indexOf("\n```"); i >= 0 && i < position; i = text.indexOf("\n```", i + 1)) {
            fences++;
        }
        return fences % 2 == 1;
    }
}
