package org.buildhook.distribution.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP forwarder put between buildhook and PostgreSQL: {@link #cut()} "stops the
 * store" for buildhook only (its listening socket and every forwarded connection are closed),
 * {@link #open()} starts it again on the same port; {@link #freeze()} makes it a database that no
 * longer answers (a network partition, a hung server): connections stay open and are still accepted,
 * but nothing is forwarded either way, and no socket is closed. The shared PostgreSQL server is never
 * touched.
 */
public final class TcpProxy implements AutoCloseable {

    private final String targetHost;
    private final int targetPort;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    /** The connections made to the target, each forwarding one accepted connection. */
    private final Set<Socket> upstreams = ConcurrentHashMap.newKeySet();
    private volatile ServerSocket server;
    private volatile boolean frozen;
    private volatile boolean swallowing;
    private volatile java.util.function.IntConsumer onAccept = n -> { };
    private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger swallowed = new java.util.concurrent.atomic.AtomicInteger();
    /** The connections on which PostgreSQL's first ReadyForQuery was passed on: their logins made. */
    private final java.util.concurrent.atomic.AtomicInteger loginsMade = new java.util.concurrent.atomic.AtomicInteger();
    private int port;

    public TcpProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
    }

    /**
     * Listens on 127.0.0.1: on a free port the first time, then on the same port again. The first port is taken
     * below the kernel's ephemeral range where it can be known ({@code /proc/sys/net/ipv4/ip_local_port_range}): a
     * port of that range, once closed by {@link #cut()}, could be given meanwhile to any outgoing connection of the
     * machine as its local port, and the reopen then failed with "Address already in use" (ci-ad, on a machine busy
     * with other tests). A reopen that still finds the port taken tries again for up to a minute.
     */
    public synchronized int open() throws IOException {
        ServerSocket socket = port == 0 ? bindFirst() : bindAgain(port);
        port = socket.getLocalPort();
        server = socket;
        Thread acceptor = new Thread(() -> accept(socket), "tcp-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return port;
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket socket = new ServerSocket();
        try {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** A free port below the ephemeral range (tried at random), or any free port where that range is not known. */
    private static ServerSocket bindFirst() throws IOException {
        int low;
        try {
            low = Integer.parseInt(java.nio.file.Files.readString(
                    java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return bind(0);
        }
        java.util.Random random = new java.util.Random();
        for (int i = 0; i < 200 && low > 11_000; i++) {
            try {
                return bind(10_000 + random.nextInt(low - 10_000));
            } catch (java.net.BindException taken) {
                // another listener has it: try another
            }
        }
        return bind(0);
    }

    private static ServerSocket bindAgain(int port) throws IOException {
        long until = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
        while (true) {
            try {
                return bind(port);
            } catch (java.net.BindException taken) {
                if (System.nanoTime() > until) {
                    throw taken;
                }
                try {
                    Thread.sleep(100); // polling a port held by another socket of the machine: no event to wait for
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw taken;
                }
            }
        }
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                sockets.add(client);
                onAccept.accept(accepted.incrementAndGet());
                if (swallowing) {
                    swallowed.incrementAndGet();
                    continue; // held open, never forwarded, never closed: see swallowNewConnections()
                }
                awaitThaw();
                Socket upstream = new Socket(targetHost, targetPort);
                sockets.add(upstream);
                upstreams.add(upstream);
                pump(client, upstream, false);
                pump(upstream, client, true);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /** PostgreSQL's ReadyForQuery as it begins: its type and its length (5), which end every login made. */
    private static final byte[] READY_FOR_QUERY = {'Z', 0, 0, 0, 5};

    /** @param fromServer whether {@code from} is PostgreSQL's side: its first ReadyForQuery counts a login made */
    private void pump(Socket from, Socket to, boolean fromServer) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            int matched = fromServer ? 0 : -1; // of READY_FOR_QUERY so far, across reads; -1: not looked for
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    for (int i = 0; i < n && matched >= 0; i++) {
                        matched = buffer[i] == READY_FOR_QUERY[matched] ? matched + 1 : buffer[i] == 'Z' ? 1 : 0;
                        if (matched == READY_FOR_QUERY.length) {
                            loginsMade.incrementAndGet(); // before the client can see it: its login is made now
                            matched = -1;
                        }
                    }
                    awaitThaw();
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed: close both below
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "tcp-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        cut();
    }

    /**
     * From now on nothing is forwarded and no connection is made upstream, until {@link #thaw()}:
     * what either side sends is held, and new connections are accepted and left waiting.
     */
    public synchronized void freeze() {
        frozen = true;
    }

    /**
     * As {@link #freeze()}, and a connection accepted from now on is never forwarded, even after {@link #thaw()}:
     * it stays open and unanswered (a database that hung while a login was under way and came back without it, a
     * failover, a middlebox that lost the connection's state), until {@link #cut()}.
     */
    public synchronized void swallowNewConnections() {
        frozen = true;
        swallowing = true;
    }

    /**
     * A connection accepted from now on is held open and never forwarded, even after {@link #thaw()}, as with
     * {@link #swallowNewConnections()}, while the connections already forwarded go on working: a database that
     * answers the sessions it has and no new login, until {@link #thaw()}.
     */
    public synchronized void swallowOnlyNewConnections() {
        swallowing = true;
    }

    /**
     * The local ports of the connections to the target still open: on PostgreSQL, the {@code client_port} in
     * {@code pg_stat_activity} of the sessions made through this proxy (and of no other).
     */
    public Set<Integer> upstreamPorts() {
        upstreams.removeIf(Socket::isClosed);
        return upstreams.stream().map(Socket::getLocalPort).collect(java.util.stream.Collectors.toSet());
    }

    /**
     * Runs {@code hook} on the proxy's accepting thread with each connection accepted from now on, with its number
     * (the first accepted since {@link #TcpProxy} is 1), before it is forwarded or held: e.g. to starve the client of
     * CPU from its first login on.
     */
    public void onAccept(java.util.function.IntConsumer hook) {
        onAccept = hook;
    }

    /**
     * On how many connections a login was made so far: PostgreSQL's first ReadyForQuery was passed on to the client
     * (counted before the client gets it, so before anything that follows the login on the client's side).
     */
    public int loginsMade() {
        return loginsMade.get();
    }

    /** How many connections {@link #swallowNewConnections()} has swallowed so far. */
    public int swallowed() {
        return swallowed.get();
    }

    /** Forwards again what was held, and from now on; connections swallowed stay unanswered. */
    public synchronized void thaw() {
        swallowing = false;
        frozen = false;
        notifyAll();
    }

    private synchronized void awaitThaw() throws IOException {
        while (frozen) {
            if (server == null || server.isClosed()) {
                throw new IOException("closed while frozen");
            }
            try {
                wait(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while frozen", e);
            }
        }
    }

    /** Stops listening and cuts every forwarded connection. */
    public synchronized void cut() {
        frozen = false;
        notifyAll();
        ServerSocket socket = server;
        if (socket != null) {
            closeQuietly(socket);
        }
        sockets.forEach(TcpProxy::closeQuietly);
        sockets.clear();
        upstreams.clear();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // already closed
        }
    }
}
