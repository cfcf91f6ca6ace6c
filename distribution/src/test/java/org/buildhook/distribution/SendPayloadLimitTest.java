package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.buildhook.servlet.config.BuildhookConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * review56 F5: {@code send}, which reads no configuration, refused any payload over the 5 MiB a server takes by
 * default, so a big build could not be sent again to a server whose {@code http.max-body} was raised for it (as
 * troubleshooting.md tells operators with big builds to do). It reads up to the largest {@code http.max-body} a
 * server can have (1 GiB), and the server decides.
 */
class SendPayloadLimitTest {

    @TempDir
    Path dir;
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void aBuildEventOverFiveMiBIsSentAndTakenByAServerWhoseMaxBodyIsLarger() throws Exception {
        byte[] event = Files.readAllBytes(CommandLineTest.FIXTURES.resolve("build-67-passed.json"));
        // The fixture with JSON white space after its opening brace: a build event of 5 MiB and one byte.
        byte[] body = new byte[(5 << 20) + 1];
        Arrays.fill(body, (byte) ' ');
        body[0] = '{';
        System.arraycopy(event, 1, body, body.length - (event.length - 1), event.length - 1);
        Path payload = Files.write(dir.resolve("big-build.json"), body);
        BuildhookConfig loaded = TestConfig.load(TestConfig.write(dir, TestConfig.LOCAL_SERVER,
                "http: {max-body: 8MiB}"));

        try (BuildhookServer server = TestConfig.server(loaded)) {
            server.start();
            int code = run("send", server.uri().resolve("/webhook").toString(), payload.toString(), "--secret-file",
                    dir.resolve("secret").toString(), "--no-retry");

            assertThat(code).as(out + "" + err).isEqualTo(ExitCodes.OK);
            assertThat(out.toString()).startsWith("HTTP 202");
        }
    }

    /**
     * In a heap of 5 GiB, whose quarter is more than 1 GiB: in the test's own JVM the words depended on the host's memory
     * (a quarter of it is the default heap, 8c8f365c), and a host of less than 16 GiB was told of its heap instead.
     */
    @Test
    void aPayloadOverTheLargestMaxBodyIsRefusedInWordsBeforeAnyServerIsAsked() throws Exception {
        Path huge = dir.resolve("huge.json");
        try (RandomAccessFile raf = new RandomAccessFile(huge.toFile(), "rw")) {
            raf.setLength((1L << 30) + 1);
        }
        Path secret = Files.writeString(dir.resolve("secret"), TestConfig.SECRET);

        CommandInAHeap.Ran ran = CommandInAHeap.run("5g", "send", "http://127.0.0.1:9/webhook", huge.toString(),
                "--secret-file", secret.toString());

        assertThat(ran.exit()).as(ran.said()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(ran.said()).doesNotContain("Exception").contains("cannot read " + huge + ": " + huge
                + " is 1.0 GiB (1073741825 bytes), over the limit of 1 GiB, the largest body a server can take"
                + " (http.max-body at most): check that this names the payload file (a JobServ build event is a few"
                + " KiB)");
    }

    /**
     * fix56b's left: with the 1 GiB bound alone, {@code send /dev/zero} (or a file larger than a small heap) read until
     * the JVM ran out of memory: a stack trace for something typed. It holds a quarter of its heap at most; here a
     * real 64 MiB heap, the real /dev/zero ({@link CommandInAHeap}; the bound is {@link
     * org.buildhook.core.BoundedFile}'s since review57a F2, for {@code test} too: TestCommandPayloadLimitTest).
     */
    @Test
    void aDeviceIsRefusedInWordsWithinAQuarterOfTheHeap() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), TestConfig.SECRET);

        CommandInAHeap.Ran ran = CommandInAHeap.run("64m", "send", "http://127.0.0.1:9/webhook", "/dev/zero",
                "--secret-file", secret.toString());

        assertThat(ran.exit()).as(ran.said()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(ran.said()).doesNotContain("Exception").doesNotContain("OutOfMemory")
                .containsPattern("cannot read /dev/zero: /dev/zero is not a regular file \\(a device, a pipe or a"
                        + " socket\\) and gave more than the limit of 1\\d(\\.\\d)? MiB( \\(\\d+ bytes\\))?, the most"
                        + " this command holds \\(a quarter of its heap; JAVA_OPTS=-Xmx")
                .contains("gives it more): check that this names the payload file (a JobServ build event is a few KiB)");
    }
}
