package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a node runs, as recorded with each of its attempts: the host's name, the kernel's boot id
 * ({@code /proc/sys/kernel/random/boot_id}, new at every boot: processes of another boot are gone)
 * with the node's PID namespace, and the node's own process. A node that finds a running attempt
 * of its own boot and PID namespace whose node process is gone knows that attempt's processes are
 * leftovers it may kill.
 *
 * <p>The PID namespace ({@code /proc/self/ns/pid}, see namespaces(7)) is part of the match because
 * containers on one host share its boot id but not their pids: a node in another container would
 * look up this node's JVM pid in its own {@code /proc}, find it gone (or another process), and take
 * a live node's attempt for a dead one's. Processes of a PID namespace whose init ended are gone
 * (the kernel kills them), so an attempt of another namespace never needs this node's sweep.
 *
 * @param host    the host name as the kernel has it ({@link HostName}; informative: the boot id is what matches)
 * @param bootId  the boot id and PID namespace ({@code <boot id>/pid:[<inode>]}, at most 64
 *                characters), or empty when either cannot be read (then nothing is matched)
 * @param process the node's JVM
 */
public record NodeIdentity(String host, String bootId, ProcessIdentity process) {

    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final Path PID_NAMESPACE = Path.of("/proc/self/ns/pid");

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
        static final NodeIdentity VALUE = new NodeIdentity(HostName.current(), bootAndPidNamespace(), ProcessIdentity.current());
    }

    /** Whether something recorded with {@code otherBootId} ran on this very host, boot and PID namespace. */
    public boolean sameBoot(String otherBootId) {
        return !bootId.isEmpty() && bootId.equals(otherBootId);
    }

    /**
     * Whether something recorded with {@code otherBootId} ran on this very host boot (the same kernel boot id) but in
     * another PID namespace: a container of this host, or an earlier run of this one's container (a container started
     * again gets a new PID namespace), whose pids mean nothing here.
     */
    public boolean sameBootOtherNamespace(String otherBootId) {
        int slash = bootId.indexOf('/');
        return slash > 0 && otherBootId != null && !bootId.equals(otherBootId)
                && otherBootId.startsWith(bootId.substring(0, slash + 1)) && otherBootId.contains("/pid:");
    }

    /**
     * The host's initial PID namespace ({@code PROC_PID_INIT_INO}, the same number on every Linux since 3.8): the
     * namespace of everything not in a container. It ends only with the host, so processes recorded in it are never
     * known to be gone from another namespace.
     */
    public static final String INITIAL_PID_NAMESPACE = "pid:[4026531836]";

    /** The PID namespace of a recorded boot id ({@code pid:[4026532253]}), or empty when it names none. */
    public static String pidNamespace(String bootId) {
        int at = bootId == null ? -1 : bootId.indexOf("/pid:");
        return at < 0 ? "" : bootId.substring(at + 1);
    }

    /**
     * Whether a process this JVM can see in {@code /proc} is in PID namespace {@code namespace} ({@code pid:[…]},
     * namespaces(7)): a child namespace of this one (a node under {@code unshare --pid}) is seen while any process of
     * it lives; a sibling (another container) or a parent namespace never is. False when {@code /proc} cannot be read.
     */
    public static boolean anyProcessIn(String namespace) {
        try (java.util.stream.Stream<Path> all = Files.list(Path.of("/proc"))) {
            return all.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).anyMatch(p -> {
                try {
                    return Files.readSymbolicLink(p.resolve("ns/pid")).toString().equals(namespace);
                } catch (IOException | RuntimeException e) {
                    return false; // gone meanwhile, or not this JVM's to read
                }
            });
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** {@code <boot id>/pid:[<inode>]}, or empty when either cannot be read. */
    static String bootAndPidNamespace() {
        try {
            String boot = Files.readString(BOOT_ID).strip();
            String namespace = Files.readSymbolicLink(PID_NAMESPACE).toString();
            return boot.isEmpty() || namespace.isEmpty() ? "" : boot + "/" + namespace;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

}
