package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code buildhook check} says about a folder, without writing, and the probe's reasons. */
class NodeFoldersTest {

    @TempDir
    Path dir;

    @Test
    void aFileWhereTheFolderGoesIsSaidAsSuch() throws IOException {
        Path payloads = Files.writeString(dir.resolve("payloads"), "not a folder");

        assertThat(NodeFolders.whyNotWritable(payloads)).contains("a file is where the folder goes");
        assertThat(NodeFolders.whyNotWritable(payloads.resolve("sub")))
                .contains(payloads + " is not a directory: a file is where a folder goes");
    }

    @Test
    void aFolderStillToBeMadeUnderAWritableOneIsFine() {
        assertThat(NodeFolders.whyNotWritable(dir.resolve("data/payloads"))).isEmpty();
        assertThat(NodeFolders.whyNotWritable(dir)).isEmpty();
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void theProbeSaysWhyWithoutRepeatingThePath() throws IOException {
        Path logs = Files.writeString(dir.resolve("logs"), "not a folder");

        NodeFilesException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> new NodeFolders.Folder("runner.log-dir", logs, true).probe(), NodeFilesException.class);

        assertThat(e.folder()).isEqualTo(logs);
        assertThat(e.problem()).isEqualTo("a file is where the folder goes");
        assertThat(e.getMessage()).isEqualTo("cannot write runner.log-dir " + logs + ": a file is where the folder goes");
    }
}
