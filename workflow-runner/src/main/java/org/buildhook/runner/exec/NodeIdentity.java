package org.buildhook.runner.exec;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a node runs, as recorded with each of its attempts: the host's name, the kernel's boot id
 * ({@code /proc/sys/kernel/random/boot_id}, new at every boot: processes of another boot are gone)
 * and the node's own process. A node that finds a running attempt of its own boot whose node
 * process is gone knows that attempt's processes are leftovers it may kill.
 *
 * @param host    the host name (informative; the boot id is what matches)
 * @param bootId  the boot id, or empty when the host has none (then nothing is matched)
 * @param process the node's JVM
 */
public record NodeIdentity(String host, String bootId, ProcessIdentity process) {

    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    public NodeIdentity {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(bootId, "bootId");
        Objects.requireNonNull(process, "process");
    }

    /** This JVM on this host and boot (read once). */
    public static NodeIdentity current() {
        return Current.VALUE;
    }

    private static final class Current {
        static final NodeIdentity VALUE = new NodeIdentity(hostName(), readBootId(), ProcessIdentity.current());
    }

    /** Whether something recorded with {@code otherBootId} ran on this very host and boot. */
    public boolean sameBoot(String otherBootId) {
        return !bootId.isEmpty() && bootId.equals(otherBootId);
    }

    private static String readBootId() {
        try {
            return Files.readString(BOOT_ID).strip();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String hostName() {
        try {
            String name = InetAddress.getLocalHost().getHostName();
            return name.length() > 255 ? name.substring(0, 255) : name;
        } catch (IOException e) {
            return "localhost";
        }
    }
}
