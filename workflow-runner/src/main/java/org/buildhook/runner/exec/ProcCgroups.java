package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one reader of {@code /proc/<pid>/cgroup} and {@code /proc/self/mountinfo} (cgroup53's left: {@link AttemptCgroups}
 * and the store's {@code CpuShare} each parsed them). Reads and parses only: what a line means for cgroups is the
 * caller's. JDK types only: the watchdog's JVM ({@link NodeWatchdog}) uses it through {@link AttemptCgroups}.
 */
public final class ProcCgroups {

    private ProcCgroups() {
    }

    /**
     * One line of {@code /proc/<pid>/cgroup}: {@code <hierarchy id>:<controllers>:<path>}.
     *
     * @param hierarchy   the hierarchy's id; {@code 0} for the unified (v2) one
     * @param controllers the controllers, comma-separated as written ({@code cpu,cpuacct}); empty for v2's
     * @param path        the cgroup's path in that hierarchy, as written ({@code /system.slice/x.service})
     */
    public record Membership(String hierarchy, String controllers, String path) {

        /** The unified hierarchy's line ({@code 0::<path>}). */
        public boolean unified() {
            return hierarchy.equals("0") && controllers.isEmpty();
        }

        /** Whether {@code controller} is one of {@link #controllers()} (a v1 hierarchy's). */
        public boolean controls(String controller) {
            return List.of(controllers.split(",")).contains(controller);
        }
    }

    /**
     * One line of {@code /proc/self/mountinfo} ({@code <id> <parent> <major:minor> <root> <mount point> <options>
     * [optional fields…] - <type> <source> <super options>}), its octal escapes ({@code \040} for a space) read back.
     *
     * @param root  the folder of the file system mounted there ({@code /} for its top; a cgroup's path for a cgroup2
     *              mount made in a cgroup namespace, or bound from inside)
     * @param point where it is mounted, as a text (not every text is a {@link Path} on every file system)
     * @param type  the file system's type, as {@code cgroup2}
     */
    public record Mount(String root, String point, String type) {
    }

    /** The lines of {@code /proc/<pid>/cgroup} parsed; empty when it cannot be read (gone, not Linux). */
    public static Optional<List<Membership>> of(long pid) {
        return read(Path.of("/proc/" + pid + "/cgroup")).map(ProcCgroups::memberships);
    }

    /** The lines of {@code /proc/self/cgroup} parsed; empty when it cannot be read (not Linux). */
    public static Optional<List<Membership>> ofSelf() {
        return read(Path.of("/proc/self/cgroup")).map(ProcCgroups::memberships);
    }

    /** The lines of {@code /proc/self/mountinfo} parsed; empty when it cannot be read (not Linux). */
    public static Optional<List<Mount>> mounts() {
        return read(Path.of("/proc/self/mountinfo")).map(ProcCgroups::mounts);
    }

    /** The path of the unified (v2) hierarchy's line, the first one; null when there is none. */
    public static String unifiedPath(List<Membership> memberships) {
        for (Membership membership : memberships) {
            if (membership.unified()) {
                return membership.path();
            }
        }
        return null;
    }

    /** {@code /proc/<pid>/cgroup}'s lines: those with fewer than three fields are left out. */
    static List<Membership> memberships(List<String> lines) {
        List<Membership> parsed = new ArrayList<>(lines.size());
        for (String line : lines) {
            String[] parts = line.split(":", 3);
            if (parts.length == 3) {
                parsed.add(new Membership(parts[0], parts[1], parts[2]));
            }
        }
        return parsed;
    }

    /** {@code /proc/self/mountinfo}'s lines: those without a type after the {@code -} separator are left out. */
    static List<Mount> mounts(List<String> lines) {
        List<Mount> parsed = new ArrayList<>(lines.size());
        for (String line : lines) {
            String[] fields = line.split(" ");
            int dash = java.util.Arrays.asList(fields).indexOf("-");
            if (dash < 5 || dash + 1 >= fields.length) {
                continue;
            }
            parsed.add(new Mount(unescape(fields[3]), unescape(fields[4]), fields[dash + 1]));
        }
        return parsed;
    }

    /** mountinfo's octal escapes ({@code \040} for a space, {@code \134} for a backslash) read back. */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()
                    && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static Optional<List<String>> read(Path file) {
        try {
            return Optional.of(Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
