package org.buildhook.runner.store;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loopback TCP forwarder in front of the test's PostgreSQL that can play a database server refusing
 * new connections the way PostgreSQL does when it cannot start a session ({@link #refuseNewConnections}:
 * the connection is accepted, then the startup is answered with a {@code FATAL} error of the given
 * SQLSTATE, as a server whose disk is full answers {@code 53100}), while the connections made before
 * keep working; that stops answering with its connections open ({@link #freeze()}: a network partition, a
 * hung server); or that refuses them at the TCP level ({@link #close()}). The shared server is never touched.
 */
public final class PgFront implements AutoCloseable {

    private final String host;
    private final int port;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    /** The local ports of the connections forwarded to the database so far ({@link #upstreamPorts}). */
    private final Set<Integer> upstreamPorts = ConcurrentHashMap.newKeySet();
    private volatile String[] refusal;
    private volatile boolean frozen;
    private volatile boolean silentAfterNegotiation;
    private volatile boolean holding;
    private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
    private volatile byte[] freezeAt;
    /** How many of the next new connections {@link #refuseNextConnections} refuses before it forwards again. */
    private final java.util.concurrent.atomic.AtomicInteger refusalsLeft = new java.util.concurrent.atomic.AtomicInteger();
    private volatile String[] nextRefusal;
    private final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
    /** The connections accepted while frozen (never answered). */
    private final java.util.concurrent.atomic.AtomicInteger swallowed = new java.util.concurrent.atomic.AtomicInteger();
    /** How many new connections {@link #refuseNewConnectionsAfter} still forwards before it refuses every one. */
    private final java.util.concurrent.atomic.AtomicInteger forwardsLeft = new java.util.concurrent.atomic.AtomicInteger();
    private volatile String[] laterRefusal;
    /** How many of the next new connections {@link #swallowNextConnections} takes and never answers. */
    private final java.util.concurrent.atomic.AtomicInteger swallowsLeft = new java.util.concurrent.atomic.AtomicInteger();

    private PgFront(String host, int port) throws IOException {
        this.host = host;
        this.port = port;
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::accept, "pg-front-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A front for the PostgreSQL of {@code url} ({@code jdbc:postgresql://host:port/db?…}). */
    public static PgFront to(String url) throws IOException {
        URI target = URI.create(url.substring("jdbc:".length()));
        return new PgFront(target.getHost(), target.getPort() < 0 ? 5432 : target.getPort());
    }

    /** {@code url} with this front in place of its host and port. */
    public String url(String url) {
        URI target = URI.create(url.substring("jdbc:".length()));
        return "jdbc:postgresql://127.0.0.1:" + server.getLocalPort() + target.getRawPath()
                + (target.getRawQuery() == null ? "" : "?" + target.getRawQuery());
    }

    /** From now on every new connection's startup is answered {@code FATAL} with {@code sqlState}. */
    public void refuseNewConnections(String sqlState, String message) {
        refusal = new String[] {sqlState, message};
    }

    /** From now on new connections are forwarded again ({@link #refuseNewConnections} undone). */
    public void forwardNewConnections() {
        refusal = null;
    }

    /**
     * The next {@code count} new connections are answered as {@link #refuseNewConnections} does; those after
     * them are forwarded again: a database, or a pooler such as PgBouncer, that cannot serve a login for a
     * moment.
     */
    void refuseNextConnections(int count, String sqlState, String message) {
        nextRefusal = new String[] {sqlState, message};
        refusalsLeft.set(count);
    }

    /**
     * The next {@code forwarded} new connections are forwarded; every one after them is answered as {@link
     * #refuseNewConnections} does: a server that let one login in (the start's first) and then refuses the pools'
     * (out of connections, {@code 53300}).
     */
    void refuseNewConnectionsAfter(int forwarded, String sqlState, String message) {
        forwardsLeft.set(forwarded);
        laterRefusal = new String[] {sqlState, message};
    }

    /** How many connections were answered with a refusal so far. */
    /**
     * The local ports of the connections this front made to the database (each is a session's {@code client_port} in
     * {@code pg_stat_activity}): a test tells its own sessions from those of other tests on the shared server.
     */
    public Set<Integer> upstreamPorts() {
        return Set.copyOf(upstreamPorts);
    }

    public int refused() {
        return refused.get();
    }

    /** How many connections were accepted while frozen ({@link #freeze()}): never answered, even after a thaw. */
    public int swallowed() {
        return swallowed.get();
    }

    /** From now on nothing is forwarded either way, and no socket is closed: the database no longer answers. */
    void freeze() {
        frozen = true;
    }

    /**
     * From the first bytes a client sends that hold {@code text} (a statement's SQL, as the driver sends it the first
     * times a connection runs it) on, nothing is forwarded either way, and no socket is closed: the database stops
     * answering in the middle of that statement, after the pool handed its connection out (its check passed).
     */
    void freezeAt(String text) {
        freezeAt = text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * As {@link #freeze()}, and each connection accepted from now on has its SSL and GSS encryption requests answered
     * {@code N} by the front itself, then its startup message never answered, even after {@link #thaw()}: a pooler in
     * front of PostgreSQL (PgBouncer answers those requests itself) that queues each login for a server that stopped
     * answering, or a middlebox that lost the flow mid-login. The client's login waits in its authentication.
     */
    void freezeAfterNegotiation() {
        silentAfterNegotiation = true;
        frozen = true;
    }

    /**
     * Each connection accepted from now on is held, unanswered, until {@link #thaw()}, then forwarded: a queue at the
     * TCP level (a pooler's, a far network) that makes each login wait before its first answer.
     */
    void holdNewConnections() {
        holding = true;
    }

    /**
     * The next {@code count} new connections are taken and never answered, their sockets left open until {@link
     * #close()}; those after them are forwarded: a connection that stopped answering as soon as it was made (a middlebox
     * that lost its flow, a server failed over behind its address) while new ones are served.
     */
    void swallowNextConnections(int count) {
        swallowsLeft.set(count);
    }

    /** How many connections were accepted so far. */
    int accepted() {
        return accepted.get();
    }

    /**
     * The first statement a client sends that holds {@code text} (its SQL, as the driver sends it the first times a
     * connection runs it) is forwarded whole; the database's answer to it is not, and that connection is closed both
     * ways as it comes: the database did the statement (committed it, in autocommit), its client saw the connection
     * break before the answer, as at a crash or a network cut just after the commit (tryout50 F8).
     */
    public void cutAnswerAt(String text) {
        cutAnswerAt(text, () -> { });
    }

    /**
     * As {@link #cutAnswerAt(String)}, running {@code meanwhile} once the database's answer came and before the
     * connection is closed: what happens while the client waits for an answer that never comes (another session's
     * cancel of the job the statement started), done before the client can see its connection broken.
     */
    public void cutAnswerAt(String text, Runnable meanwhile) {
        whileCut = meanwhile;
        cutAnswerAt = text.getBytes(StandardCharsets.UTF_8);
    }

    /** How many answers {@link #cutAnswerAt} dropped so far. */
    public int cutAnswers() {
        return cutAnswers.get();
    }

    private volatile byte[] cutAnswerAt;
    private volatile Runnable whileCut = () -> { };
    private final java.util.concurrent.atomic.AtomicInteger cutAnswers = new java.util.concurrent.atomic.AtomicInteger();

    /** Forwards again what {@link #freeze()} or {@link #freezeAt} held, and from now on. */
    void thaw() {
        freezeAt = null;
        synchronized (this) {
            holding = false;
            notifyAll();
        }
        silentAfterNegotiation = false;
        frozen = false;
    }

    /**
     * Cuts the connections forwarded so far, and keeps listening: the sessions a database server ends when it
     * restarts (as one that ran out of disk space does), while its new sessions are answered as set.
     */
    public void cutForwarded() {
        sockets.forEach(PgFront::closeQuietly);
        sockets.clear();
    }

    /** Refuses new connections at the TCP level (nothing listens any more) and cuts those forwarded. */
    @Override
    public void close() {
        closeQuietly(server);
        sockets.forEach(PgFront::closeQuietly);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                accepted.incrementAndGet();
                if (holding) {
                    Thread t = new Thread(() -> holdThenForward(client), "pg-front-hold");
                    t.setDaemon(true);
                    t.start();
                    continue;
                }
                if (silentAfterNegotiation) {
                    swallowed.incrementAndGet();
                    Thread t = new Thread(() -> negotiateThenHang(client), "pg-front-negotiate");
                    t.setDaemon(true);
                    t.start();
                    continue;
                }
                if (frozen || swallowsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    swallowed.incrementAndGet();
                    continue; // accepted, then never answered
                }
                String[] refused = refusal != null ? refusal
                        : refusalsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? nextRefusal
                        : laterRefusal != null && forwardsLeft.getAndUpdate(n -> Math.max(0, n - 1)) == 0
                                ? laterRefusal : null;
                if (refused != null) {
                    this.refused.incrementAndGet();
                    Thread t = new Thread(() -> refuse(client, refused[0], refused[1]), "pg-front-refuse");
                    t.setDaemon(true);
                    t.start();
                    continue;
                }
                Socket upstream = new Socket(host, port);
                sockets.add(upstream);
                upstreamPorts.add(upstream.getLocalPort());
                java.util.concurrent.atomic.AtomicBoolean cutAnswer = new java.util.concurrent.atomic.AtomicBoolean();
                pump(client, upstream, true, cutAnswer);
                pump(upstream, client, false, cutAnswer);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    /**
     * Answers the client's SSL or GSS encryption requests with 'N', then its startup message with an
     * ErrorResponse (severity FATAL, {@code sqlState}, {@code message}), and closes: what PostgreSQL's
     * backend does when it fails before the session starts.
     */
    private void refuse(Socket client, String sqlState, String message) {
        try (client) {
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            while (true) {
                int length = in.readInt();
                int code = in.readInt();
                in.readNBytes(length - 8);
                if (code == 80877103 || code == 80877104) { // SSLRequest, GSSENCRequest
                    out.write('N');
                    out.flush();
                    continue;
                }
                break; // the startup message
            }
            ByteArrayOutputStream fields = new ByteArrayOutputStream();
            field(fields, 'S', "FATAL");
            field(fields, 'V', "FATAL");
            field(fields, 'C', sqlState);
            field(fields, 'M', message);
            fields.write(0);
            byte[] body = fields.toByteArray();
            out.write('E');
            int length = body.length + 4;
            out.write(new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length});
            out.write(body);
            out.flush();
        } catch (IOException e) {
            // the client went away
        }
    }

    private void holdThenForward(Socket client) {
        try {
            synchronized (this) {
                while (holding && !server.isClosed()) {
                    wait(100);
                }
            }
            Socket upstream = new Socket(host, port);
            sockets.add(upstream);
            upstreamPorts.add(upstream.getLocalPort());
            java.util.concurrent.atomic.AtomicBoolean cutAnswer = new java.util.concurrent.atomic.AtomicBoolean();
            pump(client, upstream, true, cutAnswer);
            pump(upstream, client, false, cutAnswer);
        } catch (IOException e) {
            closeQuietly(client);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Answers the client's SSL or GSS encryption requests with 'N', reads its startup message, and answers no more. */
    private void negotiateThenHang(Socket client) {
        try {
            DataInputStream in = new DataInputStream(client.getInputStream());
            OutputStream out = client.getOutputStream();
            while (true) {
                int length = in.readInt();
                int code = in.readInt();
                in.readNBytes(length - 8);
                if (code != 80877103 && code != 80877104) { // SSLRequest, GSSENCRequest
                    return; // the startup message: never answered, the socket left open until close()
                }
                out.write('N');
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    private static void field(ByteArrayOutputStream out, char type, String value) {
        out.write(type);
        out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }

    private void pump(Socket from, Socket to, boolean fromClient, java.util.concurrent.atomic.AtomicBoolean cutAnswer) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    byte[] at = freezeAt;
                    if (fromClient && at != null && contains(buffer, n, at)) {
                        frozen = true;
                    }
                    byte[] cut = cutAnswerAt;
                    if (fromClient && cut != null && contains(buffer, n, cut)) {
                        cutAnswerAt = null; // that one statement only
                        cutAnswer.set(true); // before it is forwarded: its answer comes after
                    }
                    if (!fromClient && cutAnswer.get()) {
                        cutAnswers.incrementAndGet();
                        whileCut.run();
                        break; // the answer is dropped, both sockets closed below
                    }
                    while (frozen && !server.isClosed()) {
                        Thread.sleep(20); // held, as by a partition: not a synchronisation of the test's
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed: close both below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "pg-front-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private static boolean contains(byte[] buffer, int length, byte[] text) {
        outer:
        for (int i = 0; i + text.length <= length; i++) {
            for (int j = 0; j < text.length; j++) {
                if (buffer[i + j] != text[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // already closed
        }
    }
}
