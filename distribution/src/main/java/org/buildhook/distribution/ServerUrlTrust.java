package org.buildhook.distribution;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Whether an address file of the data folder ({@code server-url}, an entry of {@code server-urls}) can only have been
 * written by the server's user: the admin commands send the admin token to the address in it (review48 F7). With the
 * embedded default {@code data-dir: ./data}, relative to the working directory, {@code cd /tmp && buildhook jobs}
 * read {@code /tmp/data/server-url}, which any local user may create, and sent {@code Authorization: Bearer <token>}
 * to the address in it.
 *
 * <p>As OpenSSH's {@code StrictModes} for {@code ~/.ssh} and {@code ssh}'s "Bad owner or permissions" for its
 * configuration: the file and every folder from the data folder down to it must be owned by the user running the
 * command or by root, and none may be writable by its group or by others. A group-writable one is refused too (as
 * upstream OpenSSH does): the group's members are not the server's user, and buildhook itself makes its folders
 * {@code 0750} and files {@code 0640} (the systemd unit's {@code UMask=0027}), so only an operator's own sharing of the
 * data folder makes one, and then {@code --url} says where to ask. A plain file only: {@code serve} never writes a
 * symbolic link there.
 *
 * <p>The way to the data folder is looked at too, as the kernel walks it from {@code /} (review49 F4, review50 F3):
 * the path as the configuration writes it, its real path, and where every symbolic link on it points. Every folder a
 * name is looked up in must be owned by the same users and writable by neither its group nor others, and every link
 * followed owned by them: else someone else could rename the data folder away, or re-point a link on its path
 * ({@code /srv/ci/buildhook -> /home/mallory/bh} in a folder others may write), between the look and the read. A
 * sticky folder of root's ({@code /tmp}) is accepted for an entry of theirs: no one else may rename it.
 *
 * <p>Root running a command of a server that runs as its own user (the systemd unit's {@code buildhook}: the files are
 * that user's) trusts the data folder's owner too, but only when a configuration file names the data folder (root's or
 * that owner's, on a way only they may change) and every folder and link on the way to the data folder is root's or
 * that owner's and not writable by group or others: then only they could have put the data folder there. In a sticky
 * folder others may write, anyone may make an entry first, so there root takes only its own ({@code /tmp/data}, which
 * anyone could have made before the server did, is refused; review50 F5). Where the file system has no owners and
 * modes (not POSIX), nothing is refused.
 */
final class ServerUrlTrust {

    /** At most this many symbolic links are followed on a path ({@code MAXSYMLINKS} of Linux's path walk). */
    private static final int MAX_LINKS = 40;

    private ServerUrlTrust() {
    }

    /**
     * Why {@code file}, in {@code dataDir} (or a folder of it), may have been written by someone other than the
     * server's user, said as a sentence part that begins with its path ({@code "/tmp/data/server-url is writable by
     * others (mode rw-rw-rw-)"}, {@code "… is in the folder /tmp/data, which is writable by others …"}); empty when
     * it cannot, or when it cannot be looked at (not there, or this user may not: then it cannot be read either).
     *
     * @param dataDir the data folder, as the configuration names it (a symbolic link on it is followed, and looked at)
     * @param file    a file in it or in a folder of it
     */
    static Optional<String> untrusted(Path dataDir, Path file) {
        return untrusted(dataDir, file, null);
    }

    /**
     * As {@link #untrusted(Path, Path)}, where {@code namedBy} is the configuration file that names the data folder
     * ({@code data-dir}), or null when none does (the working directory's {@code ./data}): root trusts the data
     * folder's owner only for a data folder so named (review49 F3).
     */
    static Optional<String> untrusted(Path dataDir, Path file, Path namedBy) {
        return untrusted(dataDir, file, effectiveUid(), System.getProperty("user.name"), namedBy);
    }

    /**
     * As {@link #untrusted(Path, Path)}, for the user {@code me} (a uid; -1 when unknown: then owners are told by
     * name) named {@code myName}, the data folder named by no configuration file.
     */
    static Optional<String> untrusted(Path dataDir, Path file, int me, String myName) {
        return untrusted(dataDir, file, me, myName, null);
    }

    /**
     * As {@link #untrusted(Path, Path, Path)}, for the user {@code me} (a uid; -1 when unknown) named {@code myName}.
     */
    static Optional<String> untrusted(Path dataDir, Path file, int me, String myName, Path namedBy) {
        Path folder;
        List<Path> chain = new ArrayList<>();
        try {
            folder = dataDir.toRealPath();
            chain.add(folder);
            Path next = folder;
            for (Path name : dataDir.toAbsolutePath().normalize().relativize(file.toAbsolutePath().normalize())) {
                next = next.resolve(name);
                chain.add(next);
            }
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
        Integer dataOwner = null;
        String dataOwnerName = null;
        String aboveTheData = null;
        for (Path p : chain) {
            PosixFileAttributes attributes;
            int owner;
            try {
                attributes = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                owner = ((Number) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue();
            } catch (IOException e) {
                return Optional.empty();
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                return Optional.empty(); // no owners and modes here
            }
            String what = p == chain.get(chain.size() - 1) ? file.toString()
                    : file + " is in the folder " + p + ", which";
            String mode = mode(p, attributes);
            if (attributes.isSymbolicLink()) {
                return Optional.of(of(what, "is a symbolic link, which a running 'buildhook serve' never writes"));
            }
            if (dataOwner == null) {
                dataOwner = owner;
                dataOwnerName = attributes.owner().getName();
                if (me == 0 && owner != 0) {
                    aboveTheData = namedBy == null ? "no configuration file names the data folder (data-dir), which"
                            + " is the working directory's ./data" : unsafeConfig(namedBy, owner);
                    if (aboveTheData == null) {
                        aboveTheData = unsafePath(dataDir, users(0, owner), users(0));
                    }
                } else if (me >= 0) {
                    // Every folder up to / (review49 F4), on the path as written and on every link's (review50 F3):
                    // one another user may write could have the data folder renamed away, or a link re-pointed,
                    // and another put in its place between this look and the read.
                    String above = unsafePath(dataDir, users(0, me), users(0, me));
                    if (above != null) {
                        return Optional.of(of(file + " is in the data folder " + folder + ", and", above
                                + ", so someone else may put another data folder in its place"));
                    }
                }
            }
            boolean mine = me >= 0 ? owner == me || owner == 0
                    : attributes.owner().getName().equals(myName)
                            || attributes.owner().getName().equals("root");
            boolean theDataOwnersForRoot = me == 0 && owner == dataOwner && aboveTheData == null;
            if (!mine && !theDataOwnersForRoot) {
                String who = me != 0 ? myName + " (who runs this command) or root"
                        : dataOwner != 0 && aboveTheData == null ? "root, who runs this command, or " + dataOwnerName
                                + ", the data folder's owner" : "root, who runs this command";
                return Optional.of(of(what, "is owned by " + attributes.owner().getName() + ", not by " + who
                        + (me == 0 && owner == dataOwner ? ", and root trusts the data folder's owner only when a"
                                + " configuration file, root's or that owner's and writable by no one else, names the"
                                + " data folder and every folder and symbolic link on the way to the data folder is"
                                + " root's or that owner's and not writable by group or others: " + aboveTheData
                                : "")));
            }
            String writable = writableByOthers(attributes, mode);
            if (writable != null) {
                return Optional.of(of(what, writable));
            }
        }
        return Optional.empty();
    }

    /**
     * {@code "is writable by others (mode …)"} or {@code "is writable by its group G (mode …)"} for a file or folder
     * others or its group may write; null when neither may.
     */
    private static String writableByOthers(PosixFileAttributes attributes, String mode) {
        if (attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
            return "is writable by others (mode " + mode + ")";
        }
        if (attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)) {
            return "is writable by its group " + attributes.group().getName() + " (mode " + mode + ")";
        }
        return null;
    }

    private static String of(String what, String why) {
        return what + " " + why;
    }

    /**
     * Why root may not trust the configuration file {@code config} to name the data folder of {@code owner}: it, a
     * folder above it, or a folder or symbolic link on the way to it as written (--config, {@code BUILDHOOK_CONFIG}),
     * is someone else's or writable by group or others ({@link #unsafePath}); null when none is.
     */
    private static String unsafeConfig(Path config, int owner) {
        Path real;
        try {
            real = config.toRealPath();
            PosixFileAttributes attributes = Files.readAttributes(real, PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            int uid = ((Number) Files.getAttribute(real, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue();
            if (uid != 0 && uid != owner) {
                return "the configuration file " + real + " is " + attributes.owner().getName() + "'s";
            }
            if (attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)
                    || attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)) {
                return "the configuration file " + real + " is writable by group or others (mode "
                        + mode(real, attributes) + ")";
            }
        } catch (IOException | RuntimeException e) {
            return "the configuration file " + config + " cannot be looked at (" + e.getMessage() + ")";
        }
        String above = unsafePath(config, users(0, owner), users(0));
        return above == null ? null : "the configuration file is in " + real.getParent() + ", and " + above;
    }

    /**
     * The first place on the way to what {@code path} names where someone other than the users of {@code trusted}
     * could have changed where it leads, said as {@code "/srv is writable by others (mode rwxrwxrwx)"}; null when there
     * is none (review50 F3). The path is walked as the kernel does, from {@code /}: a symbolic link is followed where
     * it points ({@code ..} goes to the real parent), so both the path as written and its real path are looked at,
     * and every path a link on it points to. Each folder a name is looked up in must be owned by a user of {@code
     * trusted} (uids) and writable by neither its group nor others, and each symbolic link followed owned by a user of
     * {@code trusted} (it lies in a folder so looked at; its own mode is always {@code rwxrwxrwx}). What the path ends
     * at is not looked at here, but its caller does.
     *
     * <p>A folder others may write is accepted only as {@code /tmp} is: root's, with the sticky bit, where only an
     * entry's owner may rename or remove it, and only for an entry of a user of {@code sticky} (review49 F4). Anyone
     * may make a new entry there first: one of the data folder's owner, whom root trusts because of who may have
     * put the data folder where the configuration names it, does not say that that owner put it there (review50 F5),
     * so root's look passes only root in {@code sticky}. An entry of another user is left to the look that follows
     * (the next folder's, its caller's). OpenSSH's StrictModes refuses even a sticky folder.
     *
     * @param path    absolute, or relative to the working directory
     * @param trusted the users who may own the folders and links on the way
     * @param sticky  the users of {@code trusted} an entry of a sticky folder of root's that others may write may
     *                belong to
     */
    private static String unsafePath(Path path, Set<Integer> trusted, Set<Integer> sticky) {
        Path absolute = path.toAbsolutePath();
        Path at = absolute.getRoot();
        Deque<String> names = new ArrayDeque<>();
        absolute.forEach(name -> names.addLast(name.toString()));
        int links = 0;
        while (!names.isEmpty()) {
            String name = names.removeFirst();
            if (name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                at = at.getParent() == null ? at : at.getParent();
                continue;
            }
            Path entry = at.resolve(name);
            try {
                PosixFileAttributes folder = Files.readAttributes(at, PosixFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                int folderUid = uid(at);
                PosixFileAttributes next = Files.readAttributes(entry, PosixFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                int entryUid = uid(entry);
                Path target = next.isSymbolicLink() ? Files.readSymbolicLink(entry) : null;
                String through = target == null ? "" : ", and the path " + absolute + " goes through the symbolic"
                        + " link " + entry + " (to " + target + ") in it";
                if (!trusted.contains(folderUid)) {
                    return at + " is " + folder.owner().getName() + "'s" + through;
                }
                String mode = mode(at, folder);
                String writable = writableByOthers(folder, mode);
                if (writable != null) {
                    if (folderUid != 0 || (bits(at) & 01000) == 0) {
                        return at + " " + writable + through;
                    }
                    // Sticky and root's, as /tmp.
                    if (trusted.contains(entryUid) && !sticky.contains(entryUid)) {
                        return at + " " + writable + ", where anyone may make " + entry + " before its owner does,"
                                + " and it is " + next.owner().getName() + "'s, not root's";
                    }
                }
                if (target == null) {
                    at = entry;
                    continue;
                }
                if (!trusted.contains(entryUid)) {
                    return entry + ", a symbolic link (to " + target + ") on the path " + absolute + ", is "
                            + next.owner().getName() + "'s";
                }
                if (++links > MAX_LINKS) {
                    return absolute + " cannot be looked at (more than " + MAX_LINKS + " symbolic links on it)";
                }
                List<String> more = new ArrayList<>();
                target.forEach(part -> more.add(part.toString()));
                for (int i = more.size() - 1; i >= 0; i--) {
                    names.addFirst(more.get(i));
                }
                if (target.isAbsolute()) {
                    at = target.getRoot();
                }
            } catch (IOException | RuntimeException e) {
                return entry + " cannot be looked at (" + e.getMessage() + ")";
            }
        }
        return null;
    }

    /** The set of these uids (one or more, repeats allowed). */
    private static Set<Integer> users(int... uids) {
        Set<Integer> set = new HashSet<>();
        for (int uid : uids) {
            set.add(uid);
        }
        return set;
    }

    /** {@code p}'s owner's uid, not through a link. */
    private static int uid(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue();
    }

    /** {@code p}'s {@code st_mode} (with its sticky, setuid and setgid bits), not through a link. */
    private static int bits(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue();
    }

    /** {@code p}'s mode as {@code ls -l} says it: {@code rwxrwxrwt} for {@code /tmp} (sticky), {@code rwsr-x---}. */
    private static String mode(Path p, PosixFileAttributes attributes) {
        char[] text = PosixFilePermissions.toString(attributes.permissions()).toCharArray();
        try {
            int bits = ((Number) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue();
            special(text, 2, (bits & 04000) != 0, 's');
            special(text, 5, (bits & 02000) != 0, 's');
            special(text, 8, (bits & 01000) != 0, 't');
        } catch (IOException | RuntimeException e) {
            // the permissions alone
        }
        return new String(text);
    }

    private static void special(char[] text, int at, boolean set, char letter) {
        if (set) {
            text[at] = text[at] == 'x' ? letter : Character.toUpperCase(letter);
        }
    }

    /** This process's effective user id ({@code geteuid(2)} through JNA); -1 where that cannot be told. */
    static int effectiveUid() {
        try {
            return Native.load("c", LibC.class).geteuid();
        } catch (LinkageError | RuntimeException e) {
            return -1;
        }
    }

    /** libc's {@code geteuid(2)}. */
    interface LibC extends Library {
        int geteuid();
    }
}
