package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code serve} processes on one SQLite data folder: the second refuses to start, naming the
 * first and what to do; after {@code kill -9} of the first, the lock is gone with it and a new
 * server starts on the same folder.
 */
class OneServerPerDatabaseTest {

    @TempDir
    Path dir;
    ServeProcesses processes;

    @BeforeEach
    void processes() {
        processes = new ServeProcesses(dir);
    }

    @AfterEach
    void killAll() throws InterruptedException {
        processes.close();
    }

    @Test
    void aSecondServeOnTheSameSqliteDataFolderIsRefusedAndAKilledOneLeavesNoLockBehind() throws Exception {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nserver: {host: 127.0.0.1, port: 0}\n");

        Process first = serve(config, dir.resolve("first.out"));
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("first.out"), "buildhook listening on"));

        Process second = serve(config, dir.resolve("second.out"));
        assertThat(second.waitFor(2, TimeUnit.MINUTES)).as("the second serve ends by itself").isTrue();
        String output = Files.readString(dir.resolve("second.out"));
        assertThat(second.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
        String refusal = output.lines().filter(l -> l.startsWith("buildhook: cannot start")).findFirst().orElse(output);
        assertThat(refusal).contains("another buildhook (pid " + first.pid() + " on ")
                .contains("is already serving the SQLite database " + dir.resolve("data/buildhook.db"))
                .contains("stop that one first").contains("PostgreSQL").doesNotContain("Exception");
        assertThat(first.isAlive()).isTrue();

        first.destroyForcibly().waitFor();
        Process third = serve(config, dir.resolve("third.out"));
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("third.out"), "buildhook listening on"));
        assertThat(third.isAlive()).isTrue();
    }

    /**
     * Two servers whose configurations give each a data folder of its own but one SQLite database
     * ({@code store.url}) by mistake (tryout14 F8). At once, the second is refused, and the refusal
     * says what is wrong — the two data folders on the one database — and what to do: a database of
     * its own (store.url), not "another data-dir", which it has. One after the other (a data folder
     * moved on purpose would do the same, so it is not refused), the second warns that the database
     * was last served with the other data folder, where the files of what ran then stay.
     */
    @Test
    void twoServersWithDataFoldersOfTheirOwnOnOneSqliteDatabaseAreToldTheFoldersAndTheDatabase() throws Exception {
        Path a = Files.writeString(dir.resolve("a.yaml"), "data-dir: a\n"
                + "store: {url: 'jdbc:sqlite:shared/buildhook.db'}\n"
                + "server: {host: 127.0.0.1, port: 0}\n");
        Path b = Files.writeString(dir.resolve("b.yaml"), "data-dir: b\n"
                + "store: {url: 'jdbc:sqlite:shared/buildhook.db'}\n"
                + "server: {host: 127.0.0.1, port: 0}\n");
        Path database = dir.resolve("shared/buildhook.db");

        Process first = serve(a, dir.resolve("a.out"));
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("a.out"), "buildhook listening on"));
        Process second = serve(b, dir.resolve("b.out"));
        assertThat(second.waitFor(2, TimeUnit.MINUTES)).as("the second serve ends by itself").isTrue();
        String output = Files.readString(dir.resolve("b.out"));
        assertThat(second.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
        String refusal = output.lines().filter(l -> l.startsWith("buildhook: cannot start")).findFirst().orElse(output);
        assertThat(refusal).contains("another buildhook (pid " + first.pid() + " on ")
                .contains("with data-dir " + dir.resolve("a") + ", is already serving the SQLite database " + database)
                .contains("this one's data-dir is " + dir.resolve("b"))
                .contains("two data folders on one database").contains("give this one a database of its own (store.url")
                .doesNotContain("give this one another data-dir").doesNotContain("Exception");

        first.destroyForcibly().waitFor();
        Process third = serve(b, dir.resolve("b-again.out"));
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("b-again.out"), "buildhook listening on"));
        String warning = Files.readString(dir.resolve("b-again.out")).lines()
                .filter(l -> l.contains("was last served by a buildhook with data-dir")).findFirst().orElse("");
        assertThat(warning).as(Files.readString(dir.resolve("b-again.out")))
                .contains("WARN").contains("the SQLite database " + database + " was last served by a buildhook with"
                        + " data-dir " + dir.resolve("a") + " (pid " + first.pid() + " on ")
                .contains("this one's data-dir is " + dir.resolve("b"))
                .contains("give each its own database (store.url)");
        assertThat(third.isAlive()).isTrue();
    }

    /**
     * chaos15 F4: a second server given a hard link to the first one's database was not refused (the lock
     * file is named after the path), and the two would each have written through a write-ahead log of their
     * own. The database file itself is locked now: the second is refused, naming the first.
     */
    @Test
    void aSecondServeOnAHardLinkToTheSameSqliteDatabaseIsRefused() throws Exception {
        Path a = Files.writeString(dir.resolve("a.yaml"), "data-dir: a\nserver: {host: 127.0.0.1, port: 0}\n");
        Path b = Files.writeString(dir.resolve("b.yaml"), "data-dir: b\n"
                + "store: {url: 'jdbc:sqlite:b/alias.db'}\n"
                + "server: {host: 127.0.0.1, port: 0}\n");

        Process first = serve(a, dir.resolve("a.out"));
        await().atMost(Duration.ofMinutes(2)).until(() -> printed(dir.resolve("a.out"), "buildhook listening on"));
        Files.createDirectories(dir.resolve("b"));
        Path alias = Files.createLink(dir.resolve("b/alias.db"), dir.resolve("a/buildhook.db"));
        Process second = serve(b, dir.resolve("b.out"));
        assertThat(second.waitFor(2, TimeUnit.MINUTES)).as("the second serve ends by itself").isTrue();
        String output = Files.readString(dir.resolve("b.out"));
        assertThat(second.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
        String refusal = output.lines().filter(l -> l.startsWith("buildhook: cannot start")).findFirst().orElse(output);
        assertThat(refusal).contains("another buildhook (pid " + first.pid() + " on this host)")
                .contains("is already serving the SQLite database " + alias + " under another name of the same file")
                .contains("stop that one first").contains("PostgreSQL").doesNotContain("Exception");
        assertThat(dir.resolve("b/alias.db-wal")).as("the second never opened the database").doesNotExist();
        assertThat(first.isAlive()).isTrue();
    }

    private Process serve(Path config, Path out) throws IOException {
        return processes.serve(config, out);
    }

    private static boolean printed(Path out, String text) throws IOException {
        return ServeProcesses.printed(out, text);
    }
}
