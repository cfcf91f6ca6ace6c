package org.buildhook.core;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file {@link BoundedFile} refused for holding more than its limit. The message names the file and what was wrong,
 * in words ({@link IoProblems#describe} gives it as it is); the caller says what to do.
 */
public final class FileTooLargeException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long limit;
    private final boolean heapBound;

    FileTooLargeException(Path file, long size, long limit, boolean regular, boolean heapBound) {
        super(words(file, size, limit, regular));
        this.file = file;
        this.limit = limit;
        this.heapBound = heapBound;
    }

    public Path file() {
        return file;
    }

    /** The most bytes that were allowed. */
    public long limit() {
        return limit;
    }

    /**
     * Whether {@link #limit()} was a quarter of the JVM's heap, less than the limit the caller asked for: a larger heap
     * ({@code -Xmx}) reads more.
     */
    public boolean heapBound() {
        return heapBound;
    }

    private static String words(Path file, long size, long limit, boolean regular) {
        String over = "the limit of " + BoundedFile.size(limit);
        if (!regular) {
            return file + " is not a regular file (a device, a pipe or a socket) and gave more than " + over;
        }
        return size < 0 ? file + " grew past " + over + " while it was read"
                : file + " is " + BoundedFile.size(size) + ", over " + over;
    }
}
