package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.buildhook.distribution.AdminTokenNotSentToAGuessTest.Listener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * review48 F7: the admin commands took {@code <data-dir>/server-url} (and the files of {@code server-urls}) whoever
 * wrote them, and sent {@code Authorization: Bearer <token>} to the address in them. With the embedded default
 * {@code data-dir: ./data}, {@code cd /tmp && buildhook jobs --token-file T} read {@code /tmp/data/server-url}, which
 * any local user may create. Now such a file is read only when it and every folder from the data folder down to it
 * are owned by the command's user or root (root: also by the data folder's owner, when no one else may have put the
 * data folder there) and none is writable by group or others; else exit 3, saying which file and why, and nothing is
 * sent. Real files with real owners and modes ({@code Files.setOwner}: needs root, as CI runs; elsewhere skipped, on CI
 * failed), the real {@code jobs} command, and sockets that record what they receive.
 */
class UntrustedServerUrlTest {

    private static final String TOKEN = "the-real-admin-token-0123456789abcdef";
    /** A user id that is neither root nor this process's: a local user who may plant a file. */
    private static final int OTHER = 4242;

    /** What root says of the data folder's owner it does not trust (review49 F3). */
    private static final String ROOT_TRUSTS = "root trusts the data folder's owner only when a configuration file,"
            + " root's or that owner's and writable by no one else, names the data folder and every folder and"
            + " symbolic link on the way to the data folder is root's or that owner's and not writable by group or"
            + " others: ";
    private static final String BUILDHOOKS_404 = AdminTokenNotSentToAGuessTest.answer("404 Not Found",
            "application/json", "{\"error\": \"no such thing\"}");

    @TempDir
    Path dir;

    /** Folders made under the build's target folder, removed after each test. */
    private final List<Path> made = new ArrayList<>();

    /**
     * A folder in folders only root may change (root's, not writable by group or others, up to {@code /}), to make
     * the tests' layouts in: the build's {@code target} folder where the checkout lies so, else root's home folder, so
     * that a checkout under another user's folder (a CI runner's home) does not decide the outcome.
     */
    private static Path rootOnlyBase() throws IOException {
        List<String> why = new ArrayList<>();
        for (Path base : List.of(Path.of("target").toAbsolutePath(), Path.of(System.getProperty("user.home")))) {
            String not = notRootOnly(base);
            if (not == null) {
                return base;
            }
            why.add(base + " (" + not + ")");
        }
        return fail("these tests need a folder in folders only root may change, and none of these is: " + why);
    }

    private static String notRootOnly(Path base) throws IOException {
        if (!Files.isDirectory(base)) {
            return "not a folder";
        }
        for (Path p = base.toRealPath(); p != null; p = p.getParent()) {
            var permissions = Files.getPosixFilePermissions(p);
            if (((Number) Files.getAttribute(p, "unix:uid")).intValue() != 0
                    || permissions.contains(PosixFilePermission.GROUP_WRITE)
                    || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
                return p + " is not";
            }
        }
        return null;
    }

