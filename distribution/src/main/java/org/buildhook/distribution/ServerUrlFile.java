package org.buildhook.distribution;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.core.DataFiles;
import org.buildhook.core.IoProblems;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code <data-dir>/server-url}: where a running {@code serve} listens, one line, written once it listens. The admin
 * commands read it after finding the configuration exactly as {@code serve} found it, so they reach the server that
 * configuration runs even when {@code serve} was given {@code --port}/{@code --host} or a free port ({@code --port 0}).
 *
 * <p>Several servers may share one data folder: nodes of one PostgreSQL store started from one configuration, each
 * with its own {@code --port} (on SQLite the second is refused by the store's lock before it listens, and writes
 * nothing). The file names one of them that runs: the one started last, and once that one has stopped, another one
 * still running. For that, each running {@code serve} also holds a file of its own, {@code
 * <data-dir>/server-urls/<host>-<pid>} (its URL on the first line), under an exclusive {@code fcntl} lock that the
 * kernel releases when the process ends in any way: a stop finds the servers still running by their locks, and the
 * admin commands tell a {@code server-url} left by a server that was killed ({@code kill -9}, a crash) from a running
 * one's, and ask a running one instead of sending the admin token to the dead one's port (tryout40 F2, tryout41 F5).
 * A {@code server-url} that no file of {@code server-urls} names (written by a buildhook before 2026-12-05, or not
 * readable) is taken as it is, as before.
 */
final class ServerUrlFile {

