package org.buildhook.servlet.config;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** Why files cannot be created in the existing folder {@code folder}, or {@code null} when they can. */
    static String whyNot(Path folder) {
        FileStore store;
        try {
            store = Files.getFileStore(folder);
        } catch (IOException e) {
            return null; // not knowable here: the start says it, if it matters
        }
        String type = store.type();
        if (KERNEL_FILE_SYSTEMS.contains(type)) {
            return "it is on a " + type + " file system, the kernel's, where no file can be created";
        }
        if (store.isReadOnly()) {
            return "its file system is mounted read-only";
        }
        if (!Files.isWritable(folder)) {
            return "permission denied for the user " + System.getProperty("user.name") + "; the folder's owner or"
                    + " mode does not let it create files";
        }
        return null;
    }
}
