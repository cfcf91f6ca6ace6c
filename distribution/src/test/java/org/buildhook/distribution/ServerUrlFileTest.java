package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
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
}
