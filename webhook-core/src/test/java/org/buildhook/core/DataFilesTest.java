package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The folders buildhook makes: a file standing where one should be is named as what it is. */
class DataFilesTest {

    @TempDir
    Path dir;

    @Test
    void aFileWhereAFolderOrOneOfItsParentsShouldBeIsNamedAsNotADirectoryNotAsAlreadyExisting() throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "x");

        for (Path folder : new Path[] {file, file.resolve("data"), file.resolve("data/logs")}) {
            assertThatThrownBy(() -> DataFiles.createDirectories(folder)).as(folder.toString())
                    .isInstanceOf(NotDirectoryException.class).hasMessage(file.toString())
                    .satisfies(e -> assertThat(IoProblems.describe((IOException) e)).isEqualTo(file + " is not a directory"));
            assertThatThrownBy(() -> DataFiles.createDirectoryInExisting(folder)).as(folder.toString())
                    .isInstanceOf(NotDirectoryException.class).hasMessage(file.toString());
        }
        assertThat(Files.readString(file)).isEqualTo("x");
    }

    @Test
    void makesEveryMissingFolderAndKeepsThoseThatExist() throws IOException {
        Path deep = dir.resolve("a/b/c");

        assertThat(DataFiles.createDirectories(deep)).isEqualTo(deep);
        assertThat(DataFiles.createDirectoryInExisting(deep.resolve("d"))).isDirectory();
        assertThat(DataFiles.createDirectories(deep)).isDirectory();
    }

    @Test
    void saysWhetherItsOwnMkdirMadeTheFolder() throws IOException {
        Path folder = dir.resolve("logs/job-1");
        Files.createDirectories(folder.getParent());

        assertThat(DataFiles.madeDirectoryInExisting(folder)).isTrue();
        assertThat(folder).isDirectory();
        assertThat(DataFiles.madeDirectoryInExisting(folder)).isFalse();
        assertThat(DataFiles.madeDirectoryInExisting(dir.resolve("x/y"))).as("a parent made first").isFalse();
        assertThat(dir.resolve("x/y")).isDirectory();
    }
}
