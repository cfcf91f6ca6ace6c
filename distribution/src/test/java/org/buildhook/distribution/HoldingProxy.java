package org.buildhook.distribution;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of a test's server that can hold what the server sends: while {@link #hold()} is in force,
 * the server's bytes of every connection are kept here instead of reaching the client, so a test sees a whole answer
 * arrive ({@link #held()}) and then decides when the client gets it ({@link #release()}), after stopping the server
 * and {@link #refuse() refusing} new connections, as a stopped server's closed port does. The client's bytes always
 * pass at once. For orderings a test must not leave to the machine's speed (a follow that ended just before the
 * server's port closed, and the command's next request).
 */
final class HoldingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final int target;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private volatile boolean holding;
    /** Set by {@link #refuse()}: a connection accepted from then on is reset, as a closed port's. */
    private volatile boolean refusing;
    private final Thread accepting;
    /** Set by {@link #stall()}: the server's bytes are not read (they wait in the connections' buffers). */
    private boolean stalled;
    /** The receive buffer of each connection to the server (bytes), or 0 for the system's. */
    private final int receiveBuffer;

    /** Listens on 127.0.0.1, any free port, and forwards each connection to {@code target}'s host and port. */
    HoldingProxy(URI target) throws IOException {
        this(target, 0);
    }

    /**
     * As {@link #HoldingProxy(URI)}, each connection to the server with a receive buffer of {@code receiveBuffer}
     * bytes: what a {@link #stall()} lets the server send before its writes wait is then its own send buffer and that,
     * not the system's largest (32 MiB on CI).
     */
    HoldingProxy(URI target, int receiveBuffer) throws IOException {
        this.target = target.getPort();
        this.receiveBuffer = receiveBuffer;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        accepting = new Thread(this::accept, "holding-proxy-accept");
        accepting.setDaemon(true);
        accepting.start();
    }

    /** The proxy's base URL, the path of {@code server}'s. */
    URI url(URI server) {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort() + server.getPath());
    }

    /** From now on the server's bytes are held here. */
    void hold() {
        holding = true;
    }

    /**
     * From now on the server's bytes are not even read, as by a client on a slow link: once the connections' buffers
     * are full, the server's writes wait (its write "under way"), until {@link #resume()}.
     */
    void stall() {
        synchronized (links) {
            stalled = true;
        }
    }

    /** The server's bytes are read again (and held or passed on as before the {@link #stall()}). */
    void resume() {
        synchronized (links) {
            stalled = false;
            links.notifyAll();
        }
    }

    /** Returns once no {@link #stall()} is in force. */
    private void awaitUnstalled() throws java.io.InterruptedIOException {
        synchronized (links) {
            while (stalled) {
                try {
                    links.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("stalled");
                }
            }
        }
    }

    /** What the server sent while held, of every connection, as text. */
    String held() {
        StringBuilder text = new StringBuilder();
        for (Link link : links) {
            synchronized (link) {
                text.append(link.held.toString(StandardCharsets.UTF_8));
            }
        }
        return text.toString();
    }

    /**
     * New connections are refused from now on: the listening socket is closed, and once this returns no connection is
     * taken any more. A connection that came in as it closed (the accepting thread woken by it takes one that arrived
     * meanwhile, which happens on a loaded machine) is reset, as the closed port would have refused it; it was left
     * open before, linked to nothing, and a command's request on it waited for an answer that never came (a note's ask
     * of {@code logs -f} on a terminal, which has no bound: FollowDuringGracefulStopTest's forged-line case did not end
     * within its 3 minutes, session 47 and 48).
     */
    void refuse() throws IOException, InterruptedException {
        refusing = true;
        listener.close();
        accepting.join(); // the accepting thread's end: no connection is taken after this
    }

    /**
     * The held bytes go to their clients, and those that come on go at once; a connection the server closed
     * meanwhile is closed after them.
     */
    void release() throws IOException {
        holding = false;
        for (Link link : links) {
            link.release();
        }
    }

    @Override
    public void close() throws IOException {
        resume();
        listener.close();
        for (Link link : links) {
            link.closeBoth();
        }
    }

    private void accept() {
        while (true) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // refused or closed
            }
            if (refusing) {
                reset(client);
                continue; // the next accept fails: the socket is closed
            }
            Socket server = new Socket();
            try {
                if (receiveBuffer > 0) {
                    server.setReceiveBufferSize(receiveBuffer); // before the connection: its window is agreed then
                }
                server.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), target));
            } catch (IOException e) {
                try {
                    server.close();
                } catch (IOException closing) {
                    // not connected
                }
                reset(client); // the server's port is closed: so is this one for that connection
                continue;
            }
            Link link = new Link(client, server);
            links.add(link);
            link.start();
        }
    }

    /** Closes {@code socket} with a reset, as a connection to a closed port ends. */
    private static void reset(Socket socket) {
        try {
            socket.setSoLinger(true, 0);
        } catch (IOException e) {
            // closed already
        }
        try {
            socket.close();
        } catch (IOException e) {
            // closed already
        }
    }

    /** One client connection and its connection to the server. */
    private final class Link {
        private final Socket client;
        private final Socket server;
        private final ByteArrayOutputStream held = new ByteArrayOutputStream();
        private final ByteArrayOutputStream unsent = new ByteArrayOutputStream();
        private boolean serverClosed;

        Link(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void start() {
            Thread up = new Thread(() -> copyUp(), "holding-proxy-up");
            Thread down = new Thread(() -> copyDown(), "holding-proxy-down");
            up.setDaemon(true);
            down.setDaemon(true);
            up.start();
            down.start();
        }

        private void copyUp() {
            try (InputStream in = client.getInputStream()) {
                OutputStream out = server.getOutputStream();
                byte[] buffer = new byte[8192];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
                server.shutdownOutput();
            } catch (IOException e) {
                // one side went away
            }
        }

        private void copyDown() {
            try (InputStream in = server.getInputStream()) {
                byte[] buffer = new byte[8192];
                int n;
                while (true) {
                    awaitUnstalled();
                    if ((n = in.read(buffer)) < 0) {
                        break;
                    }
                    synchronized (this) {
                        if (holding) {
                            held.write(buffer, 0, n);
                            unsent.write(buffer, 0, n);
                        } else {
                            client.getOutputStream().write(buffer, 0, n);
                            client.getOutputStream().flush();
                        }
                    }
                }
            } catch (IOException e) {
                // the server went away: as an end
            }
            synchronized (this) {
                serverClosed = true;
                if (!holding) {
                    closeBoth();
                }
            }
        }

        synchronized void release() throws IOException {
            if (unsent.size() > 0) {
                try {
                    client.getOutputStream().write(unsent.toByteArray());
                    client.getOutputStream().flush();
                } catch (IOException e) {
                    // the client went away
                }
                unsent.reset();
            }
            if (serverClosed) {
                closeBoth();
            }
        }

        void closeBoth() {
            try {
                client.close();
            } catch (IOException e) {
                // closed
            }
            try {
                server.close();
            } catch (IOException e) {
                // closed
            }
        }
    }
}
