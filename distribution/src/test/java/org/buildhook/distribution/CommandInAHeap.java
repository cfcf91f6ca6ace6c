package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A buildhook command in a JVM of its own, with the heap given, as {@code bin/buildhook} runs it (which sets no {@code
 * -Xmx}: a quarter of the host's memory, 512 MiB on a host of 2 GiB): what a command holds is bounded by the real heap,
 * and an OutOfMemoryError is the real one.
 */
final class CommandInAHeap {

    /** What the command said (standard output and error, in one) and its exit code. */
    record Ran(int exit, String said) {
    }

    private CommandInAHeap() {
    }

    /** Runs {@code buildhook ARGS} with {@code -Xmx<heap>} ({@code "64m"}). */
    static Ran run(String heap, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx" + heap, "-XX:TieredStopAtLevel=1", "-Dfile.encoding=UTF-8", "-Dsun.stdout.encoding=UTF-8",
                "-Dsun.stderr.encoding=UTF-8", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(2, TimeUnit.MINUTES)).as(said).isTrue();
        return new Ran(child.exitValue(), said);
    }
}
