package org.buildhook.distribution;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;

/**
 * A TCP proxy in front of a test's server that keeps one connection to it, opened at its first client connection,
 * for all its clients, as a reverse proxy that keeps its connections to a server open does: each client connection's
 * bytes go over that one connection, and the server's go to the client connection that sent last. For a test whose
 * request must come on a connection the server accepted long before (the last moment of a graceful stop, when new
 * connections are refused), whatever the client does with its own idle connections: the test JVM's HttpClient closes
 * one idle for 5 s ({@code jdk.httpclient.keepalive.timeout} in the surefire argLine), which a loaded machine passes
 * between two requests (flaky40 F1), and then opens a new one, here to the proxy, which takes it. One request at a
 * time: the client waits for its answer before it sends the next. When the server closes its connection (after an
 * answer with {@code Connection: close}), the proxy closes its clients' and its port, as the server's closed port.
 */
final class KeptConnectionProxy implements AutoCloseable {

    private final IntSupplier serverPort;
    private final ServerSocket listener;
    /** The one connection to the server, once a client came. */
    private volatile Socket server;
    private final List<Socket> clients = new CopyOnWriteArrayList<>();
    private final Object sending = new Object();
    /** The client connection whose bytes went to the server last: the server's answer goes to it. */
    private volatile Socket current;

    /**
     * Listens on 127.0.0.1, any free port; at the first client connection, connects to 127.0.0.1 at {@code serverPort}
     * (read then: the server may be started after the proxy is made).
     */
    KeptConnectionProxy(IntSupplier serverPort) throws IOException {
        this.serverPort = serverPort;
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon("kept-connection-proxy-accept", this::accept);
    }

    /** The proxy's base URL, the path of {@code server}'s. */
    URI url(URI server) {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort() + server.getPath());
    }

    @Override
    public void close() {
        quietly(listener);
        Socket connection = server;
        if (connection != null) {
            quietly(connection);
        }
        clients.forEach(KeptConnectionProxy::quietly);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                clients.add(client);
                if (server == null) {
                    server = new Socket(InetAddress.getLoopbackAddress(), serverPort.getAsInt());
                    daemon("kept-connection-proxy-down", this::copyDown);
                }
                daemon("kept-connection-proxy-up", () -> copyUp(client));
            } catch (IOException e) {
                close(); // closed, or the server refused the connection: as its closed port
                return;
            }
        }
    }

    /** A client's bytes to the server; its end (an idle connection it closed) ends only this client connection. */
    private void copyUp(Socket client) {
        try (InputStream in = client.getInputStream()) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (sending) {
                    current = client;
                    OutputStream out = server.getOutputStream();
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the client or the server went away
        }
        quietly(client);
        clients.remove(client);
    }

    private void copyDown() {
        try (InputStream in = server.getInputStream()) {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                Socket client = current;
                try {
                    if (client != null) {
                        OutputStream out = client.getOutputStream();
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // the client went away: as a server answering a client that left
                }
            }
        } catch (IOException e) {
            // the server went away
        }
        close();
    }

    private static void daemon(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    private static void quietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // closed
        }
    }
}
