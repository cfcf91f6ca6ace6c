package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code serve} on the default SQLite store whose first connection the host holds back (store41): on a loaded host
 * (load 30-45 on two CPUs) the start ended with "cannot start: store unavailable while trying to look for
 * schema_version: buildhook-store - Connection is not available, request timed out after 5037ms (total=0, active=0,
 * idle=0, waiting=0)", exit 3: a new JVM's first SQLite connection loads the driver and extracts and loads its native
 * library, a fraction of a second of CPU that such a host stretches past the default {@code store.connect-timeout}.
 *
 * <p>Made deterministic: the server is given a place to load the native library from ({@code org.sqlite.lib.path},
 * sqlite-jdbc's own property) that is a FIFO, whose opening waits until this test opens it too. That is the moment
 * the first connection loads the library: the test then puts a CPU quota of 1 % on the server (a cgroup of its own)
 * and lets the load go on (it finds nothing there and extracts the library as usual), and lifts the quota once the
 * server said it waits. Real processes; needs root's cgroup v1 cpu controller (skipped without it).
 */
class SqliteFirstConnectionStarvedTest {

    @TempDir
    Path dir;
    private ServeProcesses processes;
    private CpuQuotaCgroup cgroup;
    private final AtomicBoolean feeding = new AtomicBoolean(true);
    private Thread feeder;

    @BeforeEach
    void processes() {
        processes = new ServeProcesses(dir);
    }

    @AfterEach
    void close() throws Exception {
        feeding.set(false);
        if (cgroup != null) {
            cgroup.quota(-1);
        }
        processes.close();
        if (feeder != null && feeder.isAlive()) {
            // Its open of the FIFO waits for a reader: this one (read and write, which does not wait itself).
            new java.io.RandomAccessFile(dir.resolve("lib/libsqlitejdbc.so").toFile(), "rw").close();
        }
        if (cgroup != null) {
            cgroup.close();
        }
    }

    private Path config(String store) throws IOException {
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-first-connection-test\n");
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints: {default: {secrets: [{file: webhook-secret}]}}",
                "server: {host: 127.0.0.1, port: 0}",
                "store: {" + store + "}",
                ""));
    }

    @Test
    void aStartWhoseFirstSqliteConnectionTheHostHoldsBackWaitsForItAndStarts() throws Exception {
        cgroup = CpuQuotaCgroup.create();
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Path fifo = lib.resolve("libsqlitejdbc.so");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
        assertThat(mkfifo.waitFor(1, TimeUnit.MINUTES) && mkfifo.exitValue() == 0).as("mkfifo " + fifo).isTrue();
        Path out = dir.resolve("serve.out");
        Process serve = processes.serve(config("connect-timeout: 2s"), out,
                Map.of("JAVA_TOOL_OPTIONS", "-Dorg.sqlite.lib.path=" + lib + " -Dorg.sqlite.lib.name=libsqlitejdbc.so"));
        cgroup.add(serve.pid());
        // Each open of the FIFO by the server (the driver's load, and the JVM's look at why it failed) waits for a
        // writer: this one, which finds nothing to write. The first starves the server from then on.
        feeder = new Thread(() -> {
            boolean first = true;
            while (feeding.get()) {
                try (OutputStream o = Files.newOutputStream(fifo)) {
                    if (first) {
                        cgroup.quota(1000);
                        first = false;
                    }
                } catch (IOException | RuntimeException e) {
                    return;
                }
            }
        }, "fifo-feeder");
        feeder.setDaemon(true);
        feeder.start();

        // Bounds for a hung test only: with 1 % of a CPU the server needs seconds for a log line.
        await().atMost(Duration.ofMinutes(5)).until(() -> !serve.isAlive() || log(out).contains("held this process back"));
        cgroup.quota(-1);
        feeding.set(false);
        ServeProcesses.awaitUrl(serve, dir.resolve("data"));

        String log = log(out);
        assertThat(log).contains("the SQLite store's first connection (" + dir.resolve("data/buildhook.db")
                        + ") was not made within store.connect-timeout (2s), and this host held this process back"
                        + " meanwhile: this process got")
                .containsPattern("its CPU quota held it back for [0-9.]+ s")
                .contains("the SQLite store's first connection was made after")
                .doesNotContain("cannot start").doesNotContain("Connection is not available");
    }

    /** SQLite's refusal of a file that is not a database: at once, in one line, with the file and what to check. */
    @Test
    void aStartOnAFileThatIsNotADatabaseSaysSoAtOnceWithTheFileAndWhatToCheck() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path db = Files.writeString(data.resolve("buildhook.db"), "not a database, but long enough to be read: ".repeat(100));
        Path out = dir.resolve("serve.out");
        // A key a start could not wait out: the refusal must not wait for it.
        Process serve = processes.serve(config("connect-timeout: 10m"), out);

        assertThat(serve.waitFor(5, TimeUnit.MINUTES)).as("the refused start ends by itself, long before the key").isTrue();
        String log = log(out);
        assertThat(serve.exitValue()).as(log).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(log.lines().filter(l -> l.startsWith("buildhook: cannot start: "))).as(log).singleElement().asString()
                .startsWith("buildhook: cannot start: cannot open the SQLite store " + db + ": [SQLITE_NOTADB]")
                .contains("check that store.url (or data-dir) names buildhook's database, or restore the database from"
                        + " a backup")
                .doesNotContain("Connection is not available");
        assertThat(log).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private static String log(Path out) throws IOException {
        return Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
    }
}
