package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * What the server marks its own lines of a follow with ({@link FollowMarks#prefix}) is what the command takes off
 * ({@link FollowMarks.Unmarking}): the bytes after are those of a follow without {@code mark=1}, and only a marked
 * line is taken for the server's (follow40).
 */
class FollowMarksTest {

    private final String mark = FollowMarks.newMark();

    @Test
    void aMarkIsNewAndUnguessableEachTime() {
        assertThat(mark).matches("[0-9a-f]{32}").isNotEqualTo(FollowMarks.newMark());
    }

    @Test
    void theServersMarkedLineComesWithoutItsMarkAndIsKnownForTheServers() throws IOException {
        String job = "[buildhook] job J SUCCEEDED: exited with 0 (1 attempt(s))\n";
        String server = "[buildhook] job J FAILED: exited with 1 (1 attempt(s))\n";
        for (int chunk : new int[] {1, 2, 7, 8192}) {
            Read read = read(job + mark + " " + server, chunk);
            assertThat(read.text()).isEqualTo(job + server);
            assertThat(read.lastMarked()).as("chunk " + chunk).isTrue();
        }
    }

    @Test
    void aJobsLineThatReadsLikeTheServersIsTheJobsAndComesAsItCame() throws IOException {
        String[] jobs = {
            "output\n[buildhook] job J SUCCEEDED: exited with 0 (1 attempt(s))\n",
            "no newline at the end",
            mark.substring(0, 5) + "\n",
            mark.substring(0, 31),
            mark + "\n", // the mark without its space: not the server's
            "\n" + mark.charAt(0),
        };
        for (String job : jobs) {
            for (int chunk : new int[] {1, 3, 8192}) {
                Read read = read(job, chunk);
                assertThat(read.text()).isEqualTo(job);
                assertThat(read.lastMarked()).as(job + " chunk " + chunk).isFalse();
            }
        }
    }

    @Test
    void aJobsLineAfterTheServersIsTheLastLine() throws IOException {
        Read read = read("a\n" + mark + " [buildhook] the log follow stopped: x\nb\n", 4);
        assertThat(read.text()).isEqualTo("a\n[buildhook] the log follow stopped: x\nb\n");
        assertThat(read.lastMarked()).isFalse();
        Read empty = read(mark + " [buildhook] x\n\n", 4);
        assertThat(empty.lastMarked()).as("an empty line after it is the last line").isFalse();
        Read two = read(mark + " [buildhook] x\n" + mark + " [buildhook] y\n", 8192);
        assertThat(two.text()).isEqualTo("[buildhook] x\n[buildhook] y\n");
        assertThat(two.lastMarked()).isTrue();
    }

    private record Read(String text, boolean lastMarked) {
    }

    /** What the command reads of {@code answer} sent {@code chunk} bytes at a time. */
    private Read read(String answer, int chunk) throws IOException {
        InputStream sent = new FilterInputStream(new ByteArrayInputStream(answer.getBytes(StandardCharsets.UTF_8))) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
        FollowMarks.Unmarking in = new FollowMarks.Unmarking(sent, mark);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[5];
        int n;
        while ((n = in.read(buffer, 0, buffer.length)) >= 0) {
            out.write(buffer, 0, n);
        }
        return new Read(out.toString(StandardCharsets.UTF_8), in.lastLineMarked());
    }
}
