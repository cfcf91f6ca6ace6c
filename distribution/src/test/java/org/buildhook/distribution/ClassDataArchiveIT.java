package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's class-data archive for {@code serve} (BUILDHOOK_CDS_DIR, issue 17's start-up): the
 * first start writes it at its graceful stop, the next one maps it, CLI commands print the same (and map it,
 * never write it), and
 * a bad archive (truncated, garbage, another JDK's) never stops a start nor prints anything.
 */
class ClassDataArchiveIT {

    @TempDir
    Path dir;
    Path home;
    Path work;
    Path cache;
    Process server;
    List<String> serverOutput;

    @BeforeEach
    void unpack() throws Exception {
        home = Tarball.unpack(dir);
        work = Files.createDirectories(dir.resolve("work"));
        cache = Files.createDirectories(dir.resolve("cache"));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * {@code bin/buildhook <args>} with {@code BUILDHOOK_CDS_DIR=cdsDir}; null: set empty, no archive. The
     * user's cache folder (the archive's folder where BUILDHOOK_CDS_DIR is unset) is {@link #userCache}.
     */
    ProcessBuilder buildhook(String cdsDir, String... args) {
        ProcessBuilder pb = Tarball.launcher(home, work, args);
        pb.environment().remove("JAVA_OPTS");
        pb.environment().remove("BUILDHOOK_JVM_DEFAULTS");
        pb.environment().put("BUILDHOOK_CDS_DIR", cdsDir == null ? "" : cdsDir);
        return pb;
    }

    /** Starts {@code serve} with the archive folder {@code cdsDir} and waits until it listens. */
    void serve(Path cdsDir) throws Exception {
        serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
        server = buildhook(cdsDir.toString(), "serve", "--port", "0", "--host", "127.0.0.1").start();
        ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
    }

    /**
     * SIGTERM, as systemd and podman stop it; returns the exit status once every line the server wrote, its
     * last ("buildhook stopped") too, was read and checked for CDS's words. SIGTERM through the handle:
     * {@link Process#destroy()} also closes the server's output, and the lines of the stop were lost unread.
     */
    int stopGracefully() throws Exception {
        assertThat(server.toHandle().destroy()).isTrue();
        assertThat(server.waitFor(120, TimeUnit.SECONDS)).as("stopped").isTrue();
        ServeOutput.awaitEnd(server);
        assertThat(String.join("\n", serverOutput)).contains("buildhook stopped")
                .doesNotContain("[cds").doesNotContain("[warning]").doesNotContain("SIGBUS")
                .doesNotContain("shared archive").doesNotContain("BUILDHOOK_CDS_DIR").doesNotContain("class-data archive")
                .doesNotContain("Exception");
        return server.exitValue();
    }

    /** The class-data archives the running server mapped, from /proc/PID/maps. */
    List<String> mappedArchives() throws IOException {
        try (Stream<String> maps = Files.lines(Path.of("/proc/" + server.pid() + "/maps"))) {
            return maps.filter(l -> l.endsWith(".jsa") && l.contains(cache.toString()))
                    .map(l -> l.substring(l.indexOf('/'))).distinct().toList();
        }
    }

    List<String> files(Path folder) throws IOException {
        try (Stream<Path> list = Files.list(folder)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Two starts: the first writes the archive at its stop, the second maps it. Returns the archive. */
    Path archiveMade() throws Exception {
        serve(cache);
        assertThat(mappedArchives()).isEmpty();
        assertThat(stopGracefully()).isEqualTo(143);
        // The archive as the JVM wrote it, the JVM's log that says it finished writing it, and the
        // server's mark that a stop signal began a graceful stop.
        assertThat(files(cache)).hasSize(3).allMatch(name -> name.startsWith("buildhook-serve-java17"))
                .anyMatch(name -> name.endsWith(".tmp")).anyMatch(name -> name.endsWith(".tmp.log"))
                .anyMatch(name -> name.endsWith(".tmp.stopped"));

        serve(cache);
        List<String> mapped = mappedArchives();
        assertThat(mapped).singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .matches(".*/buildhook-serve-java[^/]*-[0-9]+-[0-9]+\\.jsa");
        assertThat(stopGracefully()).isEqualTo(143);
        assertThat(files(cache)).as("the .tmp and its log are gone once renamed").hasSize(1);
        return Path.of(mapped.get(0));
    }

    @Test
    void theFirstServeWritesTheArchiveAtItsGracefulStopTheNextMapsItAndTheInstallFolderIsNotWritten()
            throws Exception {
        List<String> before = installFiles();

        Path archive = archiveMade();

        serve(cache);
        assertThat(mappedArchives()).containsExactly(archive.toString());
        assertThat(stopGracefully()).isEqualTo(143);
        assertThat(files(cache)).containsExactly(archive.getFileName().toString());
        assertThat(installFiles()).isEqualTo(before);

        // -Xlog:cds in JAVA_OPTS, to see what CDS does, shows its lines and uses the same archive
        // (-Xlog is not part of the archive's name, other JVM options are).
        serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
        ProcessBuilder logged = buildhook(cache.toString(), "serve", "--port", "0", "--host", "127.0.0.1");
        logged.environment().put("JAVA_OPTS", "-Xlog:cds");
        server = logged.start();
        ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
        assertThat(mappedArchives()).containsExactly(archive.toString());
        assertThat(serverOutput).anyMatch(l -> l.contains("[cds"));
        server.destroy();
        assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(files(cache)).containsExactly(archive.getFileName().toString());
    }

    /** {@code bin/buildhook serve} with BUILDHOOK_CDS_DIR unset, HOME {@code userHome}, no XDG_CACHE_HOME. */
    ProcessBuilder serveWithoutTheVariable(Path userHome) {
        ProcessBuilder pb = buildhook(null, "serve", "--port", "0", "--host", "127.0.0.1");
        pb.environment().remove("BUILDHOOK_CDS_DIR");
        pb.environment().remove("XDG_CACHE_HOME");
        if (userHome == null) {
            pb.environment().remove("HOME");
        } else {
            pb.environment().put("HOME", userHome.toString());
        }
        return pb;
    }

    /** Starts {@code pb} ({@code serve}) and waits until it listens. */
    void serve(ProcessBuilder pb) throws Exception {
        serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
        server = pb.start();
        ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
    }

    /**
     * A plain tarball (issue 17: 2.6 s to the first 202 without the archive, 1.9 s with it), started without
     * BUILDHOOK_CDS_DIR: the archive is kept in the user's cache folder (XDG Base Directory), in a folder of
     * the installation's own made with mode 0700, written at the first graceful stop and mapped by the next
     * start, without a word; XDG_CACHE_HOME, when absolute, is that cache folder. The install folder is
     * not written to.
     */
    @Test
    void withoutTheVariableTheArchiveIsKeptInTheUsersCacheFolder() throws Exception {
        List<String> before = installFiles();
        Path userHome = Files.createDirectories(dir.resolve("home"));

        serve(serveWithoutTheVariable(userHome));
        assertThat(mappedArchivesIn(userHome)).isEmpty();
        assertThat(stopGracefully()).isEqualTo(143);
        Path folder = Tarball.defaultArchiveFolder(userHome.resolve(".cache"));
        assertThat(Files.getPosixFilePermissions(folder)).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(folder.getParent())).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        assertThat(files(folder)).hasSize(3).anyMatch(name -> name.endsWith(".tmp.stopped"));

        // Beside it, the archive folders of two other installations: one removed since, one still there.
        Path removed = Files.createDirectories(folder.resolveSibling("cds-1"));
        Files.writeString(removed.resolve("installation"), dir.resolve("removed") + "\n");
        Files.write(removed.resolve("buildhook-serve-java17.0.0-1-3.jsa"), new byte[3]);
        Path kept = Files.createDirectories(folder.resolveSibling("cds-2"));
        Path other = Files.createDirectories(dir.resolve("other/bin"));
        Files.writeString(other.resolve("buildhook"), "");
        Files.writeString(kept.resolve("installation"), other.getParent() + "\n");
        Files.write(kept.resolve("buildhook-serve-java17.0.0-2-3.jsa"), new byte[3]);

        serve(serveWithoutTheVariable(userHome));
        assertThat(mappedArchivesIn(folder)).hasSize(1);
        assertThat(stopGracefully()).isEqualTo(143);
        assertThat(files(folder)).hasSize(2).contains("installation").anyMatch(name -> name.endsWith(".jsa"));
        assertThat(Files.readString(folder.resolve("installation"))).isEqualTo(home + "\n");
        assertThat(removed).as("the archives of a removed installation").doesNotExist();
        assertThat(files(kept)).hasSize(2);
        deleteAll(kept);
        delete(kept);

        // XDG_CACHE_HOME, absolute, is the cache folder; a relative one is not (the spec): HOME's then.
        Path xdg = dir.resolve("xdg");
        ProcessBuilder withXdg = serveWithoutTheVariable(userHome);
        withXdg.environment().put("XDG_CACHE_HOME", xdg.toString());
        serve(withXdg);
        assertThat(stopGracefully()).isEqualTo(143);
        assertThat(files(Tarball.defaultArchiveFolder(xdg))).hasSize(3);
        ProcessBuilder relative = serveWithoutTheVariable(userHome);
        relative.environment().put("XDG_CACHE_HOME", "cache");
        serve(relative);
        assertThat(mappedArchivesIn(folder)).hasSize(1);
        assertThat(stopGracefully()).isEqualTo(143);
        assertThat(work.resolve("cache/buildhook")).as("relative XDG_CACHE_HOME not used").doesNotExist();
        assertThat(installFiles()).isEqualTo(before);
    }

    /**
     * BUILDHOOK_CDS_DIR set empty turns the archive off, silently, as before; without HOME and XDG_CACHE_HOME
     * there is no cache folder and no word; a cache folder that cannot be made is named in one line and the
     * server starts as without.
     */
    @Test
    void theArchiveIsOffWithAnEmptyVariableOrWithoutACacheFolderAndOneLineSaysWhyItCannotBeMade() throws Exception {
        Path userHome = Files.createDirectories(dir.resolve("home"));
        ProcessBuilder off = serveWithoutTheVariable(userHome);
        off.environment().put("BUILDHOOK_CDS_DIR", "");
        serve(off);
        assertThat(stopGracefully()).isEqualTo(143);
        assertThat(userHome).isEmptyDirectory();

        serve(serveWithoutTheVariable(null));
        assertThat(mappedArchives()).isEmpty();
        assertThat(stopGracefully()).isEqualTo(143);
        assertThat(files(work)).noneMatch(name -> name.contains("cache"));

        // HOME is a file (as root, permissions would not refuse the folder): .cache cannot be made under it.
        Path notAFolder = Files.writeString(dir.resolve("home-file"), "");
        serve(serveWithoutTheVariable(notAFolder));
        assertThat(serverOutput.stream().filter(l -> l.contains("class-data archive")))
                .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .startsWith("buildhook: class-data archive: cannot make the folder '" + notAFolder + "/.cache/buildhook/cds-")
                .contains("starting without one").contains("BUILDHOOK_CDS_DIR= turns it off");
        assertThat(server.toHandle().destroy()).isTrue();
        assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).isEqualTo(143);
    }

    @Test
    void aTruncatedGarbageOrForeignArchiveIsSurvivedSilentlyAndReplaced() throws Exception {
        Path archive = archiveMade();
        byte[] good = Files.readAllBytes(archive);

        // Truncated (a full disk during a copy, say): the same name, half the bytes. Mapping it would
        // end the JVM with SIGBUS; the launcher sees the size differs from the name's and makes a new one.
        Files.write(archive, Arrays.copyOf(good, good.length / 2));
        serve(cache);
        assertThat(mappedArchives()).isEmpty();
        assertThat(stopGracefully()).isEqualTo(143);

        // Garbage of the right size under the right name.
        deleteAll(cache);
        byte[] garbage = new byte[good.length];
        new java.util.Random(17).nextBytes(garbage);
        Files.write(archive, garbage);
        serve(cache);
        assertThat(mappedArchives()).isEmpty();
        assertThat(stopGracefully()).isEqualTo(143);

        // Another JDK's archive under this one's name: the JVM refuses it, silently, and starts without.
        Path java25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
        assumeThat(Files.isExecutable(java25)).as("a second JDK").isTrue();
        deleteAll(cache);
        Path foreign = dir.resolve("foreign.jsa");
        Process dump = new ProcessBuilder(java25.toString(), "-XX:ArchiveClassesAtExit=" + foreign, "-Xlog:cds*=off",
                "-cp", home.resolve("lib") + "/*", "org.buildhook.distribution.Main", "--version")
                .redirectErrorStream(true).redirectOutput(dir.resolve("dump.out").toFile()).start();
        assertThat(dump.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String sizeOfForeign = String.valueOf(Files.size(foreign));
        Path underOurName = cache.resolve(archive.getFileName().toString().replaceAll("-[0-9]+\\.jsa$",
                "-" + sizeOfForeign + ".jsa"));
        Files.copy(foreign, underOurName);
        serve(cache);
        assertThat(stopGracefully()).isEqualTo(143);
    }

    /**
     * The JVM writes the archive at any exit, also that of a start that fails at once (a configuration
     * mistake): that archive holds only the classes of the failed start, so it is not kept (no stop
     * signal, no mark), and the output is what it is without the archive.
     */
    @Test
    void theArchiveOfAStartThatFailedIsNotKept() throws Exception {
        String missing = work.resolve("missing.yaml").toString();
        String without = output(buildhook(null, "serve", "--config", missing));
        String with = output(buildhook(cache.toString(), "serve", "--config", missing));

        assertThat(with).isEqualTo(without).doesNotStartWith("exit 0");
        assertThat(files(cache)).noneMatch(name -> name.endsWith(".stopped"));
        serve(cache);
        assertThat(mappedArchives()).isEmpty();
        assertThat(stopGracefully()).isEqualTo(143);
        serve(cache);
        assertThat(mappedArchives()).hasSize(1);
        assertThat(stopGracefully()).isEqualTo(143);
    }

    /**
     * A server killed before its stop (kill -9, the OOM killer) leaves the 128 MB its start set aside for the archive,
     * with no archive in it; each later start set aside 128 MB more beside it, so a service restarted after every crash
     * filled the folder's disk until 256 MB were left (tryout55). The next start removes a dead server's.
     */
    @Test
    void whatAServerKilledBeforeItsStopSetAsideIsRemovedByTheNextStart() throws Exception {
        serve(cache);
        long killed = server.pid();
        server.destroyForcibly();
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(files(cache)).as("left by the kill").anyMatch(name -> name.endsWith("." + killed + ".tmp"));

        serve(cache);
        long running = server.pid();
        assertThat(files(cache)).noneMatch(name -> name.contains("." + killed + ".tmp"))
                .anyMatch(name -> name.endsWith("." + running + ".tmp"));
        assertThat(stopGracefully()).isEqualTo(143);
        serve(cache);
        assertThat(mappedArchives()).as("the archive of the graceful stop").hasSize(1);
        assertThat(stopGracefully()).isEqualTo(143);
    }

    @Test
    void cliCommandsPrintExactlyWhatTheyPrintWithoutTheArchiveAndWriteNoArchive() throws Exception {
        Files.writeString(work.resolve("rules.yaml"), "rules:\n  - name: a\n    run:\n      comand: [/bin/true]\n");
        for (String[] command : List.of(new String[] {"--version"}, new String[] {"check"},
                new String[] {"check", "--rules", "rules.yaml"}, new String[] {"jobs", "--url", "http://127.0.0.1:9/"},
                new String[] {"--help"})) {
            String without = output(buildhook(null, command));
            String with = output(buildhook(cache.toString(), command));
            assertThat(with).as(String.join(" ", command)).isEqualTo(without);
        }
        assertThat(cache).isEmptyDirectory();
    }

    /**
     * The commands but {@code serve} (tryout49 F4: each cost seconds of a loaded host) map the archive {@code serve}
     * wrote, read only: they print exactly what they print without it, write nothing into the folder, and load their
     * classes shared with the server from it. Not an archive in a folder group or others may write in (someone other
     * than this user could have put code there), nor one they may write to.
     */
    @Test
    void otherCommandsMapTheServersArchiveOnlyFromAFolderNoOtherUserMayWrite() throws Exception {
        Path archive = archiveMade();
        List<String> inCache = files(cache);
        for (String[] command : List.of(new String[] {"--version"}, new String[] {"check"},
                new String[] {"jobs", "--url", "http://127.0.0.1:9/"})) {
            String without = output(buildhook(null, command));
            assertThat(output(buildhook(cache.toString(), command))).as(String.join(" ", command)).isEqualTo(without);
            assertThat(classesFromTheArchive(command)).as(String.join(" ", command)).isGreaterThan(100);
        }
        assertThat(files(cache)).isEqualTo(inCache);

        assertThat(run("chmod", "g+w", cache.toString())).isZero();
        assertThat(classesFromTheArchive("--version")).as("group-writable folder").isZero();
        assertThat(run("chmod", "g-w", cache.toString())).isZero();
        assertThat(run("chmod", "o+w", archive.toString())).isZero();
        assertThat(classesFromTheArchive("--version")).as("archive writable by others").isZero();
        assertThat(run("chmod", "o-w", archive.toString())).isZero();
        assertThat(classesFromTheArchive("--version")).isGreaterThan(100);
        assertThat(files(cache)).isEqualTo(inCache);
    }

    /** How many classes {@code bin/buildhook ARGS} (BUILDHOOK_CDS_DIR {@link #cache}) loaded from buildhook's archive. */
    long classesFromTheArchive(String... args) throws Exception {
        Path log = dir.resolve("class-load.log");
        Files.deleteIfExists(log);
        ProcessBuilder pb = buildhook(cache.toString(), args);
        pb.environment().put("JAVA_OPTS", "-Xlog:class+load=info:file=" + log);
        output(pb);
        try (Stream<String> lines = Files.lines(log)) {
            // The JDK's own archive is "shared objects file", a dynamic archive on top of it "(top)".
            return lines.filter(l -> l.contains("source: shared objects file (top)")).count();
        }
    }

    @Test
    void aFolderThatIsNotThereOrHasNoRoomIsNamedOnceAndTheServerRunsAsWithout() throws Exception {
        serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
        server = buildhook(dir.resolve("missing").toString(), "serve", "--port", "0", "--host", "127.0.0.1").start();
        ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
        assertThat(serverOutput).anyMatch(l -> l.startsWith("buildhook: BUILDHOOK_CDS_DIR: '" + dir.resolve("missing")
                + "' is not a folder; starting without a class-data archive"));
        server.destroy();
        assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).isEqualTo(143);
    }

    /**
     * A folder that fills up while the server runs: the launcher set 128 MB aside at the start, so the
     * dump at the stop still has its room and the stop keeps its exit status (a failed dump would end
     * the JVM with 1). Needs a small tmpfs, so root (CI runs as root); skipped otherwise.
     */
    @Test
    void aFolderThatFillsUpWhileServingDoesNotChangeTheStopsExitStatus() throws Exception {
        Path small = Files.createDirectories(dir.resolve("small"));
        assumeThat(run("mount", "-t", "tmpfs", "-o", "size=300m", "tmpfs", small.toString())).as("mount a tmpfs").isZero();
        try {
            serve(small);
            // Fill what is left.
            Process fill = new ProcessBuilder("dd", "if=/dev/zero", "of=" + small.resolve("filler"), "bs=1M")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("dd.out").toFile()).start();
            assertThat(fill.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(dir.resolve("dd.out"))).contains("No space left");
            assertThat(stopGracefully()).isEqualTo(143);
            assertThat(files(small)).anyMatch(name -> name.endsWith(".tmp"));
            delete(small.resolve("filler"));

            serve(small);
            assertThat(mappedArchivesIn(small)).hasSize(1);
            assertThat(stopGracefully()).isEqualTo(143);

            // Full from the start (less than 256 MB free): no dump is tried, one line says so.
            deleteAll(small);
            Files.write(small.resolve("filler"), new byte[100 * 1024 * 1024]);
            serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
            server = buildhook(small.toString(), "serve", "--port", "0", "--host", "127.0.0.1").start();
            ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
            assertThat(serverOutput).anyMatch(l -> l.contains("has less than 256 MB free; starting without"));
            server.destroy();
            assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(server.exitValue()).isEqualTo(143);
            assertThat(files(small)).containsExactly("filler");
        } finally {
            if (server != null && server.isAlive()) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            run("umount", small.toString());
        }
    }

    /**
     * The archive's folder removed while the server runs: the JVM's dump at the stop fails, which ended a
     * clean stop with status 1 and the JVM's own two lines (cds17 F2's residual; systemd: a failed stop).
     * Now the stop keeps its status (143), one WARN says why no archive was written, and the next start runs
     * without one, saying why.
     */
    @Test
    void aFolderRemovedWhileServingKeepsTheStopsExitStatusAndSaysWhyOnce() throws Exception {
        Path gone = Files.createDirectories(dir.resolve("gone"));
        // A java.io.tmpdir of its own, to see what the stop leaves there (review20 R4).
        Path tmp = Files.createDirectories(dir.resolve("java-tmp"));
        serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
        ProcessBuilder pb = buildhook(gone.toString(), "serve", "--port", "0", "--host", "127.0.0.1");
        pb.environment().put("JAVA_OPTS", "-Djava.io.tmpdir=" + tmp);
        server = pb.start();
        ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
        assertThat(files(gone)).anyMatch(name -> name.endsWith(".tmp"));
        assertThat(files(tmp)).as("sqlite-jdbc's unpacked library").anyMatch(name -> name.endsWith("libsqlitejdbc.so"));
        deleteAll(gone);
        delete(gone);

        assertThat(stopAndSayWhy(gone)).isEqualTo(143);
        // The stop ends without the JVM's exit (ExitArchive), which would delete the files registered with
        // File.deleteOnExit: sqlite-jdbc's library and its .lck stayed at every such stop, and sqlite-jdbc's
        // own clean-up keeps a library whose .lck is there.
        assertThat(files(tmp)).as("left in java.io.tmpdir").isEmpty();

        serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
        server = buildhook(gone.toString(), "serve", "--port", "0", "--host", "127.0.0.1").start();
        ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
        assertThat(serverOutput).anyMatch(l -> l.startsWith("buildhook: BUILDHOOK_CDS_DIR: '" + gone
                + "' is not a folder; starting without a class-data archive"));
        server.destroy();
        assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(server.exitValue()).isEqualTo(143);
    }

    /**
     * As above, for a folder whose file system is remounted read-only while the server runs (after I/O
     * errors, say). Needs a tmpfs, so root: fails, not skips, under CI=true when it cannot mount one.
     */
    @Test
    void aFolderRemountedReadOnlyWhileServingKeepsTheStopsExitStatusAndSaysWhyOnce() throws Exception {
        Path small = Files.createDirectories(dir.resolve("readonly"));
        int mounted = run("mount", "-t", "tmpfs", "-o", "size=300m", "tmpfs", small.toString());
        if (mounted != 0 && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("cannot mount a tmpfs on " + small + " (needs root): this test must run in CI");
        }
        assumeThat(mounted).as("mount a tmpfs").isZero();
        boolean readOnly = false;
        try {
            serve(small);
            // The running JVM holds its dump log open for writing there, so 'remount,ro' would be refused
            // (busy): a read-only bind of the folder over itself, which every new open goes through.
            assertThat(run("mount", "--bind", "-o", "ro", small.toString(), small.toString())).isZero();
            readOnly = true;
            assertThat(run("sh", "-c", "touch '" + small + "/x'")).as("read-only now").isNotZero();

            assertThat(stopAndSayWhy(small)).isEqualTo(143);

            serverOutput = new java.util.concurrent.CopyOnWriteArrayList<>();
            server = buildhook(small.toString(), "serve", "--port", "0", "--host", "127.0.0.1").start();
            ServeOutput.awaitListening(server, serverOutput, "cds-it-server-output");
            assertThat(serverOutput).anyMatch(l -> l.startsWith("buildhook: BUILDHOOK_CDS_DIR: '" + small
                    + "' is not writable; starting without a class-data archive"));
            server.destroy();
            assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(server.exitValue()).isEqualTo(143);
        } finally {
            if (server != null && server.isAlive()) {
                server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            if (readOnly) {
                run("umount", small.toString());
            }
            run("umount", small.toString());
        }
    }

    /** SIGTERM to a server whose archive cannot be written: its exit status, once it said why, once. */
    int stopAndSayWhy(Path folder) throws Exception {
        // SIGTERM through the handle: Process.destroy() also closes the server's output, and with it the
        // lines this reads (GracefulStopIT).
        assertThat(server.toHandle().destroy()).isTrue();
        assertThat(server.waitFor(120, TimeUnit.SECONDS)).as("stopped").isTrue();
        ServeOutput.awaitEnd(server);
        if (serverOutput.stream().noneMatch(l -> l.contains("no class-data archive written"))) {
            throw new AssertionError("exit " + server.exitValue() + ", no line says why no archive was written:\n"
                    + String.join("\n", serverOutput));
        }
        String output = String.join("\n", serverOutput);
        assertThat(serverOutput.stream().filter(l -> l.contains("no class-data archive written")))
                .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .contains("WARN").contains(folder + "/buildhook-serve-java")
                .contains("the server stopped cleanly, and the next start runs without an archive");
        assertThat(output).doesNotContain("shared archive").doesNotContain("Exception");
        return server.exitValue();
    }

    List<String> mappedArchivesIn(Path folder) throws IOException {
        try (Stream<String> maps = Files.lines(Path.of("/proc/" + server.pid() + "/maps"))) {
            return maps.filter(l -> l.endsWith(".jsa") && l.contains(folder.toString())).distinct().toList();
        }
    }

    List<String> installFiles() throws IOException {
        try (Stream<Path> all = Files.walk(home)) {
            return all.map(p -> p + " " + p.toFile().length() + " " + p.toFile().lastModified()).sorted().toList();
        }
    }

    static String output(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return "exit " + p.exitValue() + "\n" + out;
    }

    static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    static void deleteAll(Path folder) throws IOException {
        try (Stream<Path> list = Files.list(folder)) {
            list.forEach(ClassDataArchiveIT::delete);
        }
    }

    static void delete(Path p) {
        try {
            Files.delete(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
