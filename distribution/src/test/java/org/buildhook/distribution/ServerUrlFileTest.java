package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file that tells the admin commands where the server listens is written also when nothing else
 * has made the data folder yet (a PostgreSQL store: no database file there; a first start).
 */
class ServerUrlFileTest {

    @TempDir
    Path dir;

    @Test
    void isWrittenIntoADataFolderThatDoesNotExistYet() {
        Path data = dir.resolve("data");
        URI uri = URI.create("http://127.0.0.1:18080/");

        ServerUrlFile.write(data, uri);

        assertThat(ServerUrlFile.read(data)).contains(uri);
    }

    @Test
    void isRemovedOnlyWhileItHoldsWhatThisProcessWrote() throws Exception {
        Path data = dir.resolve("data");
        ServerUrlFile.write(data, URI.create("http://127.0.0.1:18080/"));
        // Another node with the same configuration and data folder (PostgreSQL) started since and wrote its own.
        Files.writeString(data.resolve(ServerUrlFile.NAME), "http://127.0.0.1:18081/\n");

        ServerUrlFile.leave();

        assertThat(ServerUrlFile.read(data)).as("tryout40 F2").contains(URI.create("http://127.0.0.1:18081/"));

        ServerUrlFile.write(data, URI.create("http://127.0.0.1:18082/"));
        ServerUrlFile.leave();

        assertThat(data.resolve(ServerUrlFile.NAME)).doesNotExist();
    }

    /**
     * A server killed ({@code kill -9}) leaves {@code server-url} and its own file in {@code server-urls}, whose lock
     * the kernel released: the commands do not ask its port, but the configuration's address, and say why
     * (tryout41 F5). A {@code server-url} that no such file names (an older buildhook's) is asked as before.
     */
    @Test
    void aFileLeftByAKilledServerIsNotAskedAndSaidSo() throws Exception {
        Path data = dir.resolve("data");
        Path servers = Files.createDirectories(data.resolve(ServerUrlFile.SERVERS));
        Files.writeString(data.resolve(ServerUrlFile.NAME), "http://127.0.0.1:18080/\n");
        URI configured = URI.create("http://localhost:8080/");

        ServerUrlFile.Found older = ServerUrlFile.find(data, Optional.of(configured));

        assertThat(older.url()).contains(URI.create("http://127.0.0.1:18080/"));
        assertThat(older.note()).isEmpty();

        Files.writeString(servers.resolve("host-4242"), "http://127.0.0.1:18080/\npid 4242 on host, started …\n");

        ServerUrlFile.Found killed = ServerUrlFile.find(data, Optional.of(configured));

        assertThat(killed.url()).contains(configured);
        assertThat(killed.note()).contains(data.resolve(ServerUrlFile.NAME) + " names http://127.0.0.1:18080/, but the"
                + " server that wrote it no longer runs (it ended without its stop, killed or crashed, and could not"
                + " remove the file), and no other server of this data folder runs: asking the configuration's address"
                + " http://localhost:8080/ instead");

        // tryout48 F7: a configuration that names no address has none to ask instead; nothing is guessed.
        ServerUrlFile.Found nowhere = ServerUrlFile.find(data, Optional.empty());

        assertThat(nowhere.url()).isEmpty();
        assertThat(nowhere.note()).contains(data.resolve(ServerUrlFile.NAME) + " names http://127.0.0.1:18080/, but the"
                + " server that wrote it no longer runs (it ended without its stop, killed or crashed, and could not"
                + " remove the file), and no other server of this data folder runs");
    }

    /**
     * Without {@code server-url} and without a server of the data folder running, only an address the configuration
     * names is asked; with none named, none (tryout48 F7: the commands sent the admin token to localhost:8080, where a
     * WAR's configuration runs no buildhook).
     */
    @Test
    void withoutTheFileOnlyAnAddressTheConfigurationNamesIsAsked() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        URI configured = URI.create("http://127.0.0.1:18080/");

        ServerUrlFile.Found named = ServerUrlFile.find(data, Optional.of(configured));
        ServerUrlFile.Found nowhere = ServerUrlFile.find(data, Optional.empty());

        assertThat(named.url()).contains(configured);
        assertThat(named.note()).isEmpty();
        assertThat(nowhere.url()).isEmpty();
        assertThat(nowhere.note()).contains("no server of this data folder runs here: there is no "
                + data.resolve(ServerUrlFile.NAME) + ", where a running 'buildhook serve' writes its address");
    }
}
