package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A log cap the server's heap cannot hold (runner.log-max-bytes is allowed up to 1 GiB; a small VM's
 * default heap is a quarter of its memory). tryout12 F1: the ring buffer for the tail could not be
 * allocated, the output pump died silently, the job blocked on its full pipe until its timeout, and
 * then the job thread died writing its "killed" note, leaving the job RUNNING for ever.
 */
class LogCapOverHeapTest {

    @TempDir
    Path dir;

    @Test
    void aJobWritingPastALogCapLargerThanTheHeapEndsWithItsOwnExitAndAShorterTail() throws Exception {
        long cap = 256L * 1024 * 1024;
        String out = probe(cap, cap + 16L * 1024 * 1024);

        assertThat(out).as("the job ends by itself, not at its timeout nor never")
                .contains("SUCCEEDED truncated=true exited with 0")
                .contains("LOG the-end")
                .containsPattern("LOG \\[buildhook\\] log truncated: \\d+ bytes dropped here")
                .as("says why the tail is shorter than the cap").contains("runner.log-max-bytes");
        assertThat(out).doesNotContain("Exception");
    }

    /**
     * review13 F2: each tail took as much as the heap would still give (halving its size until an
     * allocation worked), so four jobs past such a cap at once held nearly all of it, and the rest of
     * the server (a delivery's body, the store, the heartbeats) met OutOfMemoryError for as long as
     * they ran. The tails together now take at most half the heap.
     */
    @Test
    void severalJobsPastALogCapLargerThanTheHeapLeaveTheServerHalfOfIt() throws Exception {
        long cap = 256L * 1024 * 1024;
        String out = run(List.of(TailsProbe.class.getName(), Long.toString(cap), "4",
                Integer.toString(12 * 1024 * 1024)));

        java.util.regex.Matcher tails = java.util.regex.Pattern.compile("TAILS (\\d+) OF (\\d+)").matcher(out);
        assertThat(tails.find()).as(out).isTrue();
        assertThat(Long.parseLong(tails.group(1))).as(out)
                .isLessThanOrEqualTo(Long.parseLong(tails.group(2)) / 2 + 4 * 4096);
        assertThat(out).contains("SERVER OK");
    }

    private String probe(long cap, long bytes) throws IOException, InterruptedException {
        return run(List.of(FloodProbe.class.getName(), dir.toString(), Long.toString(cap), Long.toString(bytes)));
    }

    private String run(List<String> main) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(ProcessHandle.current().info().command()
                .orElse("java"), "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                "-D" + NativeSpawn.PROPERTY + "=" + System.getProperty(NativeSpawn.PROPERTY, "native")));
        command.addAll(main);
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
        return out;
    }
}
