package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every SQLite backup command the docs give ({@code sqlite3 … .backup …}, in a code span) runs as
 * written, with {@code sh}, against a real database and makes a copy of it. tryout18: the upgrade
 * steps said {@code sqlite3 buildhook.db .backup copy.db}, which the shell splits so that
 * {@code sqlite3} gets {@code .backup} without its file name: "missing FILENAME argument on
 * .backup", exit status 1, and no backup before the migration an older build cannot undo.
 */
class DocumentedBackupCommandsTest {

    private static final Pattern FENCED = Pattern.compile("(?s)```.*?```");
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`]*)`");

    @Test
    void everyDocumentedSqliteBackupCommandMakesACopy(@TempDir Path folder) throws Exception {
        assumeThat(sqlite3()).as("sqlite3 on PATH").isTrue();
        List<String> commands = backupCommands();
        assertThat(commands).as("sqlite3 backup commands in README.md and docs/").isNotEmpty();
        List<String> failed = new ArrayList<>();
        for (String command : commands) {
            Path dir = Files.createTempDirectory(folder, "backup");
            run(dir, "sqlite3 buildhook.db 'CREATE TABLE t (x); INSERT INTO t VALUES (42);'");
            Result result = run(dir, command);
            List<Path> copies;
            try (Stream<Path> files = Files.list(dir)) {
                copies = files.filter(p -> p.getFileName().toString().endsWith(".db"))
                        .filter(p -> !p.getFileName().toString().equals("buildhook.db")).toList();
            }
            String copied = copies.size() == 1 ? run(dir, "sqlite3 " + copies.get(0).getFileName()
                    + " 'SELECT x FROM t'").output.strip() : "";
            if (result.status != 0 || !copied.equals("42")) {
                failed.add(command + " -> exit " + result.status + ", copies " + copies + ": " + result.output.strip());
            }
        }
        assertThat(failed).as("documented backup commands that make no copy").isEmpty();
    }

    /**
     * drill35 F3: a backup restored over the data folder of a server that was killed (kill -9, a crash, a power loss)
     * with {@code cp} is undone: the server left {@code buildhook.db-wal}, which SQLite applies to whatever file is
     * named {@code buildhook.db} next, so the killed server's state comes back (or, the file checkpointed in part, a
     * corrupt mix). storage.md gave only "restore into an empty data folder". Every documented SQLite restore command
     * ({@code sqlite3 … .restore …}) runs as written over such a folder and leaves the backup's content.
     */
    @Test
    void everyDocumentedSqliteRestoreCommandRestoresOverAKilledServersWriteAheadLog(@TempDir Path folder)
            throws Exception {
        assumeThat(sqlite3()).as("sqlite3 on PATH").isTrue();
        List<String> commands = commands(".restore");
        assertThat(commands).as("sqlite3 restore commands in README.md and docs/").isNotEmpty();
        Path plain = Files.createTempDirectory(folder, "cp");
        killedServersFolder(plain);
        run(plain, "cp backup.db buildhook.db");
        assertThat(run(plain, "sqlite3 buildhook.db 'SELECT x FROM t'").output.strip())
                .as("a cp over a folder with a write-ahead log left is undone").isEqualTo("1");
        List<String> failed = new ArrayList<>();
        for (String command : commands) {
            Path dir = Files.createTempDirectory(folder, "restore");
            killedServersFolder(dir);
            Result result = run(dir, command);
            String read = run(dir, "sqlite3 buildhook.db 'SELECT x FROM t'").output.strip();
            if (result.status != 0 || !read.equals("42")) {
                failed.add(command + " -> exit " + result.status + ", reads " + read + ": " + result.output.strip());
            }
        }
        assertThat(failed).as("documented restore commands that do not restore").isEmpty();
    }

