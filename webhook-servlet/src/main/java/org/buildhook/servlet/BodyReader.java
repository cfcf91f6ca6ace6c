package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a request body up to a cap. A declared length over the cap is refused before reading a
 * byte; a chunked body is refused as soon as it passes the cap, without reading the rest.
 */
final class BodyReader {

    /** The body is larger than the cap. */
    static final class TooLarge extends Exception {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message, null, false, false);
        }
    }

    private BodyReader() {
    }

    static byte[] read(HttpServletRequest request, long maxBytes) throws IOException, TooLarge {
        long declared = request.getContentLengthLong();
        if (declared > maxBytes) {
            throw new TooLarge("Content-Length " + declared + " is over the limit of " + maxBytes + " bytes");
        }
        int initial = (int) Math.min(declared >= 0 ? declared : 8192, maxBytes);
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(initial, 16));
        byte[] buffer = new byte[8192];
        try (InputStream in = request.getInputStream()) {
            long total = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                total += n;
                if (total > maxBytes) {
                    throw new TooLarge("body is over the limit of " + maxBytes + " bytes");
                }
                out.write(buffer, 0, n);
            }
        }
        return out.toByteArray();
    }
}
