package org.buildhook.servlet.config;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Whether buildhook could create files in an existing folder, found without writing anything (so
 * {@code check} can say it): the folder's permissions for this user ({@code access(2)}), a file
 * system mounted read-only, or one of the kernel's own file systems, where no regular file can be
 * created whatever the permissions say (root's {@code access(2)} says yes for {@code /sys/kernel}).
 */
final class Writable {

    /** The kernel's file systems (as {@code /proc/mounts} names them) that hold no files of users. */
    private static final Set<String> KERNEL_FILE_SYSTEMS = Set.of("sysfs", "proc", "cgroup", "cgroup2", "debugfs",
            "securityfs", "tracefs", "configfs", "pstore", "bpf", "efivarfs", "fusectl", "binfmt_misc", "mqueue",
            "devpts", "hugetlbfs", "selinuxfs", "autofs", "nsfs");

    private Writable() {
    }

    /**
     * Why files cannot be created in a folder, and what to do.
     *
     * @param why          what keeps files out, for the parenthesis after the folder
     * @param ofTheMachine true when the folder is a right place whose mount, owner or mode is wrong (the machine's
     *                     fault, not the configuration's); false when no file can ever be created there (the kernel's
     *                     file systems): the configuration must name another folder
     * @param fix          what to do, for the end of the message, after the folder's key ({@code "give <key> …"} when
     *                     the configuration must change)
     */
    record Refusal(String why, boolean ofTheMachine, String fix) {
    }

    /**
     * Why files cannot be created in the existing folder {@code folder}, or {@code null} when they can.
     *
     * @param folder an existing folder
     * @param key    the configuration key that names it, for the advice ({@code data-dir}, {@code store.url} …)
     */
    static Refusal whyNot(Path folder, String key) {
        FileStore store;
        try {
            store = Files.getFileStore(folder);
        } catch (IOException e) {
            return null; // not knowable here: the start says it, if it matters
        }
        String type = store.type();
        if (KERNEL_FILE_SYSTEMS.contains(type)) {
            return new Refusal("it is on a " + type + " file system, the kernel's, where no file can be created", false,
                    "give " + key + " a folder the user buildhook runs as can write in, on a disk (e.g."
                            + " /var/lib/buildhook)");
        }
        // access(2) first: it answers for the folder's own mount. FileStore.isReadOnly() reads the entry of
        // the file system's device, which for a folder bind-mounted writable inside a read-only tree (systemd's
        // ProtectSystem=strict with ReadWritePaths=, as buildhook's own unit has) is the tree's read-only one:
        // a writable data folder was refused (tryout18).
        if (Files.isWritable(folder)) {
            return null;
        }
        Boolean mountReadOnly = readOnlyMount(folder);
        if (mountReadOnly == null ? store.isReadOnly() : mountReadOnly) {
            // A folder writable from a shell but read-only here is most often a service's sandbox
            // (tryout18: Debian's tomcat10.service has ProtectSystem=strict), not the disk itself.
            return new Refusal("its file system is mounted read-only for buildhook's process", true,
                    "the configuration is right, the mount is not: check it (findmnt -T " + folder + ") and mount it"
                            + " read-write (a container's volume without :ro); if the folder is writable from a shell,"
                            + " the service's sandbox makes it read-only: systemd's ProtectSystem=strict (Debian's"
                            + " tomcat10.service sets it) leaves writable only the unit's ReadWritePaths=, so add the"
                            + " folder there with systemctl edit");
        }
        String user = System.getProperty("user.name");
        java.nio.file.attribute.PosixFileAttributes a;
        try {
            a = Files.readAttributes(folder, java.nio.file.attribute.PosixFileAttributes.class);
        } catch (IOException | UnsupportedOperationException e) {
            a = null;
        }
        String owner = a == null ? "" : " (its owner is " + a.owner().getName() + ", mode "
                + java.nio.file.attribute.PosixFilePermissions.toString(a.permissions()) + ")";
        if (a != null && ("root".equals(user) || a.owner().getName().equals(user)
                && a.permissions().contains(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE)
                && a.permissions().contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE))) {
            // Its owner and mode let this user in, yet access(2) says no: not a matter of chown (an immutable folder
            // refuses even root).
            return new Refusal("the user " + user + ", which buildhook runs as, may not create files in it, although"
                    + " its owner and mode allow it" + owner + ": the folder is likely immutable (lsattr -d " + folder
                    + " shows an i) or a security module (SELinux, AppArmor) refuses it", true,
                    "the configuration is right, the folder is not: clear the flag (chattr -i " + folder + ") or the"
                            + " module's rule, or give " + key + " another folder");
        }
        return new Refusal("the user " + user + ", which buildhook runs as, may not create files in it" + owner, true,
                "check the folder's owner and mode: make it writable for " + user + " (chown " + user + " " + folder
                        + "), or give " + key + " a folder " + user + " can write in");
    }

    /**
     * Whether the mount that holds {@code folder} is read-only, by {@code /proc/self/mounts}: a read-only
     * bind mount (a sandbox's, a container's {@code :ro} volume) shares its device with the file system
     * it shows, whose entry {@link FileStore#isReadOnly()} may read instead (tryout18: such a folder was
     * said to be refused for want of permission). Null where that file cannot be read.
     */
    private static Boolean readOnlyMount(Path folder) {
        Path real;
        List<String> mounts;
        try {
            real = folder.toRealPath();
            mounts = Files.readAllLines(Path.of("/proc/self/mounts"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
        Path best = null;
        Boolean readOnly = null;
        for (String line : mounts) {
            String[] f = line.split(" ");
            if (f.length < 4) {
                continue;
            }
            Path point;
            try {
                point = Path.of(f[1].replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")
                        .replace("\\134", "\\"));
            } catch (InvalidPathException e) {
                continue;
            }
            // Equal mount points: the later entry is mounted over the earlier one.
            if (real.startsWith(point) && (best == null || point.getNameCount() >= best.getNameCount())) {
                best = point;
                readOnly = Arrays.asList(f[3].split(",")).contains("ro");
            }
        }
        return readOnly;
    }
}
