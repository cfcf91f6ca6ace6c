package org.buildhook.runner.store;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A throwaway PostgreSQL cluster of the test's own, which the test can crash as the OOM killer or a host's cut
 * would ({@code pg_ctl stop -m immediate}: every server process ends at once, nothing is flushed, the next start
 * recovers from the WAL on disk) and start again, while the node under test and its commands live on.
 *
 * <p>Made with the machine's PostgreSQL binaries ({@code /usr/lib/postgresql/<newest>/bin}, Debian's package, which
 * .ci/run installs) in a folder of its own, on a free loopback port, run as the user {@code postgres} when this JVM
 * runs as root (CI does; PostgreSQL refuses to run as root) and as this JVM's user otherwise. Its WAL writer wakes
 * only every 10 s ({@code wal_writer_delay}, its longest) and it checkpoints hourly, so a commit not flushed at its
 * {@code COMMIT} ({@code synchronous_commit = off}) is still only in the server's memory when the test crashes it
 * a moment later, and is lost: deterministically, however slow the machine.
 *
 * <p>Without the binaries the test is skipped, except with {@code CI=true}, where that is a failure.
 */
public final class CrashablePostgres implements AutoCloseable {

    private final Path bin;
    private final Path data;
    private final Path folder;
    private final int port;
    private final boolean asPostgres;

    private CrashablePostgres(Path bin, Path folder, int port, boolean asPostgres) {
        this.bin = bin;
        this.folder = folder;
        this.data = folder.resolve("data");
        this.port = port;
        this.asPostgres = asPostgres;
    }

    /**
     * Makes a new cluster and starts it.
     *
     * @return the running cluster; {@link #close()} stops it and removes its folder
     * @throws AssertionError when the binaries are missing with {@code CI=true}, or initdb or the start fails
     */
    public static CrashablePostgres start() throws IOException, InterruptedException {
        Path bin = binaries();
        boolean root = "root".equals(System.getProperty("user.name"));
        // Not a JUnit @TempDir: its mode (700, owned by root) keeps the user postgres out.
        Path folder = Files.createTempDirectory(Path.of("/tmp"), "buildhook-crashable-pg-");
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        CrashablePostgres pg = new CrashablePostgres(bin, folder, port, root);
        try {
            if (root) {
                run(List.of("chown", "postgres:postgres", folder.toString()), folder.resolve("chown.log"));
            }
            pg.asServerUser("initdb", "-D", pg.data.toString(), "-A", "trust", "-U", "postgres", "--no-sync",
                    "-E", "UTF8");
            pg.startAgain();
            return pg;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            pg.close();
            throw e;
        }
    }

    /** The JDBC URL of its database {@code postgres} (user postgres, trust), with generous logins. */
    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres" + TestStores.GENEROUS_LOGINS;
    }

    /** Starts the cluster (again, after {@link #crash()}); returns once it accepts connections. */
    public void startAgain() throws IOException, InterruptedException {
        asServerUser("pg_ctl", "-D", data.toString(), "-w", "-t", "300", "-l", folder.resolve("server.log").toString(),
                "-o", "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + folder
                        + " -c wal_writer_delay=10000ms -c checkpoint_timeout=1h"
                        + " -c max_wal_size=4GB -c fsync=on",
                "start");
    }

    /** Crashes the server: {@code pg_ctl stop -m immediate}, as an OOM kill would; returns once it is gone. */
    public void crash() throws IOException, InterruptedException {
        asServerUser("pg_ctl", "-D", data.toString(), "-w", "-t", "300", "stop", "-m", "immediate");
    }

    /** Stops the server if it runs and removes its folder. */
    @Override
    public void close() {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                asServerUser("pg_ctl", "-D", data.toString(), "-w", "-t", "300", "stop", "-m", "immediate");
            }
        } catch (IOException | InterruptedException | AssertionError e) {
            System.err.println("could not stop the throwaway PostgreSQL in " + folder + ": " + e.getMessage());
        }
        try (Stream<Path> files = Files.walk(folder)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not remove " + folder + ": " + e.getMessage());
        }
    }

    private void asServerUser(String program, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (asPostgres) {
            command.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        command.add(bin.resolve(program).toString());
        command.addAll(List.of(args));
        run(command, folder.resolve(program + ".log"));
    }

    private static void run(List<String> command, Path output) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile())).start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not end within 10 min");
        }
        if (process.exitValue() != 0) {
            String said = Files.exists(output) ? Files.readString(output, StandardCharsets.UTF_8) : "";
            throw new AssertionError(command + " exited with " + process.exitValue() + ":\n" + said);
        }
    }

    /** The newest PostgreSQL's binaries of the machine, or a skip (a failure with {@code CI=true}). */
    private static Path binaries() throws IOException {
        Path root = Path.of("/usr/lib/postgresql");
        Path found = null;
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                found = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                        .max(Comparator.comparingInt(b -> version(b.getParent().getFileName().toString())))
                        .orElse(null);
            }
        }
        if (found == null) {
            String why = "no PostgreSQL binaries (initdb, pg_ctl) under " + root + ": install Debian's package"
                    + " postgresql (.ci/run does)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        return found;
    }

    private static int version(String name) {
        try {
            return Integer.parseInt(name.replaceAll("[^0-9].*", ""));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
