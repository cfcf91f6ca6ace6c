package org.buildhook.runner.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Each attempt's processes in a cgroup (v2) of their own, the way systemd tracks a service: the membership is
 * inherited on {@code fork} and no process can leave it by itself — not by {@code setsid}, {@code env -i}, closing
 * the job's descriptors or writing its title over its environment (escape50 F1: {@code nginx}, {@code pg_ctl start},
 * Perl's {@code $0}). So what an attempt left is found by its cgroup as well as by its session and its
 * {@link AttemptMarker}: at its end ({@link ProcessTree}), by a node that starts again after a {@code kill -9}, and
 * by the node's watchdog ({@link Leftovers}).
 *
 * <p>Where: the node finds the cgroup v2 hierarchy ({@code /proc/self/mountinfo}, file system {@code cgroup2}:
 * {@code /sys/fs/cgroup}, or {@code /sys/fs/cgroup/unified} in the hybrid layout) and its own cgroup
 * ({@code /proc/self/cgroup}, the {@code 0::} line), and makes each attempt's cgroup in its own:
 * {@code buildhook-<job id>-<attempt>-<store>} ({@link #nameOf}; the job id with every character but a letter or a
 * digit written as {@code _<hex>}, the store as the first 12 hex digits of the SHA-256 of its identity,
 * {@link AttemptMarker#servedStore}; {@code 0} when none is set). It is made just before the program starts; the
 * program is moved into it right after its creation, and with it whatever it forked before that (its session's and
 * its descendants' processes still in the node's cgroup: {@link #adopt}). A process the program started and that
 * left both its session and its descendants before the move (its first milliseconds: the move waits for an RCU
 * grace period, and the job's thread for a CPU) stays in the node's cgroup (found
 * by the session and the marker only, as before). The cgroup is removed ({@code rmdir}) at the attempt's end, once
 * its members are gone.
 *
 * <p>Found again by its name, anywhere in the hierarchy ({@link #cgroupsOf}): a node that starts again may be in
 * another cgroup than its predecessor (a new login scope), and the watchdog, or another node of the host, looks for
 * the cgroups of a dead node's attempts. Nothing needs to be written for that, so a full disk cannot lose it. A node
 * that runs inside another buildhook's attempt looks in that attempt's cgroup only ({@link #cgroupsOf}).
 *
 * <p>When: only where this node can make a folder in its own cgroup and move processes into it (it runs as root, or
 * its service manager delegated its cgroup to it: systemd's {@code Delegate=yes} without
 * {@code ProtectControlGroups=yes}), and not in a systemd unit's cgroup that systemd did not delegate to it
 * ({@link #systemdUnitNotDelegated}), unless the system property {@value #PROPERTY} is {@code off}. Decided once per
 * class loader at the launcher's start, and said once in the log (INFO); elsewhere (a read-only cgroup file system, as
 * in a container; no cgroup v2; another user without delegation) the attempts run as before, found by their session,
 * marker, pipes and, as orphans, by this JVM.
 */
public final class AttemptCgroups {

    /** The system property that turns attempts' cgroups off: {@code off}; else they are on where possible. */
    public static final String PROPERTY = "buildhook.cgroups";

    /** How the name of every attempt's cgroup begins. */
    static final String PREFIX = "buildhook-";

    private static final long SELF = ProcessHandle.current().pid();
    private static final long POLL_MILLIS = 20;
    private static final long END_WITHIN_MILLIS = 10_000;
    /** How deep the hierarchy is looked into for an attempt's cgroup. */
    private static final int MAX_DEPTH = 16;
    /** Names of a cgroup folder's files, not its child cgroups: not looked into. */
    private static final List<String> CONTROL_PREFIXES = List.of("cgroup.", "cpu.", "cpuset.", "io.", "memory.",
            "pids.", "hugetlb.", "rdma.", "misc.", "irq.", "dmem.");

    private static boolean decided;          // guarded by AttemptCgroups.class
    private static boolean located;          // guarded by AttemptCgroups.class
    private static volatile Path hierarchy;  // the cgroup2 mount point, null when none
    private static volatile Path own;        // this JVM's cgroup folder, null when not known
    private static volatile String ownPath;  // this JVM's 0:: path in /proc/self/cgroup, null when none
    private static volatile Path base;       // where attempts' cgroups are made; null when they are not
    private static volatile String why;      // why not, when base is null
    /** The kinds of WARN said already ({@link #warnOnce}): one each, so a harmless one hides no other. */
    private static final Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private AttemptCgroups() {
    }

    /** Finds the hierarchy and decides whether attempts get cgroups here; the first call decides and logs. */
    static synchronized void decide() {
        if (decided) {
            return;
        }
        decided = true;
        try {
            decideNow();
        } catch (RuntimeException e) {
            base = null;
            why = "looking for the cgroup v2 hierarchy failed: " + e;
        }
        if (base != null) {
            info("each job's processes are put in a cgroup of their own in {} (cgroup v2): one that leaves the"
                    + " job's session, closes its descriptors and writes over its environment is still ended with"
                    + " the job, and by a node that starts again after a kill -9; -D{}=off turns it off", base,
                    PROPERTY);
        } else {
            info("jobs' processes are not put in cgroups of their own: {}; what a job leaves is found by its"
                    + " session, its BUILDHOOK_ATTEMPT and its pipes only (docs/running-jobs.md, \"What is contained,"
                    + " and what is not\"). Run as root outside a systemd unit, or under a service manager that"
                    + " delegates this server's"
                    + " cgroup to it (systemd: Delegate=yes, without ProtectControlGroups=yes), to have it", why);
        }
    }

    /**
     * Finds the hierarchy and this JVM's cgroup, once, saying nothing: the watchdog's JVM ({@link NodeWatchdog}), which
     * has no logging library, looks for attempts' cgroups too.
     */
    private static synchronized void locate() {
        if (located) {
            return;
        }
        located = true;
        ownPath = null;
        try {
            Path[] found = hierarchyAndOwn();
            hierarchy = found == null ? null : found[0];
            own = found == null ? null : found[1];
        } catch (RuntimeException e) {
            hierarchy = null;
            own = null;
        }
    }

    private static void decideNow() {
        locate();
        if ("off".equals(System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT))) {
            why = "-D" + PROPERTY + "=off asks for it";
            return;
        }
        if (hierarchy == null) {
            why = "no cgroup v2 hierarchy is mounted here (/proc/self/mountinfo)";
            return;
        }
        if (own == null) {
            why = "this server's cgroup v2 cannot be told (/proc/self/cgroup has no 0:: line in " + hierarchy + ")";
            return;
        }
        Path procs = own.resolve("cgroup.procs");
        if (!Files.isWritable(procs)) {
            why = "this user may not move processes in its own cgroup " + own + " (" + procs + " is not writable)";
            return;
        }
        String systemd = systemdUnitNotDelegated(hierarchy, own, System.getenv("INVOCATION_ID") != null);
        if (systemd != null) {
            why = systemd;
            return;
        }
        Path probe = own.resolve(PREFIX + "probe-" + SELF + "-" + Long.toHexString(ThreadLocalRandom.current()
                .nextLong()));
        try {
            Files.createDirectory(probe);
        } catch (IOException | UnsupportedOperationException e) {
            why = "it cannot make a cgroup in its own, " + own + " (" + e + ")";
            return;
        }
        String refused = moveRefused(probe);
        try {
            Files.delete(probe);
        } catch (IOException | RuntimeException e) {
            // Busy a moment after the probe's process left: removed by a later start (removeAbandoned).
        }
        if (refused != null) {
            why = "it cannot move a process into a cgroup it made in its own, " + own + " (" + refused + ")";
            return;
        }
        base = own;
        removeAbandoned(own);
    }

    /**
     * Why this node must not make cgroups in its own: it runs in the cgroup of a systemd unit ({@code *.service} or
     * {@code *.scope}: its own cgroup or the nearest ancestor so named; or, with {@code INVOCATION_ID} set, as systemd
     * sets it in its units, the root of the hierarchy it sees when that is its own: the unit's cgroup seen from a
     * cgroup namespace) that systemd did not delegate to it. systemd owns such a subtree and may move or kill the
     * processes of cgroups it did not make (systemd.io/CGROUP_DELEGATION: no sub-cgroups without {@code Delegate=});
     * as root the cgroup file system is writable all the same (review53 F8). systemd 251 and later mark a unit with
     * {@code Delegate=yes} by the extended attribute {@code trusted.delegate} (and {@code user.delegate}) set to
     * {@code 1} on its cgroup: looked for there and on every cgroup between it and this node's.
     *
     * @return why not, or null where the delegation is seen, or no systemd unit's cgroup is
     */
    static String systemdUnitNotDelegated(Path hierarchy, Path own, boolean invocationId) {
        Path unit = null;
        for (Path folder = own; folder != null && folder.startsWith(hierarchy) && !folder.equals(hierarchy);
                folder = folder.getParent()) {
            String name = folder.getFileName().toString();
            if (name.endsWith(".service") || name.endsWith(".scope")) {
                unit = folder;
                break;
            }
        }
        if (unit == null) {
            if (!invocationId || !own.equals(hierarchy)) {
                return null;
            }
            unit = hierarchy;
        }
        for (Path folder = own; folder != null && folder.startsWith(unit); folder = folder.getParent()) {
            if (delegated(folder)) {
                return null;
            }
        }
        return "it runs in the cgroup " + unit + " of a systemd unit" + (invocationId ? " (INVOCATION_ID is set)" : "")
                + ", which systemd did not delegate to it (no trusted.delegate or user.delegate attribute on it):"
                + " systemd may move or kill the processes of cgroups it did not make there (systemd.io/"
                + "CGROUP_DELEGATION). Delegate=yes in the unit (systemd 251 or later, which marks it so), without"
                + " ProtectControlGroups=yes, turns it on";
    }

    /** Whether systemd marked {@code cgroup} as delegated: {@code trusted.delegate} or {@code user.delegate} is 1. */
    private static boolean delegated(Path cgroup) {
        return "1".equals(userAttribute(cgroup, "delegate"))
                || "1".equals(TrustedAttribute.of(cgroup, "delegate")); // through JNA: not named here (NodeWatchdog)
    }

    /** The extended attribute {@code user.<name>} of {@code path}; null when it has none or it cannot be read. */
    private static String userAttribute(Path path, String name) {
        try {
            java.nio.file.attribute.UserDefinedFileAttributeView view = Files.getFileAttributeView(path,
                    java.nio.file.attribute.UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (view == null) {
                return null;
            }
            java.nio.ByteBuffer value = java.nio.ByteBuffer.allocate(64);
            view.read(name, value);
            value.flip();
            return StandardCharsets.UTF_8.decode(value).toString();
        } catch (IOException | RuntimeException e) {
            return null; // none (ENODATA), or none readable
        }
    }

    /**
     * Moves a short-lived child of this JVM into {@code probe} and back (review52 F9): where a cgroup can be made but
     * no process moved into it (a cgroup or user namespace whose root is below the cgroups' common ancestor, a
     * threaded cgroup) every attempt's move would fail. Blocks until the child is reaped (milliseconds).
     *
     * @return what refused the move, or null when it worked or no child could be started to try it (then each
     *         attempt's move says it)
     */
    private static String moveRefused(Path probe) {
        Process child;
        try {
            // Through Orphans.spawn: while this JVM is a subreaper, a child started otherwise is taken for an orphan.
            child = Orphans.spawn(null, () -> new ProcessBuilder("sleep", "60").redirectInput(
                    ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start());
        } catch (IOException | RuntimeException e) {
            return null;
        }
        try {
            move(probe, child.pid());
            move(own, child.pid()); // back: the probe is empty at once, and removed
            return null;
        } catch (IOException | RuntimeException e) {
            return e.toString();
        } finally {
            child.destroyForcibly();
            try {
                child.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Removes the empty attempts' cgroups (and probes) in {@code folder} made more than a minute ago: left by a node
     * killed after its attempt's processes had all ended, whose attempt no sweep of this host ended (another host's
     * node recorded it, or none did).
     * A cgroup is empty only in the microseconds between its making and its program's move, or once the attempt's
     * processes are all gone: an empty one a minute old is never filled again, and its attempt's own end finds it gone.
     */
    private static void removeAbandoned(Path folder) {
        long before = System.currentTimeMillis() - 60_000;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder, PREFIX + "*")) {
            for (Path entry : entries) {
                try {
                    if (Files.getLastModifiedTime(entry, LinkOption.NOFOLLOW_LINKS).toMillis() < before
                            && members(entry).isEmpty()) {
                        removed(entry); // with the empty cgroups its job made in it
                    }
                } catch (IOException | RuntimeException e) {
                    // In use, or gone meanwhile: left as it is.
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not listed: nothing removed.
        }
    }

    /**
     * The cgroup2 mount point and this JVM's cgroup folder in it (null when not known); null when none is mounted.
     * Keeps this JVM's path as {@code /proc/self/cgroup} says it in {@link #ownPath}.
     */
    private static Path[] hierarchyAndOwn() {
        Optional<List<ProcCgroups.Mount>> mounts = ProcCgroups.mounts();
        Optional<List<ProcCgroups.Membership>> cgroups = ProcCgroups.ofSelf();
        if (mounts.isEmpty() || cgroups.isEmpty()) {
            return null;
        }
        ownPath = ProcCgroups.unifiedPath(cgroups.get());
        for (ProcCgroups.Mount found : mounts.get()) {
            if (!found.type().equals("cgroup2")) {
                continue;
            }
            String root = found.root();
            Path mount = Path.of(found.point());
            Path own = null;
            for (ProcCgroups.Membership cgroup : cgroups.get()) {
                if (cgroup.unified() && cgroup.path().startsWith("/")) {
                    String path = cgroup.path();
                    String relative = root.equals("/") ? path
                            : path.equals(root) ? "/" : path.startsWith(root + "/") ? path.substring(root.length())
                            : null;
                    if (relative != null && !relative.contains("/..") && !path.endsWith(" (deleted)")) {
                        own = relative.equals("/") ? mount : mount.resolve(relative.substring(1));
                    }
                }
            }
            return new Path[] {mount, own};
        }
        return null;
    }

    /** Whether attempts get cgroups of their own on this node ({@link #decide}s first). */
    public static boolean active() {
        decide();
        return base != null;
    }

    /** Why attempts get no cgroups of their own here, or null when they do. */
    public static String whyNot() {
        decide();
        return base == null ? why : null;
    }

    /** The cgroup v2 hierarchy's mount point, or null where there is none. */
    static Path hierarchy() {
        locate();
        return hierarchy;
    }

    /** Where attempts' cgroups are made (this node's own cgroup), or null when they are not. */
    public static Path base() {
        decide();
        return base;
    }

    /**
     * The name of attempt {@code marker}'s cgroup: {@code buildhook-<job id>-<attempt>-<store>} (see the class
     * comment), for the store {@link AttemptMarker#servedStore} names now.
     */
    static String nameOf(AttemptMarker marker) {
        return prefixOf(marker) + storeTag(AttemptMarker.servedStore());
    }

    /** {@code buildhook-<job id>-<attempt>-}: the name without its store. */
    private static String prefixOf(AttemptMarker marker) {
        String value = marker.value();
        int slash = value.lastIndexOf('/');
        String job = value.substring(0, slash);
        StringBuilder encoded = new StringBuilder(job.length());
        for (byte b : job.getBytes(StandardCharsets.UTF_8)) {
            if (b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
                encoded.append((char) b);
            } else {
                encoded.append('_').append(String.format("%02x", b & 0xff));
            }
        }
        // A folder's name has at most 255 bytes: a long job id is named by its hash.
        String jobPart = encoded.length() <= 120 ? encoded.toString() : "h" + sha256(job).substring(0, 32);
        return PREFIX + jobPart + "-" + value.substring(slash + 1) + "-";
    }

    private static String storeTag(String store) {
        return store == null ? "0" : sha256(store).substring(0, 12);
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Makes attempt {@code marker}'s cgroup, just before its program starts: taken as it is when it exists already.
     *
     * @return its folder; null when attempts get none here ({@link #active}), for a null marker, or when it could not
     *         be made (said once at WARN: the attempt then runs as without)
     */
    static Path create(AttemptMarker marker) {
        if (marker == null || !active()) {
            return null;
        }
        Path cgroup = base.resolve(nameOf(marker));
        try {
            Files.createDirectory(cgroup);
        } catch (FileAlreadyExistsException e) {
            // An earlier start of the same attempt that left it: what is in it is this attempt's all the same.
        } catch (IOException | RuntimeException e) {
            warnOnce("make", "could not make the cgroup " + cgroup + " of job "
                    + marker.value().replace("/", " attempt ") + " (" + e + "): its processes are found by their"
                    + " session and marker only");
            return null;
        }
        return cgroup;
    }

    /**
     * Moves the program just created ({@code pid}) into its attempt's cgroup, then whatever it forked before that:
     * the processes in its session (it leads one of its own) or descended from it, started no earlier than it and
     * still in this node's cgroup. Never throws; a failure is said once at WARN.
     *
     * @param cgroup the attempt's cgroup ({@link #create}); null does nothing
     * @param pid    the program's pid
     */
    static void adopt(Path cgroup, long pid) {
        if (cgroup == null || pid <= 1) {
            return;
        }
        try {
            move(cgroup, pid);
        } catch (IOException | RuntimeException e) {
            if (endedAlready(pid, e)) {
                // A command that ended at once, reaped before its move (the JDK's launch reaps it at its exit): it
                // left nothing in this node's cgroup that the move would have taken (review52 F4).
                return;
            }
            warnOnce("move", "could not move a job's process (pid " + pid + ") into its cgroup " + cgroup + " (" + e
                    + "): its processes are found by their session and marker only");
            return;
        }
        try {
            long started = ProcStat.startTime(pid);
            // Nothing handed out since the program (the common case on a quiet host): nothing it forked to move.
            // since() answers null for that too (no pid after it), which is not a wrap: every process read for
            // nothing took a third of a job thread's CPU (thirty-ninth pass).
            long last = ProcStat.lastPid();
            List<ProcStat> candidates = last == pid ? List.of() : ProcStat.since(pid + 1, 4096);
            if (candidates == null) {
                candidates = ProcStat.all();
            }
            Set<Long> ours = new LinkedHashSet<>();
            ours.add(pid);
            boolean grew = true;
            while (grew) {
                grew = false;
                for (ProcStat p : candidates) {
                    if (!ours.contains(p.pid()) && !p.gone() && p.pid() != SELF
                            && (ours.contains(p.parent()) || p.session() == pid)
                            && ProcStat.startTime(p.pid()) >= started && started >= 0) {
                        ours.add(p.pid());
                        grew = true;
                    }
                }
            }
            ours.remove(pid);
            String node = own == null ? null : ownPath;
            for (long forked : ours) {
                if (node != null && node.equals(cgroupPathOf(forked))) {
                    try {
                        move(cgroup, forked);
                    } catch (IOException e) {
                        // Gone meanwhile.
                    }
                }
            }
        } catch (RuntimeException e) {
            // The program is in it: what it forked before is still found by its session and marker.
        }
    }

    /**
     * Whether {@code pid} is in the cgroup of another attempt of this node than {@code mine}, or in a cgroup below it
     * (one that attempt's job made): a folder of this node's own cgroup whose name begins with {@value #PREFIX}. Then
     * the process is that attempt's, found and ended by it ({@link ProcessTree}), never this one's however it
     * detached (tryout53 F1: an orphan of the subreaper, given to attempts by time). One read of
     * {@code /proc/<pid>/cgroup}.
     *
     * @param pid  a process of the host
     * @param mine this attempt's cgroup ({@link #create}); null when it has none
     * @return false when attempts get no cgroups here, when {@code pid} is gone, or when it is in this node's own
     *         cgroup, in {@code mine} or below it, or anywhere else
     */
    static boolean inAnotherAttempts(long pid, Path mine) {
        if (base == null || pid <= 1) {
            return false;
        }
        String node = ownPath; // as located: read once, not at each process looked at
        String path = cgroupPathOf(pid);
        if (node == null || path == null) {
            return false;
        }
        String under = node.equals("/") ? path : path.startsWith(node + "/") ? path.substring(node.length()) : null;
        if (under == null || under.length() < 2) {
            return false;
        }
        int slash = under.indexOf('/', 1);
        String child = slash < 0 ? under.substring(1) : under.substring(1, slash);
        return child.startsWith(PREFIX) && (mine == null || !child.equals(mine.getFileName().toString()));
    }

    /** The {@code 0::} line's path of {@code /proc/<pid>/cgroup}, or null. */
    private static String cgroupPathOf(long pid) {
        return ProcCgroups.of(pid).map(ProcCgroups::unifiedPath).orElse(null);
    }

    private static void move(Path cgroup, long pid) throws IOException {
        Files.write(cgroup.resolve("cgroup.procs"), (pid + "\n").getBytes(StandardCharsets.US_ASCII),
                StandardOpenOption.WRITE);
    }

    /**
     * The processes in {@code cgroup} now ({@code cgroup.procs}), and in the cgroups its job made in it (review53 F6:
     * they are the attempt's as well); empty when it is gone or null. The cgroups in it are listed only when
     * {@code cgroup.stat} counts some: one more small read per look where the job made none.
     */
    static List<Long> members(Path cgroup) {
        List<Long> pids = new ArrayList<>();
        if (cgroup != null) {
            membersInto(cgroup, pids, 0);
        }
        return pids;
    }

    private static void membersInto(Path cgroup, List<Long> pids, int depth) {
        try {
            for (String line : Files.readAllLines(cgroup.resolve("cgroup.procs"), StandardCharsets.US_ASCII)) {
                if (!line.isBlank()) {
                    long pid = Long.parseLong(line.trim());
                    if (pid > 0 && pid != SELF) { // 0: a process of a PID namespace this one cannot see
                        pids.add(pid);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return; // Gone, or not readable: no members.
        }
        if (depth < MAX_DEPTH && hasDescendants(cgroup)) {
            for (Path child : children(cgroup)) {
                membersInto(child, pids, depth + 1);
            }
        }
    }

    /** Whether {@code cgroup.stat} counts cgroups in {@code cgroup} ({@code nr_descendants}); true when unread. */
    private static boolean hasDescendants(Path cgroup) {
        try {
            for (String line : Files.readAllLines(cgroup.resolve("cgroup.stat"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("nr_descendants ")) {
                    return !line.substring("nr_descendants ".length()).trim().equals("0");
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not there (gone meanwhile): listed all the same, which finds nothing.
        }
        return true;
    }

    /**
     * The cgroups of attempt {@code marker} anywhere in the hierarchy, made by whichever node of this host: those of
     * this store ({@link AttemptMarker#servedStore}), or made by a node that had no store set; any store's when none
     * is set here. Empty where there is no cgroup v2.
     *
     * <p>Where this node runs inside another buildhook's attempt (a test or staging buildhook that a job of another
     * started), only in that attempt's cgroup ({@link #enclosingAttempt}): its own attempts' cgroups are made there,
     * in an attempt's cgroup, whose children the look over the whole hierarchy does not go into; and the other
     * buildhook's attempts, that one among them, are not this node's, whatever their names (review53 F7: it never
     * found its own, and took those of the other of the same job id and attempt for its own, its own attempt's
     * among them: killed with this node in it).
     */
    static List<Path> cgroupsOf(AttemptMarker marker) {
        locate();
        List<Path> found = new ArrayList<>();
        Path root = hierarchy;
        if (marker == null || root == null) {
            return found;
        }
        String prefix = prefixOf(marker);
        String store = AttemptMarker.servedStore();
        String mine = store == null ? null : storeTag(store);
        Path within = enclosingAttempt();
        look(within == null ? root : within, prefix, mine, 0, found);
        return found;
    }

    /**
     * The attempt's cgroup this node runs in, made by another buildhook (its own cgroup or the nearest ancestor of it
     * named {@code buildhook-…}); null when it runs in none, or its own cgroup is not known.
     */
    static Path enclosingAttempt() {
        locate();
        Path root = hierarchy;
        for (Path folder = own; folder != null && root != null && folder.startsWith(root) && !folder.equals(root);
                folder = folder.getParent()) {
            if (folder.getFileName().toString().startsWith(PREFIX)) {
                return folder;
            }
        }
        return null;
    }

    private static void look(Path folder, String prefix, String store, int depth, List<Path> found) {
        if (depth > MAX_DEPTH) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (CONTROL_PREFIXES.stream().anyMatch(name::startsWith)) {
                    continue;
                }
                if (name.startsWith(PREFIX)) {
                    // An attempt's cgroup: its own children are the job's business, not looked into.
                    if (name.startsWith(prefix)) {
                        String tag = name.substring(prefix.length());
                        if (!tag.contains("-") && (store == null || tag.equals(store) || tag.equals("0"))
                                && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                            found.add(entry);
                        }
                    }
                } else if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    look(entry, prefix, store, depth + 1, found);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not readable for this user: nothing of this node's there.
        }
    }

    /** The processes in the cgroups of attempt {@code marker} now ({@link #cgroupsOf}). */
    static Set<Long> membersOf(AttemptMarker marker) {
        Set<Long> pids = new LinkedHashSet<>();
        for (Path cgroup : cgroupsOf(marker)) {
            pids.addAll(members(cgroup));
        }
        return pids;
    }

    /**
     * Kills whatever is still in {@code cgroup} or in the cgroups the job made in it ({@code cgroup.kill}, which kills
     * the whole subtree, where the kernel has it, Linux 5.14; else SIGKILL to each process their {@code cgroup.procs}
     * list) and removes them, deepest first. Nothing outside it is signalled. Returns within ten seconds in every case
     * (review53 F6: a process stuck where SIGKILL does not end it, in uninterruptible sleep or frozen by the cgroup v1
     * freezer, in a cgroup the job made inside its own, held the job's thread ten seconds per cgroup of that subtree,
     * and twice as long at each level): what is still there then is left, said once at WARN with its path and what to
     * do, killed again and removed by this node's sweep once its processes are gone ({@link #endLeftBehind}).
     *
     * @param cgroup an attempt's cgroup; null does nothing
     * @return {@code "<pid> <name>"} of the processes that were still in it; an interrupt meanwhile is kept (the
     *         thread's flag set again), the end carried out all the same
     */
    static List<String> end(Path cgroup) {
        List<String> named = new ArrayList<>();
        if (cgroup == null) {
            return named;
        }
        Set<Long> seen = new java.util.HashSet<>();
        long deadline = System.nanoTime() + END_WITHIN_MILLIS * 1_000_000L;
        boolean interrupted = false;
        while (!endedNow(cgroup, named, seen)) {
            if (System.nanoTime() - deadline >= 0) {
                leftBehind(cgroup);
                break;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                interrupted = true; // carried out all the same: the cgroup would be left with what is in it
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return named;
    }

    /**
     * One round of {@link #end}: true once the cgroup and those the job made in it are removed (or gone). Never waits:
     * kills what is in them, or removes them when they are empty.
     */
    private static boolean endedNow(Path cgroup, List<String> named, Set<Long> seen) {
        List<Long> members = members(cgroup);
        if (members.isEmpty()) {
            if (removed(cgroup)) {
                return true;
            }
            // Not removed: busy a moment after its last member's end, or a member deeper than the list looks
            // (review54 F4: a process more than 16 cgroups down ran on). cgroup.kill ends the whole subtree.
            kill(cgroup, members);
            return false;
        }
        for (long pid : members) {
            if (seen.add(pid)) {
                named.add(pid + " " + ProcStat.name(pid));
            }
        }
        kill(cgroup, members);
        return false;
    }

    /**
     * Removes {@code cgroup} and the cgroups in it, deepest first; true when it is gone. False while one is busy (a
     * moment after its last member's end) or was filled again.
     */
    private static boolean removed(Path cgroup) {
        if (deleted(cgroup)) {
            return true;
        }
        // It holds cgroups its job made (or is busy a moment after its last member's end): those first.
        List<Path> children = children(cgroup);
        for (Path child : children) {
            removed(child);
        }
        return !children.isEmpty() && deleted(cgroup);
    }

    private static boolean deleted(Path cgroup) {
        try {
            Files.delete(cgroup);
            return true;
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException | RuntimeException e) {
            return !Files.exists(cgroup, LinkOption.NOFOLLOW_LINKS);
        }
    }

    /**
     * The cgroups {@link #end} left with processes in them or not removed, to be ended by {@link #endLeftBehind}:
     * few (one per attempt that left a process SIGKILL does not end), each taken off once removed.
     */
    private static final Set<Path> LEFT_BEHIND = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** {@link #end}'s bound passed: says so once for this cgroup, and leaves it to {@link #endLeftBehind}. */
    private static void leftBehind(Path cgroup) {
        List<Long> members = members(cgroup);
        List<String> named = new ArrayList<>();
        for (long pid : members) {
            ProcStat stat = ProcStat.of(pid);
            named.add(pid + " " + ProcStat.name(pid) + " (state " + (stat == null ? "?" : stat.state()) + ")");
        }
        LEFT_BEHIND.add(cgroup);
        warnOnce("left " + cgroup, "the cgroup " + cgroup + " of an attempt that ended is left behind: " + (members
                .isEmpty() ? "it could not be removed within " + END_WITHIN_MILLIS / 1000 + " s"
                : "processes [" + String.join(", ", named) + "] in it, or in a cgroup its job made in it, did not end"
                + " within " + END_WITHIN_MILLIS / 1000 + " s of SIGKILL (state D: uninterruptible sleep, waiting for"
                + " a device or a network file system; frozen by the cgroup v1 freezer)") + ". The job's thread went"
                + " on; this node kills them again and removes the cgroup at its sweeps, once they are gone. To end"
                + " them now: see what they wait for (cat /proc/<pid>/stack, /proc/<pid>/wchan), thaw them"
                + " (echo THAWED > freezer.state of their v1 freezer cgroup, cat /proc/<pid>/cgroup) or end the I/O"
                + " they wait for; then rmdir its folders, deepest first (docs/troubleshooting.md)");
    }

    /**
     * Kills again what is left in each cgroup {@link #end} left behind, and removes those whose processes are gone.
     * Never waits (a few reads and writes per such cgroup); called by this node's leftover sweep, every heartbeat.
     *
     * @return the cgroups removed now
     */
    static List<Path> endLeftBehind() {
        List<Path> removedNow = new ArrayList<>();
        for (Path cgroup : LEFT_BEHIND) {
            List<Long> members = members(cgroup);
            if (!members.isEmpty() || !removed(cgroup)) {
                kill(cgroup, members); // also one deeper than the list looks: cgroup.kill ends the whole subtree
            } else {
                LEFT_BEHIND.remove(cgroup);
                WARNED.remove("left " + cgroup);
                removedNow.add(cgroup);
                info("the cgroup {} left behind at its attempt's end is removed: its processes are gone", cgroup);
            }
        }
        return removedNow;
    }

    /** The cgroups in {@code cgroup} (folders, not its files). */
    private static List<Path> children(Path cgroup) {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(cgroup)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    children.add(entry);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone meanwhile.
        }
        return children;
    }

    private static void kill(Path cgroup, List<Long> members) {
        Path kill = cgroup.resolve("cgroup.kill");
        if (Files.exists(kill)) {
            try {
                Files.write(kill, "1\n".getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
                return;
            } catch (IOException e) {
                // Each process then.
            }
        }
        for (long pid : members) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** {@link #end} of every cgroup of attempt {@code marker} ({@link #cgroupsOf}). */
    static List<String> endAll(AttemptMarker marker) {
        List<String> named = new ArrayList<>();
        for (Path cgroup : cgroupsOf(marker)) {
            named.addAll(end(cgroup));
        }
        return named;
    }

    /**
     * Whether the move of {@code pid} failed because it has ended and was reaped: the write answered {@code ESRCH}
     * ("No such process"), or its {@code /proc} entry is gone.
     */
    private static boolean endedAlready(long pid, Exception e) {
        String said = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                : e.getMessage();
        return (said != null && said.contains("No such process")) || ProcStat.startTime(pid) < 0;
    }

    /** Says {@code message} at WARN unless a message of this {@code kind} was said already in this JVM. */
    static void warnOnce(String kind, String message) {
        if (WARNED.add(kind)) {
            try {
                Log.LOG.warn("{} (said once)", message);
            } catch (LinkageError e) {
                System.err.println("buildhook: " + message); // the watchdog's JVM: no logging library
            }
        }
    }

    private static void info(String format, Object... arguments) {
        try {
            Log.LOG.info(format, arguments);
        } catch (LinkageError e) {
            // The watchdog's JVM decides nothing to say.
        }
    }

    /** The logger, loaded only when something is said: the watchdog's JVM has no logging library. */
    private static final class Log {
        static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AttemptCgroups.class);
    }

    /** Tests only: decides again at the next use (after a change of {@value #PROPERTY}). */
    static synchronized void reset() {
        decided = false;
        located = false;
        base = null;
        why = null;
        WARNED.clear();
    }
}
