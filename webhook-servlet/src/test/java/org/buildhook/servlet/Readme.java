package org.buildhook.servlet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The README, the user's manual, for the tests that keep it true to the code. */
public final class Readme {

    private Readme() {
    }

    /** One chapter: from its {@code ## } heading to the next chapter. */
    public static String chapter(String heading) throws IOException {
        String readme = Files.readString(Path.of(System.getProperty("buildhook.fixtures")).resolveSibling("README.md"));
        int start = readme.indexOf("\n" + heading + "\n");
        if (start < 0) {
            throw new AssertionError("the README has no chapter " + heading);
        }
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }
}