    /**
     * tryout58 F6: the documented backup, sqlite3's {@code .backup}, never ended while the server kept committing (a
     * delivery every half second on a store of 325 MB): SQLite's online backup starts over whenever another connection
     * writes the source between two of its steps, with no error. Every documented SQLite backup command ends, with a
     * whole copy, while another connection commits without pause (as a busy server does); the bound is only there to
     * end a command that would never end.
     */
    @Test
    void everyDocumentedSqliteBackupCommandEndsWhileTheServerKeepsCommitting(@TempDir Path folder) throws Exception {
        assumeThat(sqlite3()).as("sqlite3 on PATH").isTrue();
        List<String> commands = backupCommands();
        assertThat(commands).as("sqlite3 backup commands in README.md and docs/").isNotEmpty();
        List<String> failed = new ArrayList<>();
        for (String command : commands) {
            Path dir = Files.createTempDirectory(folder, "busy");
            String db = "jdbc:sqlite:" + dir.resolve("buildhook.db");
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(db);
                    java.sql.Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("CREATE TABLE t (x INTEGER, pad TEXT)");
                // About 40 MB: some 10,000 pages, 100 steps of sqlite3's .backup, each a chance for a commit between.
                s.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)"
                        + " INSERT INTO t SELECT i, hex(randomblob(500)) FROM n");
            }
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = new Thread(() -> {
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(db);
                        java.sql.Statement s = c.createStatement()) {
                    s.execute("PRAGMA busy_timeout=10000");
                    while (!stop.get()) {
                        s.execute("INSERT INTO t VALUES (-1, 'a delivery')");
                        commits.incrementAndGet();
                    }
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, "busy-server");
            writer.start();
            await().atMost(java.time.Duration.ofMinutes(1)).until(() -> commits.get() >= 10); // committing already
            Process p = new ProcessBuilder("sh", "-c", command).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            boolean ended;
            String output;
            try {
                ended = p.waitFor(2, TimeUnit.MINUTES);
                output = ended ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip() : "";
            } finally {
                p.destroyForcibly();
                stop.set(true);
                writer.join();
            }
            assertThat(commits.get()).as("the server committed while " + command + " ran").isPositive();
            Path copy = dir.resolve(command.contains("copy.db") ? "copy.db" : "backup.db");
            String rows = ended && Files.exists(copy) ? run(dir, "sqlite3 " + copy.getFileName()
                    + " 'PRAGMA integrity_check; SELECT count(*) >= 40000 FROM t'").output.strip() : "";
            if (!ended || p.exitValue() != 0 || !rows.equals("ok\n1")) {
                failed.add(command + " -> " + (ended ? "exit " + p.exitValue() + ", reads " + rows : "still running after"
                        + " 2 minutes and " + commits.get() + " commits") + ": " + output);
            }
        }
        assertThat(failed).as("documented backup commands that do not end while the server commits").isEmpty();
    }

    /**
     * A data folder as a server killed while it ran leaves it: {@code buildhook.db} in WAL mode whose last commit (x = 1)
     * is only in {@code buildhook.db-wal} (copied while the writing connection is open, as a kill leaves them), and a
     * backup {@code backup.db} holding x = 42.
     */
    private static void killedServersFolder(Path dir) throws Exception {
        Path live = Files.createTempDirectory(dir.getParent(), "live");
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + live.resolve("buildhook.db"));
                java.sql.Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA wal_autocheckpoint=0");
            s.execute("CREATE TABLE t (x)");
            s.execute("INSERT INTO t VALUES (1)");
            Files.copy(live.resolve("buildhook.db"), dir.resolve("buildhook.db"));
            Files.copy(live.resolve("buildhook.db-wal"), dir.resolve("buildhook.db-wal"));
        }
        run(dir, "sqlite3 backup.db 'CREATE TABLE t (x); INSERT INTO t VALUES (42);'");
    }

    /**
     * The code spans of README.md and docs/*.md that run sqlite3's .backup, from "sqlite3" on, or whole when the span is
     * a subshell.
     */
    private static List<String> backupCommands() throws IOException {
        List<String> found = new ArrayList<>(commands(".backup"));
        found.addAll(commands("VACUUM INTO"));
        return found;
    }

    /** As {@link #backupCommands()}, for the sqlite3 dot-command {@code dot}. */
    private static List<String> commands(String dot) throws IOException {
        Path root = Docs.root();
        List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> found = new ArrayList<>();
        for (Path page : pages) {
            Matcher span = CODE_SPAN.matcher(FENCED.matcher(Files.readString(page)).replaceAll("").replace("\n", " "));
            while (span.find()) {
                String code = span.group(1);
                int at = code.indexOf("sqlite3");
                if (at >= 0 && code.contains(dot)) {
                    // A subshell, as storage.md's (umask 077 && sqlite3 …), runs whole; else from "sqlite3" on.
                    found.add(code.strip().startsWith("(") ? code.strip() : code.substring(at));
                }
            }
        }
        return found;
    }

    private static boolean sqlite3() {
        try {
            return run(Path.of("."), "command -v sqlite3").status == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private record Result(int status, String output) {
    }

    private static Result run(Path dir, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(command + " ended").isTrue();
        return new Result(p.exitValue(), output);
    }
}
