package org.buildhook.distribution;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.charset.Charset;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd's readiness protocol, {@code sd_notify(3)}, for the unit's {@code Type=notify}: the server says
 * {@code READY=1} once its port listens and its job engine started, and {@code STOPPING=1} when a graceful
 * stop begins, so that {@code systemctl start} and {@code restart} return when buildhook takes deliveries.
 *
 * <p>Only when {@code $NOTIFY_SOCKET} is set (systemd sets it for a {@code Type=notify} service): a path
 * ({@code /run/systemd/notify}) or an abstract name ({@code @name}). Each message is one datagram, sent as
 * systemd's own {@code sd_notify} does ({@code src/libsystemd/sd-daemon/sd-daemon.c}): a new
 * {@code socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC)}, {@code sendto} with {@code MSG_NOSIGNAL} to the
 * {@code sockaddr_un} of the address, whose length is the path's with its NUL byte, or for an abstract name
 * ({@code sun_path[0]} a NUL byte) the name's without a trailing one. Java 17's {@code SocketChannel} only has
 * stream Unix sockets, so this calls libc through JNA (already used to start jobs).
 *
 * <p>Never fails the server: an address it cannot use, a libc it cannot load, a send that fails, is one
 * WARN each (systemd then ends a start that never said ready after {@code TimeoutStartSec}). Jobs never
 * inherit {@code NOTIFY_SOCKET} ({@link org.buildhook.runner.exec.JobEnvironment}), so no job can tell
 * systemd that the service is ready or stopping.
 */
final class SystemdNotify {

    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotify.class);

    /** The variable systemd names its notification socket in. */
    static final String VARIABLE = "NOTIFY_SOCKET";

    static final int AF_UNIX = 1;
    static final int SOCK_DGRAM = 2;
    /** Linux's, on x86-64 and aarch64 ({@code O_CLOEXEC}). */
    static final int SOCK_CLOEXEC = 0x80000;
    static final int MSG_NOSIGNAL = 0x4000;
    /** {@code sizeof(sun_path)} on Linux. */
    static final int SUN_PATH_BYTES = 108;
    /** {@code offsetof(struct sockaddr_un, sun_path)}: the 2-byte {@code sun_family} before it. */
    static final int SUN_PATH_OFFSET = 2;

    /** The libc functions sending a datagram needs. */
    interface Sockets extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        NativeLong sendto(int fd, byte[] buf, NativeLong len, int flags, byte[] addr, int addrlen)
                throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static volatile Sockets libc;

    private SystemdNotify() {
    }

    /** {@code READY=1} with this process's pid as {@code MAINPID}: the server listens and its engine started. */
    static void ready() {
        notify("READY=1\nMAINPID=" + ProcessHandle.current().pid());
    }

    /** {@code STOPPING=1}: a graceful stop began. */
    static void stopping() {
        notify("STOPPING=1");
    }

    /**
     * Sends {@code message} to {@code $NOTIFY_SOCKET}; nothing when it is not set. A failure is logged as one
     * WARN naming the socket and the reason, never thrown.
     *
     * @param message newline-separated {@code KEY=VALUE} assignments of {@code sd_notify(3)}
     * @return whether it was sent
     */
    static boolean notify(String message) {
        String socket = System.getenv(VARIABLE);
        if (socket == null || socket.isEmpty()) {
            return false;
        }
        String state = message.lines().findFirst().orElse(message);
        Optional<byte[]> address = address(socket);
        if (address.isEmpty()) {
            LOG.warn("cannot tell systemd {}: {}={} is neither a path (starting with '/') nor an abstract socket"
                    + " name (starting with '@') of at most {} bytes; systemd ends a Type=notify start that never"
                    + " says READY=1 after TimeoutStartSec", state, VARIABLE, socket, SUN_PATH_BYTES - 1);
            return false;
        }
        try {
            Sockets c = libc();
            byte[] bytes = message.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            try {
                c.sendto(fd, bytes, new NativeLong(bytes.length), MSG_NOSIGNAL, address.get(), address.get().length);
            } finally {
                c.close(fd);
            }
            LOG.debug("told systemd {} through {}", state, socket);
            return true;
        } catch (LastErrorException e) {
            // JNA's message: "[errno] strerror".
            LOG.warn("cannot tell systemd {} through {}={}: {}; the server runs on, but systemd ends a Type=notify"
                    + " start that never says READY=1 after TimeoutStartSec", state, VARIABLE, socket, e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("cannot tell systemd {} through {}={}: libc's socket functions cannot be called through JNA"
                    + " ({}); the server runs on, but systemd ends a Type=notify start that never says READY=1 after"
                    + " TimeoutStartSec", state, VARIABLE, socket, e.toString());
        }
        return false;
    }

    private static Sockets libc() {
        Sockets c = libc;
        if (c == null) {
            c = Native.load("c", Sockets.class);
            libc = c;
        }
        return c;
    }

    /**
     * The {@code struct sockaddr_un} of {@code socket} as systemd builds it ({@code sockaddr_un_set_path}), cut
     * to the length to pass: {@code sun_family} {@code AF_UNIX} in this machine's byte order, then for a path
     * its bytes and a NUL byte, for {@code @name} a NUL byte and the name's bytes without a trailing NUL.
     *
     * @param socket the value of {@code $NOTIFY_SOCKET}
     * @return the address, or empty when it is neither form, shorter than 2 bytes, or too long for
     *         {@code sun_path} with a NUL byte after it (systemd's limits)
     */
    static Optional<byte[]> address(String socket) {
        byte[] path = socket.getBytes(fileNames());
        int l = path.length;
        if (l < 2 || (path[0] != '/' && path[0] != '@') || l + 1 > SUN_PATH_BYTES) {
            return Optional.empty();
        }
        boolean abstractName = path[0] == '@';
        byte[] address = new byte[SUN_PATH_OFFSET + l + (abstractName ? 0 : 1)];
        boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
        address[little ? 0 : 1] = (byte) AF_UNIX;
        System.arraycopy(path, 0, address, SUN_PATH_OFFSET, l);
        if (abstractName) {
            address[SUN_PATH_OFFSET] = 0;
        }
        return Optional.of(address);
    }

    /** The charset the JVM decoded the environment with, to give the kernel the variable's own bytes. */
    private static Charset fileNames() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));
        } catch (RuntimeException e) {
            return Charset.defaultCharset();
        }
    }
}
