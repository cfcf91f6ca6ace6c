package org.buildhook.benchmarks.load;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One keep-alive HTTP/1.1 connection that POSTs a body and reads the whole answer; reconnects
 * after {@code Connection: close} or an error. Deliberately small: a load generator must cost less
 * than what it measures, since it shares the 2 cores with the receiver and its commands. The JDK's
 * {@code HttpClient} used here before cost about 0.8 ms of CPU per request (6.6 s for 7,000
 * requests, JVM start included); this costs about 0.2 ms (1.5 s), and the same receiver then
 * accepted twice as many deliveries per second (docs/BENCHMARKS.md).
 */
final class HttpConnection implements AutoCloseable {

    private static final int TIMEOUT_MILLIS = 30_000;

    private final String host;
    private final int port;
    private final byte[] head;
    private final byte[] buffer = new byte[16 * 1024];
    private Socket socket;
    private OutputStream out;
    private InputStream in;
    private int start;
    private int end;

    HttpConnection(URI url) {
        this.host = url.getHost();
        this.port = url.getPort() < 0 ? 80 : url.getPort();
        String path = url.getRawPath().isEmpty() ? "/" : url.getRawPath()
                + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
        this.head = ("POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port
                + "\r\nContent-Type: application/json\r\nUser-Agent: buildhook-load\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Sends one POST and returns the answer's status code once its body has been read. */
    int post(String header, String value, byte[] body) throws IOException {
        open();
        try {
            out.write(head);
            out.write(fields(header, value, body.length));
            out.write(body);
            out.flush();
            return readAnswer();
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /**
     * The request's header lines after the fixed ones: the signature header, the body's length in bytes, and the blank
     * line that ends the head (US-ASCII).
     */
    static byte[] fields(String header, String value, int length) {
        return (header + ": " + value + "\r\nContent-Length: " + length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Opens the connection now if it is not open, instead of at the next {@link #post}. */
    void open() throws IOException {
        if (socket == null) {
            connect();
        }
    }

    private void connect() throws IOException {
        socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
        } catch (IOException e) {
            // Not connected: the next post tries again instead of writing to a stream never opened.
            socket.close();
            socket = null;
            throw e;
        }
        out = new BufferedOutputStream(socket.getOutputStream(), 8 * 1024);
        in = socket.getInputStream();
        start = 0;
        end = 0;
    }

    private int readAnswer() throws IOException {
        String statusLine = line();
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.x answer: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        boolean close = parts[0].equals("HTTP/1.0");
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> close = value.equalsIgnoreCase("close");
                default -> { }
            }
        }
        if (chunked) {
            for (long size = chunkSize(); size > 0; size = chunkSize()) {
                skip(size);
                line();
            }
            for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
                // trailers ignored
            }
        } else if (length >= 0) {
            skip(length);
        } else {
            close = true; // body until the end of the connection: not sent by the receivers measured here
        }
        if (close) {
            close();
        }
        return status;
    }

    private long chunkSize() throws IOException {
        String size = line();
        int semicolon = size.indexOf(';');
        return Long.parseLong((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder(64);
        while (true) {
            if (start == end) {
                fill();
            }
            byte b = buffer[start++];
            if (b == '\n') {
                int n = line.length();
                return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
            }
            line.append((char) (b & 0xff));
        }
    }

    private void skip(long count) throws IOException {
        long left = count;
        while (left > 0) {
            if (start == end) {
                fill();
            }
            int n = (int) Math.min(left, end - start);
            start += n;
            left -= n;
        }
    }

    private void fill() throws IOException {
        int n = in.read(buffer, 0, buffer.length);
        if (n < 0) {
            throw new EOFException("the receiver closed the connection");
        }
        start = 0;
        end = n;
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing a dead connection
            }
            socket = null;
        }
    }
}
