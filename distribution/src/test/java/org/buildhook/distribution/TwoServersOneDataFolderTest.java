package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Servers started from one configuration on one data folder, whose {@code server-url} tells the admin commands where
 * to ask (tryout41 F5, tryout40 F2): two nodes of one PostgreSQL store, each with its own {@code --port}; the one
 * started second stopped (SIGTERM) removed the file although the first still served, and the commands then sent the
 * admin token to the configuration's address; a server killed ({@code kill -9}) left the file naming its dead port.
 * Real {@code serve} processes, real signals, the real {@code jobs} command. The PostgreSQL case needs {@code
 * BUILDHOOK_TEST_PG_URL} (skipped without it, except on CI where it fails).
 */
class TwoServersOneDataFolderTest {

    @TempDir
    Path dir;

    private ServeProcesses processes;
    private TestSchema pg;

    @AfterEach
    void stop() throws Exception {
        if (processes != null) {
            processes.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    /** The configuration: data folder {@code dir/data}, the admin token's file, {@code store} (none: SQLite). */
    private Path config(int port, String store) throws IOException {
        Files.writeString(dir.resolve("admin-token"), ServeProcesses.FOLLOW_TOKEN + "\n");
        Files.writeString(dir.resolve("webhook-secret"), "webhook-secret-for-two-servers\n");
        return Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: " + dir.resolve("data"),
                "endpoints: {default: {secrets: [{file: " + dir.resolve("webhook-secret") + "}]}}",
                "admin: {token: {file: " + dir.resolve("admin-token") + "}}",
                "server: {host: 127.0.0.1, port: " + port + "}",
                store == null ? "store: {connect-timeout: 1m}" : "store: {url: '" + store + "', connect-timeout: 1m}",
                ""));
    }

    /** What {@code buildhook jobs --config config} printed on standard error, and its exit code. */
    private record Jobs(int exit, String out, String err) {
    }

    private static Jobs jobs(Path config) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = BuildhookCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute("jobs", "--config", config.toString());
        return new Jobs(exit, out.toString(), err.toString());
    }

    /** A started server and where it listens. */
    private record Started(Process process, URI url) {
    }

    /** Starts a server ({@code --port 0}) and waits for its banner, printed once it wrote {@code server-url}. */
    private Started start(Path config, String name) throws IOException {
        Path out = dir.resolve(name + ".out");
        Process server = processes.serve(config, out, "--port", "0");
        await().atMost(Duration.ofMinutes(5)).failFast(() -> !server.isAlive())
                .until(() -> ServeProcesses.printed(out, "  config:"));
        java.util.regex.Matcher listening = ServeOutput.LISTENING.matcher(output(name));
        assertThat(listening.find()).as(output(name)).isTrue();
        return new Started(server, URI.create(listening.group(1)));
    }

    private String output(String name) throws IOException {
        return Files.readString(dir.resolve(name + ".out"), StandardCharsets.UTF_8);
    }

    @Test
    void onPostgresqlTheServerUrlNamesARunningNodeWhateverStopsOrIsKilled() throws Exception {
        pg = TestSchema.create("twonodes_");
        Path config = config(0, pg.storeUrl);
        Path data = dir.resolve("data");
        Path file = data.resolve(ServerUrlFile.NAME);
        processes = new ServeProcesses(dir);

        Started first = start(config, "one");
        URI one = first.url();
        assertThat(ServerUrlFile.read(data)).contains(one);
        Started second = start(config, "two");
        assertThat(ServerUrlFile.read(data)).contains(second.url());
        assertThat(output("two")).contains("  shared:    another server runs on this data folder, at " + one
                + ": its server-url names this server now, and that one again once this one stops");

        second.process().destroy(); // SIGTERM: a graceful stop
        assertThat(second.process().waitFor(5, TimeUnit.MINUTES)).as("the stop ended: %s", output("two")).isTrue();
        assertThat(ServerUrlFile.read(data)).as("the first node still serves").contains(one);
        Jobs asked = jobs(config);
        assertThat(asked.exit()).as(asked.err()).isEqualTo(ExitCodes.OK);
        assertThat(asked.err()).doesNotContain("server-url");

        Started third = start(config, "three");
        URI three = third.url();
        third.process().destroyForcibly().waitFor(); // kill -9: no stop, the file names its dead port
        assertThat(ServerUrlFile.read(data)).contains(three);
        asked = jobs(config);
        assertThat(asked.exit()).as(asked.err()).isEqualTo(ExitCodes.OK);
        assertThat(asked.err()).contains("[buildhook] " + file + " names " + three + ", but the server that wrote it no"
                + " longer runs (it ended without its stop, killed or crashed, and could not remove the file); asking "
                + one + ", another server of this data folder that runs");

        first.process().destroy();
        assertThat(first.process().waitFor(5, TimeUnit.MINUTES)).as("the stop ended: %s", output("one")).isTrue();
        assertThat(file).as("no server of the data folder runs").doesNotExist();
    }

    @Test
    void onSqliteASecondServerIsRefusedAndAKilledOnesFileIsNotAskedButTheConfiguredAddress() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort(); // the configuration's address, where nothing listens
        }
        Path config = config(port, null);
        Path data = dir.resolve("data");
        Path file = data.resolve(ServerUrlFile.NAME);
        processes = new ServeProcesses(dir);
        Started first = start(config, "one");
        URI one = first.url();

        Process refused = processes.serve(config, dir.resolve("refused.out"), "--port", "0");
        assertThat(refused.waitFor(2, TimeUnit.MINUTES)).as("the second serve ends by itself").isTrue();
        assertThat(refused.exitValue()).as(output("refused")).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(output("refused")).contains("is already serving the SQLite database");
        assertThat(ServerUrlFile.read(data)).as("the refused one wrote nothing").contains(one);
        assertThat(jobs(config).exit()).isEqualTo(ExitCodes.OK);

        first.process().destroyForcibly().waitFor(); // kill -9
        assertThat(ServerUrlFile.read(data)).contains(one);
        Jobs asked = jobs(config);
        URI configured = URI.create("http://127.0.0.1:" + port + "/");
        assertThat(asked.err()).contains("[buildhook] " + file + " names " + one + ", but the server that wrote it no"
                + " longer runs (it ended without its stop, killed or crashed, and could not remove the file), and no"
                + " other server of this data folder runs: asking the configuration's address " + configured
                + " instead").contains("cannot reach " + configured);
        assertThat(asked.exit()).isEqualTo(ExitCodes.UNAVAILABLE);

        URI again = start(config, "again").url();
        assertThat(ServerUrlFile.read(data)).contains(again);
        asked = jobs(config);
        assertThat(asked.exit()).as(asked.err()).isEqualTo(ExitCodes.OK);
        assertThat(asked.err()).doesNotContain("server-url");
        assertThat(output("again")).doesNotContain("shared:");
        try (Stream<Path> left = Files.list(data.resolve(ServerUrlFile.SERVERS))) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")))
                    .as("the killed one's file removed by the next start").hasSize(1);
        }
    }
}
