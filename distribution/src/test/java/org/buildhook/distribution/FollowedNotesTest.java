package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * surface33 left {@code buildhook logs -f} on a terminal showing a command's forged {@code [buildhook] killed: …} line
 * exactly like buildhook's own notes (only {@code logs JOB} marked them). A real server, a real job that forges two
 * notes while it is being followed (the first with output after it, the second as the log's last line until the job
 * is cancelled), a line that only begins like one, then buildhook's real {@code killed:} note of the cancel; the
 * command as its own process on a pseudo-terminal from util-linux's {@code script}: the forged lines are marked as
 * the command's, the real note as buildhook's; to a file the follow's bytes are the log's.
 */
class FollowedNotesTest {

    private static final String FORGED = "[buildhook] killed: cancelled; process tree terminated (forged 1)";
    private static final String FORGED_LAST = "[buildhook] killed: cancelled (forged 2)";

    @TempDir
    Path dir;

    private AdminServer server;
    private Process follow;

    @AfterEach
    void stop() throws Exception {
        if (follow != null) {
            follow.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void followingOnATerminalMarksTheRealNoteAndSaysTheForgedOnesAreTheCommands() throws Exception {
        Path gate = dir.resolve("gate");
        server = AdminServer.start(dir);
        // The job waits for the test's gate, so that its look-alikes are written while it is followed.
        server.replaceRules("rules:\n  - name: forger\n    run:\n      command: [/bin/bash, -c, \"printf 'waiting\\\\n';"
                + " while [ ! -e '" + gate + "' ]; do sleep 0.05; done; printf '%s\\\\n' '" + FORGED + "' after"
                + " '[build 67] only begins like a note'; printf '%s\\\\n' '" + FORGED_LAST + "'; exec sleep 600\"]\n"
                + "      timeout: 10m\n");
        server.app().rules().checkNow();
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();

        StringBuilder line = new StringBuilder();
        for (String word : RealCommand.command(server, dir, "logs", "-f", job)) {
            line.append(line.length() == 0 ? "" : " ").append('\'').append(word.replace("'", "'\\''")).append('\'');
        }
        follow = new ProcessBuilder("script", "-qec", line.toString(), "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectError(dir.resolve("script.err").toFile()).start();
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try {
                follow.getInputStream().transferTo(new java.io.OutputStream() {
                    @Override
                    public void write(int b) {
                        synchronized (shown) {
                            shown.write(b);
                        }
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        synchronized (shown) {
                            shown.write(b, off, len);
                        }
                    }
                });
            } catch (java.io.IOException e) {
                // the pseudo-terminal closed
            }
        });
        reader.start();
        java.util.function.Supplier<String> text = () -> {
            synchronized (shown) {
                return shown.toString(StandardCharsets.UTF_8).replace("\r", "");
            }
        };

        await().atMost(Duration.ofMinutes(2)).until(() -> text.get().contains("waiting\n"));
        Files.createFile(gate);
        await().atMost(Duration.ofMinutes(2)).until(() -> text.get().contains(FORGED_LAST));
        assertThat(server.post("jobs/" + job + "/cancel").statusCode()).isEqualTo(200);
        assertThat(follow.waitFor(5, TimeUnit.MINUTES)).isTrue();
        reader.join(TimeUnit.MINUTES.toMillis(1));
        String out = text.get();
        assertThat(follow.exitValue()).as(out + Files.readString(dir.resolve("script.err"))).isEqualTo(1);

        String raw = server.get("jobs/" + job + "/log").body();
        assertThat(raw).startsWith("waiting\n" + FORGED + "\nafter\n[build 67] only begins like a note\n" + FORGED_LAST
                + "\n[buildhook] killed: ");
        // The legend (standard error, on the same terminal) comes once, at the first mark.
        String legend = TerminalNotes.NOTE + "[buildhook] lines marked \u25c6 are buildhook's own notes; a line marked (printed by the"
                + " command) was printed by the job's command, though it begins as they do\n";
        assertThat(out.split(java.util.regex.Pattern.quote(legend), -1)).as(out).hasSize(2);
        String log = out.replace(legend, "");
        assertThat(log).as(out)
                .contains("waiting\n" + TerminalNotes.PRINTED_BY_THE_COMMAND + FORGED + "\nafter\n"
                        + "[build 67] only begins like a note\n" + TerminalNotes.PRINTED_BY_THE_COMMAND + FORGED_LAST + "\n")
                .contains("\n" + TerminalNotes.NOTE + "[buildhook] killed: cancelled")
                .doesNotContain(TerminalNotes.NOTE + FORGED)
                .doesNotContain(TerminalNotes.NOTE + FORGED_LAST)
                .contains("\n" + TerminalNotes.NOTE + "[buildhook] job " + job + " CANCELLED");

        // To a file: the log's bytes, no mark, no legend (then the command's own last line).
        Path file = dir.resolve("followed.out");
        Process toFile = new ProcessBuilder(RealCommand.command(server, dir, "logs", "-f", job))
                .redirectOutput(file.toFile()).redirectError(dir.resolve("file.err").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        assertThat(toFile.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String saved = Files.readString(file);
        assertThat(saved).startsWith(raw).doesNotContain("\u25c6").doesNotContain("(printed by the command)");
        assertThat(Files.readString(dir.resolve("file.err"))).doesNotContain("lines marked");
    }

    /**
     * The API {@code logs -f} asks ({@code ?notes=1&from=N&length=M}): at most M bytes, not cut at a line's end, the
     * notes wholly in them named; a length out of range is a 400 that says what is allowed.
     */
    @Test
    void aPageOfAGivenLengthIsNotCutAtALineEndAndABadLengthIsSaidSo() throws Exception {
        server = AdminServer.withRunner(dir, "");
        String job = RealCommand.printingJob(server, "pager", "first\\n[buildhook] forged %s\\nlast\\n", "dev");
        byte[] log = server.getBytes("jobs/" + job + "/log");
        assertThat(new String(log, StandardCharsets.UTF_8)).isEqualTo("first\n[buildhook] forged dev\nlast\n");

        var page = server.get("jobs/" + job + "/log?notes=1&from=6&length=25");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).isEqualTo("[buildhook] forged dev\nla");
        assertThat(page.headers().firstValue("X-Buildhook-Log-Notes")).hasValue("recorded");
        // Without length: a page ending at a line's end, as before.
        assertThat(server.get("jobs/" + job + "/log?notes=1&from=6").body()).isEqualTo("[buildhook] forged dev\nlast\n");

        for (String bad : new String[] {"0", "-1", "x", String.valueOf((4 << 20) + 1)}) {
            var refused = server.get("jobs/" + job + "/log?notes=1&from=6&length=" + bad);
            assertThat(refused.statusCode()).as(bad).isEqualTo(400);
            assertThat(refused.body()).as(bad).contains("'length' must be a number of bytes from 1 to 4194304");
        }
    }
}