    static final String NAME = "server-url";
    /** The folder of the running servers' own files, in the data folder. */
    static final String SERVERS = "server-urls";
    /** The file of {@link #SERVERS} whose lock makes one change of {@code server-url} at a time. */
    private static final String TURN = ".lock";
    /** How long a change waits for another server's change at most (then goes on without its turn). */
    private static final long TURN_WAIT_MILLIS = 10_000;
    /** At most this much of a server's own file is read. */
    private static final int MAX_READ = 4096;
    /**
     * The logger, made at its first use only: only {@code serve} writes these files and logs, and the admin commands,
     * which read them, would otherwise start Logback (parsing its XML configuration: about a quarter of a command's
     * CPU, cli49) for nothing.
     */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(ServerUrlFile.class);
    }

    /** One change of these files at a time in this JVM: two channels of one file in a JVM cannot both lock it. */
    private static final Object IN_THIS_JVM = new Object();

    /** The file this process wrote and what it wrote in it, once written. */
    private static final AtomicReference<Written> WRITTEN = new AtomicReference<>();

    /**
     * What this process wrote: {@code server-url} and its text, and its own file in {@link #SERVERS} with the channel
     * that holds its lock (both null when it could not have one: it then still writes {@code server-url}).
     */
    private record Written(Path file, String text, Path own, FileChannel channel) {
    }

    /**
     * A server of the data folder, as its file in {@link #SERVERS} says.
     *
     * @param url where it listens
     * @param file its file
     * @param running true while its process runs (the file's lock is held), false once it ended, null when that
     *        cannot be told (the file cannot be locked here)
     * @param started when it wrote its file
     * @param pid its process's id when its file says it runs on this host ({@code pid P on HOST}), else -1
     */
    record Server(URI url, Path file, Boolean running, FileTime started, long pid) {
    }

    /**
     * Where an admin command asks, and what it says of it on standard error when that is not simply what {@code
     * server-url} names.
     *
     * @param url  where to ask; empty when no address is known (no server of the data folder runs, and the
     *             configuration names no address): then nothing is asked
     * @param note what the command says of it; when {@code url} is empty, why there is none
     * @param untrusted true when {@code url} is empty because an address file of the data folder may have been
     *        written by someone other than the server's user ({@link ServerUrlTrust}): {@code note} says which and
     *        why, and nothing is asked, not even the configuration's address
     */
    record Found(Optional<URI> url, Optional<String> note, boolean untrusted) {

        Found(Optional<URI> url, Optional<String> note) {
            this(url, note, false);
        }
    }

    private ServerUrlFile() {
    }

    /**
     * Writes {@code server-url} and this server's own file in {@link #SERVERS} (locked until the process ends, or
     * {@link #leave()}), and removes the files of servers that ended without their stop.
     *
     * @return the other servers that run on this data folder now (nodes of one PostgreSQL store), newest first; empty
     *         for the only one, or when they cannot be told
     */
    static List<URI> write(Path dataDir, URI uri) {
        Path file = dataDir.resolve(NAME);
        String text = uri + "\n";
        synchronized (IN_THIS_JVM) {
            Path servers = dataDir.resolve(SERVERS);
            try {
                // Nothing else may have made the data folder yet (a PostgreSQL store, a first start).
                DataFiles.createDirectories(dataDir);
            } catch (IOException e) {
                Log.LOG.warn("cannot write {} (the admin commands then need --url): {}", file, IoProblems.describe(e));
                return List.of();
            }
            try {
                DataFiles.createDirectories(servers);
            } catch (IOException e) {
                // Without it, server-url alone, as before 2026-12-05: taken as it is by the commands.
            }
            try (Turn turn = Turn.take(servers)) {
                Path own = servers.resolve(ownName());
                FileChannel channel = hold(own, uri);
                List<Server> others = list(servers, own);
                for (Server ended : others) {
                    if (Boolean.FALSE.equals(ended.running())) {
                        deleteQuietly(ended.file());
                    }
                }
                try {
                    replace(file, text);
                } catch (IOException e) {
                    Log.LOG.warn("cannot write {} (the admin commands then need --url): {}", file, IoProblems.describe(e));
                    release(own, channel);
                    return List.of();
                }
                WRITTEN.set(new Written(file, text, channel == null ? null : own, channel));
                return others.stream().filter(s -> Boolean.TRUE.equals(s.running()))
                        .sorted(Comparator.comparing(Server::started).reversed()).map(Server::url).distinct().toList();
            }
        }
    }

    /**
     * At the end of the stop, once the port has closed: gives up this server's own file, and leaves {@code
     * server-url} naming a server that runs. While it names this server, or a server that ended without its stop
     * (killed), it is replaced by another server of the data folder that still runs (the newest), or removed when
     * none does; naming another running server, it is left. Called once the port has closed, so that the admin
     * commands find the server for the whole of its graceful stop (its drain may last {@code
     * runner.shutdown-grace}; tryout40 F1). Never throws.
     */
    static void leave() {
        Written written = WRITTEN.getAndSet(null);
        if (written == null) {
            return;
        }
        synchronized (IN_THIS_JVM) {
            Path servers = written.file().resolveSibling(SERVERS);
            try (Turn turn = Turn.take(servers)) {
                release(written.own(), written.channel());
                String now = Files.readString(written.file(), StandardCharsets.UTF_8);
                List<Server> all = list(servers, null);
                if (!now.equals(written.text()) && !ended(now, all)) {
                    return; // another server's, which runs (or one this buildhook cannot tell of)
                }
                Optional<Server> next = newestRunning(all);
                if (next.isPresent()) {
                    replace(written.file(), next.get().url() + "\n");
                } else {
                    Files.deleteIfExists(written.file());
                }
            } catch (IOException | RuntimeException e) {
                // gone already, or unreadable: the commands tell a file left so, and the next start overwrites it
            }
        }
    }

    /** The URL in {@code server-url}, or empty when there is none (not running, or another user's). */
    static Optional<URI> read(Path dataDir) {
        Path file = dataDir.resolve(NAME);
        if (!Files.isReadable(file)) {
            return Optional.empty();
        }
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Where the admin commands ask when given no {@code --url}: what {@code server-url} names, unless the server that
     * wrote it no longer runs (it was killed, so it could not replace the file at its stop): then another server of
     * the data folder that runs, or else {@code configured} (the address the configuration names), with a note saying
     * so. With no {@code server-url} but a server of the data folder running, that one, with a note; with neither,
     * {@code configured}, without a note. When none of these is known, no address, and the note says why: the admin
     * token is never sent to a guessed address (tryout48 F7: a WAR's configuration, whose server never writes the
     * file, sent it to whatever listened on localhost:8080). Reads only: the command's user may not write the data
     * folder. None of these files is read when one of them may have been written by someone other than the server's
     * user ({@link ServerUrlTrust}: owner, mode, review48 F7): then no address, even {@code configured}, and {@link
     * Found#untrusted()}.
     *
     * @param configured the address {@code server.host}, {@code server.port} and {@code server.context-path} of the
     *                   configuration make when it sets one of them; empty when it sets none (the embedded default)
     */
    static Found find(Path dataDir, Optional<URI> configured) {
        return find(dataDir, configured, null);
    }

    /**
     * As {@link #find(Path, Optional)}, where {@code namedBy} is the configuration file that names the data folder
     * ({@code data-dir}), null when none does: only then does root trust a data folder of another user ({@link
     * ServerUrlTrust}, review49 F3). The path as given is looked at (each symbolic link on it too, review50 F3); the
     * files are then read through the data folder's real path.
     */
    static Found find(Path dataDir, Optional<URI> configured, Path namedBy) {
        Optional<String> untrusted = untrusted(dataDir, namedBy);
        if (untrusted.isPresent()) {
            return new Found(Optional.empty(), untrusted, true);
        }
        try {
            dataDir = dataDir.toRealPath();
        } catch (IOException e) {
            // not there or not for this user: said below as before
        }
        Path file = dataDir.resolve(NAME);
        Optional<URI> named = read(dataDir);
        List<Server> all = list(dataDir.resolve(SERVERS), null);
        Optional<URI> running = newestRunning(all).map(Server::url);
        if (named.isPresent()) {
            if (!ended(named.get() + "\n", all)) {
                return new Found(named, Optional.empty());
            }
            String said = file + " names " + named.get() + ", but the server that wrote it no longer runs (it ended"
                    + " without its stop, killed or crashed, and could not remove the file)";
            if (running.isPresent()) {
                return new Found(running, Optional.of(said + "; asking " + running.get()
                        + ", another server of this data folder that runs"));
            }
            return new Found(configured, Optional.of(said + ", and no other server of this data folder runs"
                    + configured.map(url -> ": asking the configuration's address " + url + " instead").orElse("")));
        }
        if (running.isPresent()) {
            return new Found(running, Optional.of("there is no " + file + ", but a server of this data folder runs at "
                    + running.get() + ": asking it"));
        }
        if (configured.isPresent()) {
            return new Found(configured, Optional.empty());
        }
        // Not readable, or a folder this user may not enter (then neither exists nor notExists holds).
        return new Found(Optional.empty(), Optional.of(Files.notExists(file)
                ? "no server of this data folder runs here: there is no " + file + ", where a running 'buildhook"
                        + " serve' writes its address"
                : "this user cannot read " + file + ", where a running 'buildhook serve' writes its address"));
    }

    /**
     * Why an address file {@link #find} would read may have been written by someone other than the server's user
     * ({@link ServerUrlTrust}): {@code server-url}, the folder {@link #SERVERS} and each of its files that {@link
     * #list} reads; empty when none may (or none is there, or this user cannot look at them: then none is read).
     */
    private static Optional<String> untrusted(Path dataDir, Path namedBy) {
        Path file = dataDir.resolve(NAME);
        if (Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Optional<String> why = ServerUrlTrust.untrusted(dataDir, file, namedBy);
            if (why.isPresent()) {
                return why;
            }
        }
        Path servers = dataDir.resolve(SERVERS);
        if (!Files.exists(servers, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        Optional<String> folder = ServerUrlTrust.untrusted(dataDir, servers, namedBy);
        if (folder.isPresent()) {
            return folder;
        }
        try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(servers)) {
            for (Path entry : files) {
                if (entry.getFileName().toString().startsWith(".")
                        || Files.isDirectory(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue; // not read by list()
                }
                Optional<String> why = ServerUrlTrust.untrusted(dataDir, entry, namedBy);
                if (why.isPresent()) {
                    return why;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not readable by this user: list() reads none of them either
        }
        return Optional.empty();
    }

    /**
     * Whether the URL of {@code text} is that of servers that all ended: at least one file of {@code all} names it,
     * and none of those is running or unknown.
     */
    private static boolean ended(String text, List<Server> all) {
        Optional<URI> url = parse(text);
        if (url.isEmpty()) {
            return false;
        }
        List<Server> naming = all.stream().filter(s -> s.url().equals(url.get())).toList();
        return !naming.isEmpty() && naming.stream().allMatch(s -> Boolean.FALSE.equals(s.running()));
    }

    private static Optional<Server> newestRunning(List<Server> all) {
        return all.stream().filter(s -> Boolean.TRUE.equals(s.running())).max(Comparator.comparing(Server::started));
    }

    private static Optional<URI> parse(String text) {
        String line = text.strip();
        try {
            return line.isEmpty() || line.contains("\n") ? Optional.empty() : Optional.of(URI.create(line));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** This process's file name in {@link #SERVERS}: {@code <host>-<pid>}, as {@code runner.node-id}'s default. */
    private static String ownName() {
        String host = org.buildhook.runner.exec.HostName.current().replaceAll("[^A-Za-z0-9._-]", "_");
        return (host.startsWith(".") ? "_" + host.substring(1) : host) + "-" + ProcessHandle.current().pid();
    }

    /**
     * Creates and locks this server's own file, writing its URL, pid and start in it; null when it cannot be locked
     * (a file system without locks): this server then has no such file, and {@code server-url} is taken as it is.
     */
    private static FileChannel hold(Path own, URI uri) {
        FileChannel channel = null;
        try {
            channel = DataFiles.open(own, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                // A command checking whether the last process of this name runs holds it for a moment.
                for (int tries = 0; lock == null && tries < 20; tries++) {
                    Thread.sleep(50);
                    lock = channel.tryLock();
                }
            }
            if (lock == null) {
                channel.close();
                return null;
            }
            channel.truncate(0);
            ByteBuffer text = ByteBuffer.wrap((uri + "\npid " + ProcessHandle.current().pid() + " on "
                    + org.buildhook.runner.exec.HostName.current() + ", started " + Instant.now() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            while (text.hasRemaining()) {
                channel.write(text);
            }
            return channel;
        } catch (IOException | OverlappingFileLockException e) {
            // No lock here, or this JVM holds it already (a second serve in one JVM): none of its own, then.
            if (channel != null && !(e instanceof OverlappingFileLockException)) {
                closeQuietly(channel);
                deleteQuietly(own);
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(channel);
            return null;
        }
    }

    /** Removes this server's own file, then lets its lock go. */
    private static void release(Path own, FileChannel channel) {
        if (channel != null) {
            deleteQuietly(own);
            closeQuietly(channel);
        }
    }

    /**
     * The servers of {@code servers}' files, but {@code own}'s. Never opens this process's own file: closing any
     * channel of it would release the lock this process holds on it ({@link FileLock}).
     */
    private static List<Server> list(Path servers, Path own) {
        Written written = WRITTEN.get();
        Path held = written == null ? null : written.own();
        List<Server> found = new ArrayList<>();
        try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(servers)) {
            for (Path file : files) {
                if (file.getFileName().toString().startsWith(".") || file.equals(own) || !Files.isRegularFile(file)) {
                    continue;
                }
                if (file.equals(held)) {
                    found.add(new Server(URI.create(written.text().strip()), file, Boolean.TRUE, FileTime.from(
                            Instant.MAX), ProcessHandle.current().pid()));
                    continue;
                }
                server(file).ifPresent(found::add);
            }
        } catch (IOException | RuntimeException e) {
            // no such folder (a buildhook before 2026-12-05, or none ran), or not readable: none known
        }
        return found;
    }

    /** What {@code file} says of its server, and whether that runs; empty when it names none. */
    private static Optional<Server> server(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(MAX_READ);
            while (buffer.hasRemaining() && channel.read(buffer) > 0) {
                // until the end of the file or MAX_READ
            }
            String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
            Optional<URI> url = parse(text.lines().findFirst().orElse(""));
            if (url.isEmpty()) {
                return Optional.empty();
            }
            Boolean running;
            try {
                FileLock lock = channel.tryLock(0, Long.MAX_VALUE, true);
                running = lock == null;
                if (lock != null) {
                    lock.release();
                }
            } catch (OverlappingFileLockException e) {
                running = Boolean.TRUE; // held by this JVM
            } catch (IOException e) {
                running = null; // no locks on this file system
            }
            return Optional.of(new Server(url.get(), file, running, Files.getLastModifiedTime(file), localPid(text)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The pid of a server's own file's second line, {@code pid P on HOST, started …}, when HOST is this host; else -1. */
    private static long localPid(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\Apid (\\d{1,18}) on (.+?), started ")
                .matcher(text.lines().skip(1).findFirst().orElse(""));
        return m.find() && m.group(2).equals(org.buildhook.runner.exec.HostName.current()) ? Long.parseLong(m.group(1))
                : -1;
    }

    /**
     * The pid of the running server of {@code dataDir} that listens at {@code url}, when its own file in {@link
     * #SERVERS} says it runs on this host (tryout49 F7: a command whose server gives no answer looks at its process);
     * empty when no such server is known, several are, or an address file may have been written by someone other than
     * the server's user ({@link ServerUrlTrust}: its pid is then not read either). The file's lock is held while its
     * process runs, so the pid is that process's, not a later one's.
     */
    static java.util.OptionalLong localPid(Path dataDir, URI url) {
        return localPid(dataDir, url, null);
    }

    /** As {@link #localPid(Path, URI)}, {@code namedBy} as for {@link #find(Path, Optional, Path)}. */
    static java.util.OptionalLong localPid(Path dataDir, URI url, Path namedBy) {
        if (untrusted(dataDir, namedBy).isPresent()) {
            return java.util.OptionalLong.empty();
        }
        String wanted = url.toString().endsWith("/") ? url.toString() : url + "/";
        List<Long> pids = list(dataDir.resolve(SERVERS), null).stream()
                .filter(s -> Boolean.TRUE.equals(s.running()) && s.pid() > 0)
                .filter(s -> (s.url().toString().endsWith("/") ? s.url().toString() : s.url() + "/").equals(wanted))
                .map(Server::pid).distinct().toList();
        return pids.size() == 1 ? java.util.OptionalLong.of(pids.get(0)) : java.util.OptionalLong.empty();
    }

    /** Replaces {@code file}'s content with {@code text} at once: a command reading it meanwhile reads the old or the new. */
    private static void replace(Path file, String text) throws IOException {
        Path next = file.resolveSibling("." + NAME + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(next);
        DataFiles.write(next, text.getBytes(StandardCharsets.UTF_8));
        try {
            try {
                Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(next, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            deleteQuietly(next);
            throw e;
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // left: an ended server's file is tried again at the next start
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // the lock goes with the process at the latest
            }
        }
    }

    /**
     * One change of {@code server-url} at a time among the servers of a data folder: the lock of {@link #TURN}, waited
     * for {@link #TURN_WAIT_MILLIS} at most (a server paused in its change does not hold the others' up for longer;
     * they then change it without their turn).
     */
    private static final class Turn implements AutoCloseable {
        private final FileChannel channel;

        private Turn(FileChannel channel) {
            this.channel = channel;
        }

        static Turn take(Path servers) {
            FileChannel channel = null;
            try {
                channel = DataFiles.open(servers.resolve(TURN), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                long deadline = System.nanoTime() + TURN_WAIT_MILLIS * 1_000_000;
                while (channel.tryLock() == null) {
                    if (System.nanoTime() - deadline >= 0) {
                        closeQuietly(channel);
                        return new Turn(null);
                    }
                    Thread.sleep(20);
                }
                return new Turn(channel);
            } catch (IOException | OverlappingFileLockException e) {
                closeQuietly(channel);
                return new Turn(null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                closeQuietly(channel);
                return new Turn(null);
            }
        }

        @Override
        public void close() {
            closeQuietly(channel);
        }
    }
}
