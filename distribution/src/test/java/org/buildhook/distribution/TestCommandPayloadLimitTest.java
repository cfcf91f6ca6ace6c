package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review57a F2: {@code buildhook test PAYLOAD --config F} reads the payload up to the configuration's {@code
 * http.max-body}, which may be 1 GiB; 8c8f365c bounded {@code send} by a quarter of its heap as well, not {@code test}:
 * {@code /dev/zero}, or a file larger than a quarter of the heap, ended in an OutOfMemoryError's stack trace and exit 1.
 * It is refused in words with exit 3, as {@code send}'s. Real JVMs with a 64 MiB heap ({@link CommandInAHeap}).
 */
class TestCommandPayloadLimitTest {

    @TempDir
    Path dir;

    private Path config() throws Exception {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: a\n    run: {command: [/bin/true]}\n");
        return Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: " + rules
                + "\nhttp:\n  max-body: 1GiB\n");
    }

    @Test
    void aDeviceIsRefusedInWordsWithinAQuarterOfTheHeapThoughTheConfigurationTakesAGibibyte() throws Exception {
        CommandInAHeap.Ran ran = CommandInAHeap.run("64m", "test", "/dev/zero", "--config", config().toString());

        assertThat(ran.exit()).as(ran.said()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(ran.said()).doesNotContain("Exception").doesNotContain("OutOfMemory")
                .containsPattern("cannot read /dev/zero: /dev/zero is not a regular file \\(a device, a pipe or a"
                        + " socket\\) and gave more than the limit of 1\\d(\\.\\d)? MiB( \\(\\d+ bytes\\))?, the most this"
                        + " command holds \\(a quarter of its heap; JAVA_OPTS=-Xmx")
                .contains("gives it more): check that this names the payload file (a JobServ build event is a few KiB)");
    }

    @Test
    void aFileLargerThanAQuarterOfTheHeapIsRefusedByItsSizeBeforeAByteIsRead() throws Exception {
        Path big = dir.resolve("big.json");
        try (RandomAccessFile sparse = new RandomAccessFile(big.toFile(), "rw")) {
            sparse.setLength(100L << 20);
        }

        CommandInAHeap.Ran ran = CommandInAHeap.run("64m", "test", big.toString(), "--config", config().toString());

        assertThat(ran.exit()).as(ran.said()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(ran.said()).doesNotContain("Exception").doesNotContain("OutOfMemory")
                .containsPattern("cannot read " + java.util.regex.Pattern.quote(big.toString()) + ": "
                        + java.util.regex.Pattern.quote(big.toString()) + " is 100 MiB, over the limit of 1\\d(\\.\\d)?"
                        + " MiB( \\(\\d+ bytes\\))?, the most this command holds \\(a quarter of its heap");
    }
}
