package org.buildhook.runner.store;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import javax.net.SocketFactory;

/**
 * Counts the round trips a thread makes to PostgreSQL: pgjdbc is given this socket factory (the
 * URL's {@code socketFactory} parameter, with {@code sslmode=disable} so that the protocol can be
 * read), and a round trip is counted, for the thread that reads, whenever a connection's socket is
 * read after something was written on it: the client sent its messages and now waits for the
 * server's answer (the driver pipelines what it need not wait for, such as a transaction's
 * {@code BEGIN}). The messages written are read as the frontend protocol, so that each round trip
 * is described by the statements it sent. A connection check (an empty query, what {@code Connection.isValid} sends when the pool hands
 * out a connection idle for a while) is not counted: it depends on timing, not on the code under
 * test.
 */
public final class RoundTrips extends SocketFactory {

    private static final ThreadLocal<List<String>> COUNTING = new ThreadLocal<>();

    /** The URL parameters that make pgjdbc's sockets counted. */
    static String urlParameters() {
        return "socketFactory=" + RoundTrips.class.getName() + "&sslmode=disable&gssEncMode=disable";
    }

    /** {@code url} with {@link #urlParameters()}. */
    static String counted(String url) {
        return url + (url.contains("?") ? "&" : "?") + urlParameters();
    }

    /** Runs {@code work} on this thread and returns how many round trips it made. */
    static Counted<Void> of(Runnable work) {
        return of(() -> {
            work.run();
            return null;
        });
    }

    /**
     * What {@link #of(Supplier)} saw: the work's result and its round trips, each described by the
     * statements it sent (a prepared one by its name).
     */
    record Counted<T>(T result, List<String> trips) {
        int count() {
            return trips.size();
        }
    }

    /** Runs {@code work} on this thread, returning its result and how many round trips it made. */
    static <T> Counted<T> of(Supplier<T> work) {
        List<String> trips = new ArrayList<>();
        COUNTING.set(trips);
        try {
            T result = work.get();
            return new Counted<>(result, trips);
        } finally {
            COUNTING.remove();
        }
    }

    @Override
    public Socket createSocket() {
        return new CountedSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(null, new java.net.InetSocketAddress(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(new java.net.InetSocketAddress(localHost, localPort), new java.net.InetSocketAddress(host, port));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(null, new java.net.InetSocketAddress(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected(new java.net.InetSocketAddress(localAddress, localPort),
                new java.net.InetSocketAddress(address, port));
    }

    /** A counted socket bound to {@code local} (unless null) and connected to {@code remote}. */
    private Socket connected(java.net.InetSocketAddress local, java.net.InetSocketAddress remote) throws IOException {
        Socket s = createSocket();
        if (local != null) {
            s.bind(local);
        }
        s.connect(remote);
        return s;
    }

    private static final class CountedSocket extends Socket {
        private Messages out;
        private InputStream in;

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (out == null) {
                out = new Messages(super.getOutputStream());
            }
            return out;
        }

        /** The first read after something was written ends a round trip: the client now waits. */
        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                Messages sent = (Messages) getOutputStream();
                in = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        sent.waiting();
                        return super.read();
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        sent.waiting();
                        return super.read(b, off, len);
                    }
                };
            }
            return in;
        }
    }

    /** Reads the frontend messages as they are written. */
    private static final class Messages extends FilterOutputStream {
        /** The startup message has no type byte. */
        private boolean started;
        private int type = -1;
        private final byte[] length = new byte[4];
        private int lengthRead;
        private long bodyLeft = -1;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        /** Whether anything was written since the last read. */
        private boolean sent;
        /** Whether everything sent since the last read is a connection check (an empty query). */
        private boolean check = true;
        /** The statements sent since the last read. */
        private final StringBuilder batch = new StringBuilder();

        Messages(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            read((byte) b);
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                read(b[i]);
            }
            out.write(b, off, len);
        }

        synchronized void waiting() {
            if (sent && !check) {
                List<String> trips = COUNTING.get();
                if (trips != null) {
                    trips.add(batch.toString());
                }
            }
            sent = false;
            check = true;
            batch.setLength(0);
        }

        private synchronized void read(byte b) {
            sent = true;
            if (bodyLeft < 0) {
                if (started && type < 0) {
                    type = b & 0xff;
                    return;
                }
                length[lengthRead++] = b;
                if (lengthRead == 4) {
                    bodyLeft = (((length[0] & 0xffL) << 24) | ((length[1] & 0xff) << 16) | ((length[2] & 0xff) << 8)
                            | (length[3] & 0xff)) - 4;
                    lengthRead = 0;
                    body.reset();
                    if (bodyLeft == 0) {
                        ended();
                    }
                }
                return;
            }
            if (type == 'P' || type == 'Q' || type == 'B') {
                body.write(b);
            }
            if (--bodyLeft == 0) {
                ended();
            }
        }

        private void ended() {
            if (!started) {
                // The startup message; what follows has type bytes.
                started = true;
                check = false;
            } else if (type == 'P' || type == 'Q') {
                String query = cstring(body.toByteArray(), type == 'P' ? 1 : 0);
                check &= query.isBlank();
                if (!query.isBlank()) {
                    batch.append(batch.length() == 0 ? "" : "; ").append(query);
                }
            } else if (type == 'B') {
                String statement = cstring(body.toByteArray(), 1);
                if (!statement.isEmpty()) {
                    check = false;
                    batch.append(batch.length() == 0 ? "" : "; ").append("prepared ").append(statement);
                }
            } else if (type != 'S' && type != 'E' && type != 'D' && type != 'C' && type != 'H') {
                // Anything but the parts of a query (authentication, say) is not a connection check.
                check = false;
            }
            type = -1;
            bodyLeft = -1;
        }

        /**
         * The {@code index}th NUL-terminated string of a message: a Parse message is its statement's
         * name then its query, a Bind message its portal's name then its statement's, a Query
         * message its query alone.
         */
        private static String cstring(byte[] message, int index) {
            int at = 0;
            for (int i = 0; i < index; i++) {
                while (at < message.length && message[at] != 0) {
                    at++;
                }
                at++;
            }
            int end = Math.min(at, message.length);
            while (end < message.length && message[end] != 0) {
                end++;
            }
            return new String(message, Math.min(at, message.length), end - Math.min(at, message.length),
                    StandardCharsets.UTF_8);
        }
    }
}
