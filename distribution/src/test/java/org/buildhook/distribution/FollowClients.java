package org.buildhook.distribution;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A client process for {@link FollowServerSideTest}: opens {@code count} follows of a job's log
 * ({@code GET /api/jobs/{id}/log?follow=1}), prints {@code following N} once the server answered
 * every one, then reads them to their ends and prints {@code every follow ended}; or is killed (its
 * connections closed by the kernel, as a Ctrl-C'd client's).
 * Arguments: base URL, job id, admin token, count.
 */
public final class FollowClients {

    public static void main(String[] args) throws Exception {
        URI base = URI.create(args[0]);
        String path = base.resolve("api/jobs/" + args[1] + "/log?follow=1").getRawPath() + "?follow=1";
        int count = Integer.parseInt(args[3]);
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Socket socket = new Socket(base.getHost(), base.getPort());
            sockets.add(socket);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + base.getHost() + "\r\nAuthorization: Bearer " + args[2]
                    + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        for (Socket socket : sockets) {
            InputStream in = socket.getInputStream();
            byte[] status = in.readNBytes("HTTP/1.1 200".length());
            String line = new String(status, StandardCharsets.ISO_8859_1);
            if (!line.equals("HTTP/1.1 200")) {
                System.out.println("unexpected answer: " + line);
                System.exit(2);
            }
        }
        System.out.println("following " + count);
        System.out.flush();
        List<Thread> readers = new ArrayList<>();
        for (Socket socket : sockets) {
            Thread reader = new Thread(() -> {
                try {
                    socket.getInputStream().transferTo(OutputStream.nullOutputStream());
                } catch (java.io.IOException e) {
                    // ended as well
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (Thread reader : readers) {
            reader.join();
        }
        System.out.println("every follow ended");
    }

    private FollowClients() {
    }
}
