package org.buildhook.distribution;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening TCP socket a service manager handed this process as its standard input (systemd's
 * {@code StandardInput=socket} of the shipped {@code buildhook.socket}, inetd, {@code systemd-socket-activate
 * --inetd}). systemd keeps that socket open while the service restarts, so a delivery sent then waits in
 * the kernel's backlog for the next process instead of being refused. An ordinary start (a terminal, a
 * pipe, /dev/null on standard input) has none and listens on {@code server.host}/{@code server.port}.
 */
final class InheritedSocket {

    private static final Logger LOG = LoggerFactory.getLogger(InheritedSocket.class);

    private InheritedSocket() {
    }

    /** The listening TCP socket on standard input, or empty when standard input is anything else. */
    static Optional<InetSocketAddress> listening() {
        Channel channel;
        try {
            channel = System.inheritedChannel();
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
        if (!(channel instanceof ServerSocketChannel listener)) {
            return Optional.empty();
        }
        SocketAddress address;
        try {
            address = listener.getLocalAddress();
        } catch (IOException e) {
            return Optional.empty();
        }
        if (address instanceof InetSocketAddress inet) {
            return Optional.of(inet);
        }
        // A UNIX socket: Jetty's connector takes TCP only.
        LOG.warn("standard input is a listening socket on {}, not a TCP one: not used; listening on server.host"
                + " and server.port instead (give buildhook.socket a ListenStream= of a port, like 8080)", address);
        return Optional.empty();
    }

    /** The host part of a URL that reaches {@code address}: {@code localhost} for every address. */
    static String urlHost(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (ip == null || ip.isAnyLocalAddress()) {
            return "localhost";
        }
        String text = ip.getHostAddress();
        int scope = text.indexOf('%');
        text = scope < 0 ? text : text.substring(0, scope);
        return text.contains(":") ? "[" + text + "]" : text;
    }
}
