package org.buildhook.distribution;

import java.io.IOException;
import java.nio.file.Path;
import org.buildhook.core.BoundedFile;
import org.buildhook.core.FileTooLargeException;
import org.buildhook.core.IoProblems;

/**
 * The payload file {@code send} and {@code test} read: whole, up to the command's limit (an {@code http.max-body}, up
 * to 1 GiB) and to a quarter of the command's heap ({@link BoundedFile}), so that {@code /dev/zero} or a file too large
 * for the heap is refused in words with exit 3, not by an OutOfMemoryError's stack trace (8c8f365c for {@code send},
 * review57a F2 for {@code test}).
 */
final class PayloadFile {

    /** What a payload refused by the heap's quarter, not by the command's own limit, is told. */
    static final String HEAP_BOUND = "the most this command holds (a quarter of its heap; JAVA_OPTS=-Xmx… gives it more)";

    private PayloadFile() {
    }

    /**
     * The bytes of {@code payload}.
     *
     * @param overLimit what a payload over {@code limit} itself is told after the refusal's words, e.g. {@code "the
     *                  largest body a server can take (http.max-body at most): "}, before {@code "check that this
     *                  names the payload file …"}
     * @throws CommandFailure with exit 3 when it cannot be read or holds more
     */
    static byte[] read(Path payload, long limit, String overLimit) {
        try {
            return BoundedFile.read(payload, limit);
        } catch (FileTooLargeException e) {
            throw new CommandFailure("cannot read " + payload + ": " + e.getMessage() + ", "
                    + (e.heapBound() ? HEAP_BOUND + ": " : overLimit) + "check that this names the payload file (a"
                    + " JobServ build event is a few KiB)", ExitCodes.UNAVAILABLE);
        } catch (IOException e) {
            throw new CommandFailure("cannot read " + payload + ": " + IoProblems.describe(e), ExitCodes.UNAVAILABLE);
        }
    }
}
