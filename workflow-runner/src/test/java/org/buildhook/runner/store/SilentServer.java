package org.buildhook.runner.store;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP server that is not PostgreSQL: it accepts every connection, reads what it is sent and
 * never answers, as a web server does with PostgreSQL's first message (it waits for a request line that
 * never comes). Counts the connections it accepted, so a test can tell how many attempts a client made.
 */
final class SilentServer implements AutoCloseable {

    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    SilentServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "silent-server-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The port it listens on (loopback). */
    int port() {
        return server.getLocalPort();
    }

    /** How many connections it accepted so far. */
    int accepted() {
        return accepted.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                accepted.incrementAndGet();
                Thread reader = new Thread(() -> drain(socket), "silent-server-read");
                reader.setDaemon(true);
                reader.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void drain(Socket socket) {
        try (InputStream in = socket.getInputStream()) {
            byte[] buffer = new byte[1024];
            while (in.read(buffer) >= 0) {
                // read and drop: never answer
            }
        } catch (IOException e) {
            // closed by either side
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
