package org.buildhook.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandTraceTest {

    @Test
    void readsStartEndAndBuildIdAndSkipsATornLastLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("trace");
        Files.writeString(file, "1764390000.123456 1764390000.125000 1000001\n"
                + "1764390001,000001 1764390001,000002 1000002\n"
                + "1764390002.5");

        CommandTrace trace = CommandTrace.read(file);

        assertThat(trace.entry(1_000_001)).isEqualTo(new CommandTrace.Entry(1_764_390_000_123_456L,
                1_764_390_000_125_000L));
        assertThat(trace.entry(1_000_002).startMicros()).isEqualTo(1_764_390_001_000_001L);
        assertThat(trace.count(id -> true)).isEqualTo(2);
        assertThat(trace.count(id -> id > 1_000_001)).isEqualTo(1);
    }

    @Test
    void anAbsentFileIsAnEmptyTrace(@TempDir Path dir) throws Exception {
        assertThat(CommandTrace.read(dir.resolve("none")).count(id -> true)).isZero();
    }
}
