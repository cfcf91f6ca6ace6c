package org.buildhook.servlet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The README, the landing page (the walk-through), for the tests that keep it true to the code. The
 * reference chapters are pages under {@code docs/}: read them with {@link Docs#section}.
 */
public final class Readme {

    private Readme() {
    }

    /** One chapter: from its {@code ## } heading to the next chapter. */
    public static String chapter(String heading) throws IOException {
        String readme = Files.readString(Path.of(System.getProperty("buildhook.fixtures")).resolveSibling("README.md"));
        int start = readme.indexOf("\n" + heading + "\n");
        if (start < 0) {
            throw new AssertionError("the README has no chapter " + heading
                    + " (the reference chapters are pages under docs/: read them with Docs.section)");
        }
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }
}
