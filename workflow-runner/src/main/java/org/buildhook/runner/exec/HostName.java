package org.buildhook.runner.exec;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This host's name as the kernel has it ({@code hostname}, {@code /proc/sys/kernel/hostname}: the UTS namespace's, so
 * a container's own), for what a node records and says of where it runs: its claim of its node id and its attempts
 * (the Nodes list's {@code host}), the default {@code runner.node-id} ({@code <hostname>-<pid>}) and the data folder's
 * lock. {@link InetAddress#getLocalHost()} resolves the name as well and throws when it does not resolve (a host
 * whose name is in no {@code /etc/hosts} nor DNS): a node there was listed as {@code localhost}, its default id was
 * {@code node-<pid>} (tryout29 F8). The name is never resolved here.
 */
public final class HostName {

    private static final Path KERNEL = Path.of("/proc/sys/kernel/hostname");
    /** The longest name recorded: the {@code host} columns are {@code VARCHAR(255)}. */
    static final int MOST = 255;

    private HostName() {
    }

    /**
     * This host's name: the kernel's; where {@code /proc} cannot be read (not Linux), {@link InetAddress#getLocalHost()}'s
     * name; {@code "unknown"} when neither gives one. At most {@value #MOST} characters, never empty.
     */
    public static String current() {
        return of(KERNEL);
    }

    /** As {@link #current()}, with the kernel's name read from {@code kernelFile}. */
    static String of(Path kernelFile) {
        String name = "";
        try {
            name = Files.readString(kernelFile).strip();
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc not mounted: asked of the JDK below
        }
        if (name.isEmpty()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                name = "";
            }
        }
        if (name.isEmpty()) {
            return "unknown";
        }
        return name.length() > MOST ? name.substring(0, MOST) : name;
    }
}
