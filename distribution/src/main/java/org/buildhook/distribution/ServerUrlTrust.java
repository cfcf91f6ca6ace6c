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
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
 * <p>Root running a command of a server that runs as its own user (the systemd unit's {@code buildhook}: the files are
 * that user's) trusts the data folder's owner too, but only when every folder above the data folder is root's or
 * that owner's and not writable by group or others: then only they could have put the data folder there ({@code
 * /tmp/data}, under the world-writable {@code /tmp}, is refused). Where the file system has no owners and modes
 * (not POSIX), nothing is refused.
 */
final class ServerUrlTrust {

    private ServerUrlTrust() {
    }

    /**
     * Why {@code file}, in {@code dataDir} (or a folder of it), may have been written by someone other than the
     * server's user, said as a sentence part that begins with its path ({@code "/tmp/data/server-url is writable by
     * others (mode rw-rw-rw-)"}, {@code "… is in the folder /tmp/data, which is writable by others …"}); empty when
     * it cannot, or when it cannot be looked at (not there, or this user may not: then it cannot be read either).
     *
     * @param dataDir the data folder, as the configuration names it (a symbolic link to it is followed)
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
                        aboveTheData = unsafeAbove(folder, owner);
                    }
                } else if (me >= 0) {
                    // Every folder up to / (review49 F4): one another user may write could have the data folder
                    // renamed away and another put in its place between this look and the read.
                    String above = unsafeAbove(folder, me);
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
                                + " data folder and every folder above the data folder is root's or that owner's and"
                                + " not writable by group or others: " + aboveTheData : "")));
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
     * Why root may not trust the configuration file {@code config} to name the data folder of {@code owner}: it, or a
     * folder above it, is someone else's or writable by group or others; null when it is not.
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
        String above = unsafeAbove(real, owner);
        return above == null ? null : "the configuration file is in " + real.getParent() + ", and " + above;
    }

    /**
     * The first folder above {@code folder} (a real path) that someone other than root and {@code owner} may have
     * changed, said as {@code "/srv is writable by others (mode rwxrwxrwx)"}; null when there is none. A folder
     * writable by group or others is accepted only as {@code /tmp} is: root's with the sticky bit, where only the
     * owner of an entry (here root or {@code owner}, looked at before) may rename or remove it (review49 F4). OpenSSH's
     * StrictModes refuses even that; buildhook accepts it because the entry below it cannot be swapped.
     */
    private static String unsafeAbove(Path folder, int owner) {
        for (Path p = folder.getParent(); p != null; p = p.getParent()) {
            try {
                PosixFileAttributes attributes = Files.readAttributes(p, PosixFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                int uid = ((Number) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue();
                String mode = mode(p, attributes);
                if (uid != 0 && uid != owner) {
                    return p + " is " + attributes.owner().getName() + "'s";
                }
                int bits = ((Number) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue();
                if (uid == 0 && (bits & 01000) != 0) {
                    continue; // sticky and root's: as /tmp
                }
                String writable = writableByOthers(attributes, mode);
                if (writable != null) {
                    return p + " " + writable;
                }
            } catch (IOException | RuntimeException e) {
                return p + " cannot be looked at (" + e.getMessage() + ")";
            }
        }
        return null;
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
