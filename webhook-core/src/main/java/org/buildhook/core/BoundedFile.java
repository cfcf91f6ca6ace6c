package org.buildhook.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;

/**
 * Reads a file a user names (a payload, a rules or configuration file, a secret file) whole, but never more than a
 * limit that fits what it holds: {@code Files.readAllBytes} of {@code /dev/zero}, or of a file larger than the heap,
 * ended in an {@code OutOfMemoryError} and its stack trace (review55b F5). A regular file larger than the limit is
 * refused by its size before a byte is read; anything else (a device, a pipe, a file that grows meanwhile) is read
 * up to one byte past the limit and refused there, so a pipe or {@code /dev/stdin} still works and an endless
 * device is not read for ever. The limit is also never more than a quarter of the JVM's heap: a limit an operator may
 * raise to 1 GiB ({@code http.max-body}, for {@code buildhook test} and {@code send}) is more than a small heap holds,
 * and a command reading {@code /dev/zero} or a file that large ended in an OutOfMemoryError all the same (review57a
 * F2); {@link FileTooLargeException#heapBound()} tells a caller that this, not its own limit, refused the file.
 */
public final class BoundedFile {

    /**
     * The most a file holding one secret is read with (a webhook secret, the admin token, a password): far more than
     * any secret, and little enough to read in any heap.
     */
    public static final int SECRET_FILE_BYTES = 64 * 1024;

    /** The first buffer for a file whose size is not known (a pipe, a device). */
    private static final int FIRST_BUFFER = 8192;
    /** The largest array the JVM allocates everywhere. */
    private static final long MAX_LIMIT = Integer.MAX_VALUE - 8;

    private BoundedFile() {
    }

    /**
     * The bytes of {@code file}, at most {@code limit} of them.
     *
     * @throws FileTooLargeException when it has more (its message names the file, its size or that it is not a
     *         regular file, and the limit; the caller adds what to do)
     * @throws IOException as {@code Files.readAllBytes} would, for a file that cannot be opened or read
     */
    public static byte[] read(Path file, long limit) throws IOException {
        return read(file, limit, Runtime.getRuntime().maxMemory());
    }

    /**
     * As {@link #read(Path, long)} in a JVM whose heap is {@code heap} bytes: at most a quarter of it is read (a read
     * holds up to twice that at once, a grown buffer and its copy; the rest is the program's). Tests give a small
     * heap.
     */
    static byte[] read(Path file, long limit, long heap) throws IOException {
        if (limit < 0 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 0 to " + MAX_LIMIT + ", got " + limit);
        }
        long held = Math.min(limit, heap / 4);
        boolean heapBound = held < limit;
        try (InputStream in = Files.newInputStream(file)) {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            boolean regular = attributes.isRegularFile();
            if (regular && attributes.size() > held) {
                throw new FileTooLargeException(file, attributes.size(), held, true, heapBound);
            }
            // A regular file's own size (plus one, to see it end) is the buffer: no copy for the usual case.
            long expected = regular ? attributes.size() : FIRST_BUFFER;
            return read(in, file, held, (int) Math.min(held, Math.max(expected, 0)), regular, heapBound);
        }
    }

    /**
     * As {@link #read}, decoded as UTF-8 as {@code Files.readString} does: malformed input is refused with a
     * {@link CharacterCodingException}.
     */
    public static String readString(Path file, long limit) throws IOException {
        byte[] bytes = read(file, limit);
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    }

    private static byte[] read(InputStream in, Path file, long limit, int first, boolean regular, boolean heapBound)
            throws IOException {
        byte[] buffer = new byte[first];
        int n = 0;
        while (true) {
            if (n == buffer.length) {
                int next = in.read();
                if (next < 0) {
                    return buffer;
                }
                if (n >= limit) {
                    throw new FileTooLargeException(file, -1, limit, regular, heapBound);
                }
                buffer = Arrays.copyOf(buffer, (int) Math.min(limit, Math.max(2L * buffer.length, FIRST_BUFFER)));
                buffer[n++] = (byte) next;
                continue;
            }
            int read = in.read(buffer, n, buffer.length - n);
            if (read < 0) {
                return n == buffer.length ? buffer : Arrays.copyOf(buffer, n);
            }
            n += read;
        }
    }

    /** {@code 5 MiB}, or {@code 6.3 GiB (6764573491 bytes)} where no unit writes it exactly: for messages. */
    public static String size(long bytes) {
        String[] units = {"GiB", "MiB", "KiB"};
        int[] shifts = {30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            long unit = 1L << shifts[i];
            if (bytes >= unit) {
                return bytes % unit == 0 ? bytes / unit + " " + units[i]
                        : String.format(java.util.Locale.ROOT, "%.1f %s (%d bytes)", (double) bytes / unit, units[i], bytes);
            }
        }
        return bytes + (bytes == 1 ? " byte" : " bytes");
    }
}
