package org.buildhook.runner.store;

import java.io.IOException;
import org.buildhook.core.IoProblems;
import org.slf4j.Logger;

/**
 * The files a retention sweep could not delete, said in one warning per sweep rather than one per
 * file: a read-only or full log folder would otherwise write a line for each of hundreds of files.
 */
final class FileProblems {

    private int count;
    private String first;

    void add(IOException e) {
        if (count++ == 0) {
            first = IoProblems.describe(e);
        }
    }

    /**
     * One WARN when there was any problem: {@code what} could not be removed (plural), the first
     * problem, then {@code then} (what becomes of them).
     */
    void log(Logger log, String what, String then) {
        if (count > 0) {
            log.warn("retention could not remove {} {}; the first: {}; {}", count, what, first, then);
        }
    }
}
