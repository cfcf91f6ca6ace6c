package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one read of a file a user names (review55b F5): whole up to its limit, and a file past it, or a device that
 * never ends, refused in words instead of an OutOfMemoryError.
 */
class BoundedFileTest {

    @TempDir
    Path dir;

    @Test
    void readsAFileUpToItsLimitWhole() throws IOException {
        Path file = Files.write(dir.resolve("payload.json"), new byte[1000]);
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);

        assertThat(BoundedFile.read(file, 1000)).hasSize(1000);
        assertThat(BoundedFile.read(empty, 1000)).isEmpty();
        // A file the kernel sizes 0 yet holds text, as those of /proc.
        assertThat(new String(BoundedFile.read(Path.of("/proc/self/status"), 1 << 20), StandardCharsets.US_ASCII))
                .contains("Name:");
    }

    @Test
    void refusesARegularFileOverItsLimitBySizeWithoutReadingIt() throws IOException {
        Path file = Files.write(dir.resolve("payload.json"), new byte[1001]);
        Path huge = dir.resolve("huge.json");
        try (RandomAccessFile sparse = new RandomAccessFile(huge.toFile(), "rw")) {
            sparse.setLength((8L << 30) + 1);
        }

        assertThatThrownBy(() -> BoundedFile.read(file, 1000)).isInstanceOf(FileTooLargeException.class)
                .hasMessage(file + " is 1001 bytes, over the limit of 1000 bytes")
                .satisfies(e -> assertThat(IoProblems.describe((IOException) e)).isEqualTo(e.getMessage()));
        assertThatThrownBy(() -> BoundedFile.read(huge, 5L << 20)).isInstanceOf(FileTooLargeException.class)
                .hasMessage(huge + " is 8.0 GiB (8589934593 bytes), over the limit of 5 MiB");
    }

    @Test
    void refusesADeviceThatGivesMoreThanTheLimitAfterReadingOneBytePastIt() {
        assertThatThrownBy(() -> BoundedFile.read(Path.of("/dev/zero"), 5L << 20))
                .isInstanceOf(FileTooLargeException.class)
                .hasMessage("/dev/zero is not a regular file (a device, a pipe or a socket) and gave more than the"
                        + " limit of 5 MiB");
    }

    /**
     * review57a F2: a limit of 1 GiB (http.max-body's largest, for buildhook test and send) is more than a small heap
     * holds; every read holds a quarter of the heap at most, and says that this, not the caller's limit, refused it.
     */
    @Test
    void holdsAQuarterOfTheHeapAtMostAndSaysWhenThatIsWhatRefusedTheFile() throws IOException {
        Path file = Files.write(dir.resolve("payload.json"), new byte[1000]);

        assertThatThrownBy(() -> BoundedFile.read(Path.of("/dev/zero"), 1L << 30, 64L << 20))
                .isInstanceOf(FileTooLargeException.class)
                .hasMessage("/dev/zero is not a regular file (a device, a pipe or a socket) and gave more than the"
                        + " limit of 16 MiB")
                .satisfies(e -> assertThat(((FileTooLargeException) e).heapBound()).isTrue());
        assertThatThrownBy(() -> BoundedFile.read(file, 1L << 30, 2000)).isInstanceOf(FileTooLargeException.class)
                .hasMessage(file + " is 1000 bytes, over the limit of 500 bytes")
                .satisfies(e -> assertThat(((FileTooLargeException) e).heapBound()).isTrue());
        assertThat(BoundedFile.read(file, 1000, 4000)).as("a quarter of the heap is the limit itself").hasSize(1000);
        assertThatThrownBy(() -> BoundedFile.read(file, 999, 1L << 30)).isInstanceOf(FileTooLargeException.class)
                .satisfies(e -> assertThat(((FileTooLargeException) e).heapBound()).as("the caller's limit").isFalse());
    }

    @Test
    void readsADeviceThatEndsWithinTheLimit() throws IOException {
        assertThat(BoundedFile.read(Path.of("/dev/null"), 10)).isEmpty();
    }

    @Test
    void saysWhatFilesReadAllBytesSaysOfAFileThatCannotBeRead() {
        assertThatThrownBy(() -> BoundedFile.read(dir.resolve("missing"), 10)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> BoundedFile.read(dir, 10)).isInstanceOf(IOException.class)
                .isNotInstanceOf(FileTooLargeException.class).hasMessageContaining("directory");
    }

    @Test
    void readsTextAsUtf8AndRefusesWhatIsNot() throws IOException {
        Path text = Files.writeString(dir.resolve("secret"), "s3crét\n");
        Path latin1 = Files.write(dir.resolve("latin1"), new byte[] {'s', (byte) 0xE9});

        assertThat(BoundedFile.readString(text, 64)).isEqualTo("s3crét\n");
        assertThatThrownBy(() -> BoundedFile.readString(latin1, 64)).isInstanceOf(CharacterCodingException.class)
                .satisfies(e -> assertThat(IoProblems.describe((IOException) e)).isEqualTo("it is not UTF-8 text"));
    }
}
