package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
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

        ServerUrlFile.removeIfOwn();

        assertThat(ServerUrlFile.read(data)).as("tryout40 F2").contains(URI.create("http://127.0.0.1:18081/"));

        ServerUrlFile.write(data, URI.create("http://127.0.0.1:18082/"));
        ServerUrlFile.removeIfOwn();

        assertThat(data.resolve(ServerUrlFile.NAME)).doesNotExist();
    }
}
