package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.buildhook.servlet.config.BuildhookConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A body over {@code http.max-body} sent by JobServ's own sender, which writes its whole body before it
 * reads the answer (Python's urllib): it must read the 413, not meet a connection closed under it.
 */
class OversizedBodyTest {

    @TempDir
    Path dir;

    /**
     * Found by try-out 7: a 6 MiB body against the 5 MiB limit printed {@code ERROR <urlopen error [Errno
     * 32] Broken pipe>} at each attempt, as the server answered 413 and closed before reading the body
     * (more than the loopback's socket buffers hold). A body up to twice the limit is now read and
     * dropped first. JobServ sends again after 1, 2 and 4 s while the answer is not 2xx, as after any
     * refusal: each attempt reads the 413.
     */
    @Test
    void jobServsOwnSenderReadsThe413OfABodyOverTheLimitAtEachAttemptNotABrokenPipe() throws Exception {
        BuildhookConfig loaded = TestConfig.load(TestConfig.write(dir, TestConfig.LOCAL_SERVER, "http: {max-body: 8MiB}"));
        byte[] body = new byte[15 * 1024 * 1024];
        Arrays.fill(body, (byte) ' ');
        body[0] = '{';
        body[body.length - 1] = '}';
        Path payload = Files.write(dir.resolve("oversized.json"), body);
        Path sender = Path.of(System.getProperty("buildhook.tools")).resolve("jobserv-send");
        try (BuildhookServer server = TestConfig.server(loaded)) {
            server.start();
            Process process = new ProcessBuilder("python3", sender.toString(),
                    server.uri().resolve("/webhook").toString(), payload.toString(), TestConfig.SECRET)
                    .redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

            assertThat(process.waitFor()).as(output).isEqualTo(1);
            assertThat(output.lines().toList()).as(output).hasSize(4).allSatisfy(line -> assertThat(line)
                    .startsWith("HTTP 413").contains("body too large: the limit is " + 8 * 1024 * 1024 + " bytes"));
        }
    }
}