    @BeforeEach
    void asRoot() throws IOException {
        // This process's user: the owner of a file it makes.
        Path probe = Files.createFile(dir.resolve("made-by-this-process"));
        if (((Number) Files.getAttribute(probe, "unix:uid")).intValue() != 0) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("this test gives files another owner (Files.setOwner), which needs root, as CI runs it");
            }
            Assumptions.abort("needs root to give files another owner (as CI runs it)");
        }
    }

    @AfterEach
    void removeMade() throws IOException {
        for (Path p : made) {
            try (Stream<Path> all = Files.walk(p)) {
                for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run buildhook(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = BuildhookCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static Listener listener() throws IOException {
        return new Listener(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), BUILDHOOKS_404);
    }

    private static String url(Listener listener) {
        return "http://127.0.0.1:" + listener.port() + "/";
    }

    /** Gives {@code p} the owner {@code uid} and the mode {@code mode} ({@code rwxr-x---}); not through a link. */
    private static Path owned(Path p, int uid, String mode) throws IOException {
        UserPrincipalLookupService users = p.getFileSystem().getUserPrincipalLookupService();
        Files.getFileAttributeView(p, java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setOwner(users.lookupPrincipalByName(String.valueOf(uid)));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        assertThat(((Number) Files.getAttribute(p, "unix:uid")).intValue()).isEqualTo(uid);
        return p;
    }

    /** Gives the symbolic link {@code link} itself (not what it points to) the owner {@code uid}. */
    private static Path linkOwned(Path link, int uid) throws IOException {
        UserPrincipalLookupService users = link.getFileSystem().getUserPrincipalLookupService();
        Files.getFileAttributeView(link, java.nio.file.attribute.PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS).setOwner(users.lookupPrincipalByName(String.valueOf(uid)));
        assertThat(((Number) Files.getAttribute(link, "unix:uid", LinkOption.NOFOLLOW_LINKS)).intValue()).isEqualTo(uid);
        return link;
    }

    /** A configuration with its admin token in a file, the data folder {@code data}, and {@code more}. */
    private Path config(Path data, String more) throws IOException {
        Path token = Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        return Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + data + "\n"
                + "admin: {token: {file: " + token + "}}\n" + more);
    }

    /** Asserts that {@code run} was refused for {@code why} (its first words), and that no listener received a thing. */
    private static void refused(Run run, String why, Listener... listeners) {
        assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run.err()).startsWith("buildhook: " + why).contains(": someone other than the server's user may"
                + " have written the address in it, so this command does not read it and sends the admin token"
                + " nowhere.");
        assertThat(run.err()).contains("Give the server's address with --url, or make the data folder");
        for (Listener l : listeners) {
            assertThat(l.received).as("what reached %s", url(l)).isEmpty();
        }
    }

    @Test
    void anAddressFileOthersMayHaveWrittenIsNotReadAndTheTokenIsSentNowhere() throws Exception {
        try (Listener planted = listener(); Listener configured = listener()) {
            // As /tmp: a folder every user may write, so that the data folder's owner is not trusted by root for it.
            Path shared = owned(Files.createDirectories(dir.resolve("shared-tmp")), 0, "rwxrwxrwx");
            Path data = Files.createDirectories(shared.resolve("data"));
            Path file = data.resolve(ServerUrlFile.NAME);
            // The configuration names an address: it is not asked either (the file says a server runs elsewhere).
            Path config = config(data, "server: {host: 127.0.0.1, port: " + configured.port() + "}\n");
            Files.writeString(file, url(planted) + "\n");

            // review48's case: a data folder and server-url another user made, writable by all.
            owned(data, OTHER, "rwxrwxrwx");
            owned(file, OTHER, "rw-rw-rw-");
            Run run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is in the folder " + data.toRealPath() + ", which is owned by " + OTHER + ", not by"
                    + " root, who runs this command, and " + ROOT_TRUSTS + shared.toRealPath() + " is writable by"
                    + " others (mode rwxrwxrwx): someone", planted, configured);

            // Root's data folder in that folder: refused for it (review49 F4: it may be swapped).
            owned(data, 0, "rwxr-x---");
            owned(file, 0, "rw-r-----");
            run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is in the data folder " + data.toRealPath() + ", and " + shared.toRealPath() + " is"
                    + " writable by others (mode rwxrwxrwx), so someone else may put another data folder in its place",
                    planted, configured);

            // The folders root's, the file writable by anyone.
            owned(shared, 0, "rwxr-xr-x");
            owned(data, 0, "rwxr-x---");
            owned(file, 0, "rw-rw-rw-");
            run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is writable by others (mode rw-rw-rw-)", planted, configured);
            assertThat(run.err()).isEqualTo("buildhook: " + file + " is writable by others (mode rw-rw-rw-): someone"
                    + " other than the server's user may have written the address in it, so this command does not read"
                    + " it and sends the admin token nowhere. That is the data folder of " + config + ". Give the"
                    + " server's address with --url, or make the data folder and its server-url and server-urls (folder"
                    + " and files) owned by root, or by the server's user when a configuration file (root's or that"
                    + " user's, writable by no one else) names the data folder and every folder and symbolic link on the"
                    + " way to the data folder is root's or that user's and not writable by group or others (as the"
                    + " systemd unit's /var/lib/buildhook, named by /etc/buildhook/buildhook.yaml), and not writable by"
                    + " group or"
                    + " others (chmod go-w; a running 'buildhook serve' makes its own so)\n");

            // Writable by the folder's group: refused as well (its members are not the server's user).
            owned(file, 0, "rw-r-----");
            owned(data, 0, "rwxrwx---");
            run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is in the folder " + data.toRealPath() + ", which is writable by its group root"
                    + " (mode rwxrwx---)", planted, configured);

            // Another user's file in root's folder (not the data folder's owner).
            owned(data, 0, "rwxr-x---");
            owned(file, OTHER, "rw-r-----");
            run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is owned by " + OTHER + ", not by root, who runs this command", planted, configured);
            assertThat(run.err()).doesNotContain("root trusts the data folder's owner");

            // A link to a file elsewhere: a server writes none.
            Path elsewhere = Files.writeString(dir.resolve("elsewhere"), url(planted) + "\n");
            Files.delete(file);
            Files.createSymbolicLink(file, elsewhere);
            run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is a symbolic link, which a running 'buildhook serve' never writes", planted,
                    configured);
            Files.delete(file);

            // No server-url, but a file of server-urls, or that folder, others may write.
            Path servers = Files.createDirectories(data.resolve(ServerUrlFile.SERVERS));
            Path entry = Files.writeString(servers.resolve("host-4242"), url(planted) + "\npid 4242 on host\n");
            owned(entry, 0, "rw-rw-rw-");
            run = buildhook("jobs", "--config", config.toString());
            refused(run, entry + " is writable by others (mode rw-rw-rw-)", planted, configured);
            owned(entry, 0, "rw-r-----");
            owned(servers, 0, "rwxrwxrwx");
            run = buildhook("jobs", "--config", config.toString());
            refused(run, servers + " is writable by others (mode rwxrwxrwx)", planted, configured);

            // Only what could not have been written by another is read: then the configuration's address is asked.
            owned(servers, 0, "rwxr-x---");
            run = buildhook("jobs", "--config", config.toString());
            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.FAILED);
            assertThat(planted.received).isEmpty();
            assertThat(configured.received).hasSize(1);
            assertThat(configured.received.get(0)).contains("Bearer " + TOKEN);
        }
    }

    /**
     * The brief's case, as an operator meets it: the embedded default data-dir ./data, relative to the working
     * directory, from a folder every user may write (as /tmp): {@code buildhook jobs --token-file T} in a process of
     * its own.
     */
    @Test
    void theWorkingDirectorysDataFolderSomeoneElseMadeIsNotTrusted() throws Exception {
        try (Listener planted = listener()) {
            // As /tmp, without its sticky bit (which changes nothing here: see rootDoesNotTrustADataFolder…).
            Path shared = owned(Files.createDirectories(dir.resolve("shared-tmp")), 0, "rwxrwxrwx");
            Path data = owned(Files.createDirectories(shared.resolve("data")), OTHER, "rwxr-xr-x");
            Path file = owned(Files.writeString(data.resolve(ServerUrlFile.NAME), url(planted) + "\n"), OTHER,
                    "rw-r--r--");
            Path token = Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
            Path out = dir.resolve("jobs.out");
            ProcessBuilder builder = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-cp",
                    System.getProperty("java.class.path"), Main.class.getName(), "jobs", "--token-file",
                    token.toString()).directory(shared.toFile()).redirectErrorStream(true).redirectOutput(out.toFile());
            builder.environment().remove("BUILDHOOK_CONFIG");
            Process jobs = builder.start();
            if (!jobs.waitFor(5, TimeUnit.MINUTES)) {
                jobs.destroyForcibly();
                fail("jobs did not end within 5 minutes: " + Files.readString(out, StandardCharsets.UTF_8));
            }
            String said = Files.readString(out, StandardCharsets.UTF_8);

            assertThat(jobs.exitValue()).as(said).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(said).contains("buildhook: " + file + " is in the folder " + data.toRealPath() + ", which is"
                    + " owned by " + OTHER + ", not by root, who runs this command, and " + ROOT_TRUSTS + "no"
                    + " configuration file names the data folder (data-dir), which is the working directory's ./data:"
                    + " someone other than the server's user may have written the address in it")
                    .contains("whose data-dir is the default ./data: relative to the working directory (" + shared);
            assertThat(planted.received).as("what reached the planted address").isEmpty();
        }
    }

    /**
     * The systemd layout asked by root: the server runs as its own user, whose data folder (as {@code
     * /var/lib/buildhook}, {@code 0750}) and files ({@code 0640}) are that user's, in folders only root may change:
     * trusted. The same data folder in a folder others may write is not: someone else may have put it there.
     */
    @Test
    void rootTrustsTheServersUserInFoldersOnlyRootMayChange() throws Exception {
        Path lib = Files.createTempDirectory(rootOnlyBase(), "var-lib-");
        made.add(lib);
        owned(lib, 0, "rwxr-xr-x");
        try (Listener server = listener()) {
            Path data = owned(Files.createDirectories(lib.resolve("buildhook")), OTHER, "rwxr-x---");
            owned(Files.writeString(data.resolve(ServerUrlFile.NAME), url(server) + "\n"), OTHER, "rw-r-----");
            Path servers = owned(Files.createDirectories(data.resolve(ServerUrlFile.SERVERS)), OTHER, "rwxr-x---");
            Path own = owned(Files.writeString(servers.resolve("host-1"), url(server) + "\npid 1 on host\n"), OTHER,
                    "rw-r-----");
            Path config = config(data, "");
            Run run;
            // Its lock held, as a running server's: the command reads it as running (held in this JVM).
            try (FileChannel channel = FileChannel.open(own, StandardOpenOption.WRITE);
                    FileLock lock = channel.lock()) {
                run = buildhook("jobs", "--config", config.toString());
            }

            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.FAILED);
            assertThat(run.err()).doesNotContain("[buildhook]").contains("no such thing");
            assertThat(server.received).hasSize(1);
            assertThat(server.received.get(0)).startsWith("GET /api/jobs").contains("Bearer " + TOKEN);

            // The folder above others may write: the data folder may be theirs to place.
            owned(lib, 0, "rwxrwxrwx");
            run = buildhook("jobs", "--config", config.toString());
            refused(run, data.resolve(ServerUrlFile.NAME) + " is in the folder " + data.toRealPath() + ", which is"
                    + " owned by " + OTHER + ", not by root, who runs this command, and " + ROOT_TRUSTS
                    + lib.toRealPath() + " is writable by others (mode rwxrwxrwx)");
            assertThat(server.received).as("nothing more").hasSize(1);
        }
    }

    /**
     * A user other than root (uid {@link #OTHER}, here given to the check, as the files are real): its own files and
     * root's are trusted, another user's are not, and the data folder's owner counts only for root.
     */
    @Test
    void aUserOtherThanRootTrustsItsOwnFilesAndRootsOnly() throws Exception {
        Path lib = Files.createTempDirectory(rootOnlyBase(), "home-");
        made.add(lib);
        owned(lib, 0, "rwxr-xr-x");
        Path data = owned(Files.createDirectories(lib.resolve("data")), OTHER, "rwxr-x---");
        Path file = owned(Files.writeString(data.resolve(ServerUrlFile.NAME), "http://127.0.0.1:1/\n"), OTHER,
                "rw-r-----");

        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).isEmpty();
        owned(file, 0, "rw-r--r--");
        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).as("root's").isEmpty();
        owned(file, OTHER + 1, "rw-r-----");
        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).contains(file + " is owned by " + (OTHER + 1)
                + ", not by alice (who runs this command) or root");
        // The data folder's owner (and its files) for another user: not trusted, whatever the folders above.
        owned(data, OTHER + 1, "rwxr-x---");
        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).contains(file + " is in the folder "
                + data.toRealPath() + ", which is owned by " + (OTHER + 1) + ", not by alice (who runs this command) or"
                + " root");
        owned(data, OTHER, "rwxr-x---");
        owned(file, OTHER, "rw--w----");
        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).contains(file + " is writable by its group"
                + " root (mode rw--w----)");
    }

    /**
     * review49 F3: root in another user's folder ({@code cd /home/mallory/proj && buildhook jobs --token-file T}):
     * the working directory's ./data, and every folder above it, mallory's or root's and writable by no one else. Root
     * trusts the data folder's owner only for a data folder a configuration file names, that file root's or that
     * owner's and writable by no one else (the systemd unit's /etc/buildhook/buildhook.yaml naming /var/lib/buildhook).
     */
    @Test
    void rootTrustsAnotherUsersDataFolderOnlyWhenAConfigurationFileNamesIt() throws Exception {
        Path home = Files.createTempDirectory(rootOnlyBase(), "home-");
        made.add(home);
        owned(home, 0, "rwxr-xr-x");
        Path mallory = owned(Files.createDirectories(home.resolve("mallory")), OTHER, "rwxr-x---");
        Path proj = owned(Files.createDirectories(mallory.resolve("proj")), OTHER, "rwxr-x---");
        Path data = owned(Files.createDirectories(proj.resolve("data")), OTHER, "rwxr-x---");
        Path file = owned(Files.writeString(data.resolve(ServerUrlFile.NAME), "http://10.0.0.66:9/\n"), OTHER,
                "rw-r-----");
        Path dataReal = data.toRealPath();

        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", null)).hasValueSatisfying(why -> assertThat(why).contains(file + " is in the folder "
                + dataReal + ", which is owned by " + OTHER + ", not by root, who runs this command, and "
                + ROOT_TRUSTS + "no configuration file names the data folder (data-dir), which is the working"
                + " directory's ./data"));
        ServerUrlFile.Found found = ServerUrlFile.find(data, Optional.empty(), null);
        assertThat(found.untrusted()).isTrue();
        assertThat(found.url()).isEmpty();

        // Named by a configuration file of root's (or of the owner's), writable by no one else: trusted.
        Path etc = owned(Files.createDirectories(home.resolve("etc")), 0, "rwxr-xr-x");
        Path config = owned(Files.writeString(etc.resolve("buildhook.yaml"), "data-dir: " + data + "\n"), 0,
                "rw-r-----");
        Path configReal = config.toRealPath();
        Path etcReal = etc.toRealPath();
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", config)).isEmpty();
        assertThat(ServerUrlFile.find(data, Optional.empty(), config).url()).hasValue(URI.create("http://10.0.0.66:9/"));
        owned(config, OTHER, "rw-r-----");
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", config)).as("the owner's").isEmpty();
        // Someone else's, or writable by its group: not.
        owned(config, OTHER + 1, "rw-r-----");
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", config)).hasValueSatisfying(why -> assertThat(why).contains(ROOT_TRUSTS + "the configuration"
                + " file " + configReal + " is " + (OTHER + 1) + "'s"));
        owned(config, 0, "rw-rw----");
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", config)).hasValueSatisfying(why -> assertThat(why).contains(ROOT_TRUSTS + "the configuration"
                + " file " + configReal + " is writable by group or others (mode rw-rw----)"));
        owned(config, 0, "rw-r-----");
        owned(etc, OTHER + 1, "rwxr-xr-x");
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", config)).hasValueSatisfying(why -> assertThat(why).contains(ROOT_TRUSTS + "the configuration"
                + " file is in " + etcReal + ", and " + etcReal + " is " + (OTHER + 1) + "'s"));
    }

    /**
     * review49 F4: every folder above the data folder up to / is looked at for every user, as OpenSSH's StrictModes
     * does: one another user may write, without the sticky bit, could have the data folder renamed away and another put
     * in its place between the look and the read. A sticky folder of root's (as /tmp) is accepted: only an entry's
     * owner may rename it there.
     */
    @Test
    void everyFolderAboveTheDataFolderIsLookedAtForEveryUser() throws Exception {
        Path lib = Files.createTempDirectory(rootOnlyBase(), "team-");
        made.add(lib);
        Path shared = owned(Files.createDirectories(lib.resolve("checkout")), 0, "rwxrwxrwx");
        Path data = owned(Files.createDirectories(shared.resolve("data")), OTHER, "rwxr-x---");
        Path file = owned(Files.writeString(data.resolve(ServerUrlFile.NAME), "http://127.0.0.1:9/\n"), OTHER,
                "rw-r-----");
        Path dataReal = data.toRealPath();
        Path sharedReal = shared.toRealPath();

        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).hasValueSatisfying(why -> assertThat(why).contains(file + " is in the data folder "
                + dataReal + ", and " + sharedReal + " is writable by others (mode rwxrwxrwx), so"
                + " someone else may put another data folder in its place"));
        owned(shared, 0, "rwxrwxr-x");
        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).hasValueSatisfying(why -> assertThat(why).contains(file + " is in the data folder "
                + dataReal + ", and " + sharedReal + " is writable by its group root (mode"
                + " rwxrwxr-x)"));
        owned(shared, OTHER + 1, "rwxr-xr-x");
        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).hasValueSatisfying(why -> assertThat(why).contains(file + " is in the data folder "
                + dataReal + ", and " + sharedReal + " is " + (OTHER + 1) + "'s"));
        // Root's data folder, for root, likewise.
        owned(shared, 0, "rwxrwxrwx");
        owned(data, 0, "rwxr-x---");
        owned(file, 0, "rw-r-----");
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root")).hasValueSatisfying(why -> assertThat(why).contains(file + " is in the data folder "
                + dataReal + ", and " + sharedReal + " is writable by others (mode rwxrwxrwx)"));

        // As /tmp: root's, sticky.
        Files.setAttribute(shared, "unix:mode", 01777);
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root")).isEmpty();
        owned(data, OTHER, "rwxr-x---");
        owned(file, OTHER, "rw-r-----");
        assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).isEmpty();
        assertThat(ServerUrlFile.find(data, Optional.empty()).url()).isEmpty(); // root: another's, named by nothing
    }

    /**
     * review50 F3: root's configuration names {@code /srv/ci/buildhook/data}, and {@code /srv/ci} is a folder others
     * may write. Only the folders above the data folder's real path were looked at, so mallory put a link there,
     * {@code /srv/ci/buildhook -> /home/mallory/bh}, whose {@code data/server-url} (hers, {@code 0640}) names her
     * address: root trusted "the data folder's owner" and sent her the admin token. Now the path as written is walked
     * as the kernel walks it: the folder the link is in is others', so nothing is read and nothing sent. A link on the
     * way in folders only root may change, made by root, is followed as before (a team's {@code /srv/buildhook ->
     * /var/lib/buildhook}); one made by someone else is not.
     */
    @Test
    void rootDoesNotFollowALinkPlantedOnTheDataFoldersPath() throws Exception {
        Path base = Files.createTempDirectory(rootOnlyBase(), "link-");
        made.add(base);
        owned(base, 0, "rwxr-xr-x");
        try (Listener planted = listener()) {
            Path srv = owned(Files.createDirectories(base.resolve("srv")), 0, "rwxrwxrwx");
            Path home = owned(Files.createDirectories(base.resolve("home")), 0, "rwxr-xr-x");
            Path mallory = owned(Files.createDirectories(home.resolve("mallory")), OTHER, "rwxr-xr-x");
            Path bh = owned(Files.createDirectories(mallory.resolve("bh")), OTHER, "rwxr-x---");
            Path data = owned(Files.createDirectories(bh.resolve("data")), OTHER, "rwxr-x---");
            owned(Files.writeString(data.resolve(ServerUrlFile.NAME), url(planted) + "\n"), OTHER, "rw-r-----");
            Path link = linkOwned(Files.createSymbolicLink(srv.resolve("buildhook"), bh), OTHER);
            Path named = link.resolve("data");
            Path file = named.resolve(ServerUrlFile.NAME);
            Path dataReal = data.toRealPath();
            Path config = config(named, "");

            Run run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is in the folder " + dataReal + ", which is owned by " + OTHER + ", not by"
                    + " root, who runs this command, and " + ROOT_TRUSTS + srv + " is writable by others (mode"
                    + " rwxrwxrwx), and the path " + named + " goes through the symbolic link " + link + " (to " + bh
                    + ") in it: someone", planted);
            // A user's own data folder through such a link: refused as well (the link may be re-pointed).
            assertThat(ServerUrlTrust.untrusted(named, file, OTHER, "mallory")).hasValueSatisfying(why -> assertThat(
                    why).isEqualTo(file + " is in the data folder " + dataReal + ", and " + srv + " is"
                    + " writable by others (mode rwxrwxrwx), and the path " + named + " goes through the symbolic link "
                    + link + " (to " + bh + ") in it, so someone else may put another data folder in its place"));

            // The link's folder only root may change: the link is looked at, then where it points (all root's or
            // mallory's here), and the address is asked.
            owned(srv, 0, "rwxr-xr-x");
            run = buildhook("jobs", "--config", config.toString());
            assertThat(run.exit()).as(run.err()).isEqualTo(ExitCodes.FAILED);
            assertThat(planted.received).hasSize(1);
            assertThat(planted.received.get(0)).contains("Bearer " + TOKEN);
            // But not a link of someone else's (who may once have had that folder, or a sticky one's entry).
            linkOwned(link, OTHER + 1);
            run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is in the folder " + dataReal + ", which is owned by " + OTHER + ", not by"
                    + " root, who runs this command, and " + ROOT_TRUSTS + link + ", a symbolic link (to " + bh + ") on"
                    + " the path " + named + ", is " + (OTHER + 1) + "'s: someone");
            assertThat(planted.received).as("nothing more").hasSize(1);
            linkOwned(link, 0);
            // A link further on, in what a link points to, is walked as well: mallory's home reached through a link
            // in a folder others may write.
            Path shared = owned(Files.createDirectories(base.resolve("shared")), 0, "rwxrwxrwx");
            Path homeLink = Files.createSymbolicLink(shared.resolve("home"), home);
            Files.delete(link);
            Files.createSymbolicLink(link, srv.relativize(homeLink).resolve("mallory").resolve("bh")); // ../shared/…
            assertThat(named.toRealPath()).isEqualTo(dataReal);
            run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is in the folder " + dataReal + ", which is owned by " + OTHER + ", not by"
                    + " root, who runs this command, and " + ROOT_TRUSTS + shared + " is writable by others (mode"
                    + " rwxrwxrwx), and the path " + named + " goes through the symbolic link " + homeLink + " (to "
                    + home + ") in it: someone");
            assertThat(planted.received).as("nothing more").hasSize(1);
        }
    }

    /**
     * review50 F3, the configuration file's path: root trusts the data folder's owner only for a configuration file
     * no one else may have written or named. Only its real path was looked at, so {@code --config
     * /srv/shared/buildhook.yaml} (a link there, in a folder others may write, to root's own file) was trusted though
     * anyone could re-point it to a file naming their data folder.
     */
    @Test
    void rootDoesNotTrustAConfigurationFileNamedThroughALinkOthersMayRePoint() throws Exception {
        Path base = Files.createTempDirectory(rootOnlyBase(), "config-");
        made.add(base);
        owned(base, 0, "rwxr-xr-x");
        Path data = owned(Files.createDirectories(base.resolve("buildhook")), OTHER, "rwxr-x---");
        Path file = owned(Files.writeString(data.resolve(ServerUrlFile.NAME), "http://127.0.0.1:9/\n"), OTHER,
                "rw-r-----");
        Path etc = owned(Files.createDirectories(base.resolve("etc")), 0, "rwxr-xr-x");
        Path config = owned(Files.writeString(etc.resolve("buildhook.yaml"), "data-dir: " + data + "\n"), 0,
                "rw-r--r--");
        Path shared = owned(Files.createDirectories(base.resolve("shared")), 0, "rwxrwxrwx");
        Path fileLink = Files.createSymbolicLink(shared.resolve("buildhook.yaml"), config);
        Path folderLink = Files.createSymbolicLink(shared.resolve("etc"), etc);

        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", config)).as("the file itself").isEmpty();
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", fileLink)).hasValueSatisfying(why -> assertThat(
                why).endsWith(ROOT_TRUSTS + "the configuration file is in " + etc + ", and " + shared + " is writable"
                + " by others (mode rwxrwxrwx), and the path " + fileLink + " goes through the symbolic link "
                + fileLink + " (to " + config + ") in it"));
        Path throughFolder = folderLink.resolve("buildhook.yaml");
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", throughFolder)).hasValueSatisfying(why -> assertThat(
                why).endsWith(ROOT_TRUSTS + "the configuration file is in " + etc + ", and " + shared + " is writable"
                + " by others (mode rwxrwxrwx), and the path " + throughFolder + " goes through the symbolic link "
                + folderLink + " (to " + etc + ") in it"));
        // The same links in a folder only root may change, made by root: trusted.
        owned(shared, 0, "rwxr-xr-x");
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", fileLink)).isEmpty();
        assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", throughFolder)).isEmpty();
    }

    /**
     * review50 F5: in a sticky folder others may write (as {@code /tmp}), only an entry's owner may rename it, but
     * anyone may make it first. Root's configuration naming {@code data-dir: /tmp/buildhook} (a try-out, a container's
     * scratch), and {@code /tmp} cleared at boot: mallory made {@code /tmp/buildhook} before the server did, with her
     * address in its {@code server-url}, and root trusted her as "the data folder's owner". Now root takes only its own
     * entry there. A user's own data folder in {@code /tmp} (not root), root's own, and the owner's data folder in a
     * folder of root's in {@code /tmp} are trusted as before.
     */
    @Test
    void rootDoesNotTrustADataFolderAnotherUserMayHaveMadeFirstInAStickyFolder() throws Exception {
        Path base = Files.createTempDirectory(rootOnlyBase(), "sticky-");
        made.add(base);
        owned(base, 0, "rwxr-xr-x");
        try (Listener planted = listener()) {
            Path tmp = owned(Files.createDirectories(base.resolve("tmp")), 0, "rwxrwxrwx");
            Files.setAttribute(tmp, "unix:mode", 01777);
            Path data = owned(Files.createDirectories(tmp.resolve("buildhook")), OTHER, "rwxr-x---");
            Path file = owned(Files.writeString(data.resolve(ServerUrlFile.NAME), url(planted) + "\n"), OTHER,
                    "rw-r-----");
            Path config = config(data, "");

            Run run = buildhook("jobs", "--config", config.toString());
            refused(run, file + " is in the folder " + data + ", which is owned by " + OTHER + ", not by root, who"
                    + " runs this command, and " + ROOT_TRUSTS + tmp + " is writable by others (mode rwxrwxrwt), where"
                    + " anyone may make " + data + " before its owner does, and it is " + OTHER + "'s, not root's:"
                    + " someone", planted);
            assertThat(ServerUrlFile.find(data, Optional.empty(), config).untrusted()).isTrue();

            // The user's own data folder there, asked by that user: only they may rename it, and it is theirs.
            assertThat(ServerUrlTrust.untrusted(data, file, OTHER, "alice")).isEmpty();
            // Root's own there, asked by root.
            owned(data, 0, "rwxr-x---");
            owned(file, 0, "rw-r-----");
            assertThat(ServerUrlTrust.untrusted(data, file, 0, "root", config)).isEmpty();
            // The owner's data folder in a folder root made there: only root could have made that folder.
            Path rootMade = owned(Files.createDirectories(tmp.resolve("root-made")), 0, "rwxr-xr-x");
            Path inside = Files.move(data, rootMade.resolve("buildhook"));
            owned(inside, OTHER, "rwxr-x---");
            Path insideFile = owned(inside.resolve(ServerUrlFile.NAME), OTHER, "rw-r-----");
            assertThat(ServerUrlTrust.untrusted(inside, insideFile, 0, "root", config)).isEmpty();
            // A configuration file the owner has in the sticky folder: anyone may have made it first too.
            Path ownersConfig = owned(Files.writeString(tmp.resolve("buildhook.yaml"), "data-dir: " + inside + "\n"),
                    OTHER, "rw-r--r--");
            assertThat(ServerUrlTrust.untrusted(inside, insideFile, 0, "root", ownersConfig)).hasValueSatisfying(
                    why -> assertThat(why).endsWith(ROOT_TRUSTS + "the configuration file is in " + tmp + ", and "
                            + tmp + " is writable by others (mode rwxrwxrwt), where anyone may make " + ownersConfig
                            + " before its owner does, and it is " + OTHER + "'s, not root's"));
            assertThat(planted.received).as("what reached the planted address").isEmpty();
        }
    }
}
