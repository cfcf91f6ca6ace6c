package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/**
 * {@link TerminalText}, the escaping of a job's output on a terminal (escape27 F2), across the chunks a
 * log arrives in: a carriage return is kept only when a newline follows, also in the next chunk.
 */
class TerminalTextTest {

    private static String shown(String... chunks) throws Exception {
        StringWriter out = new StringWriter();
        TerminalText text = new TerminalText(out);
        for (String chunk : chunks) {
            text.write(chunk);
            text.flush();
        }
        text.end();
        return out.toString();
    }

    @Test
    void controlCharactersOtherThanNewlineAndTabAreEscapedAndTheRestPassesAsItIs() throws Exception {
        assertThat(shown("a\tb\n\u001b[2J\u0007\u0000\u007f\u009b\u0085 é 構 😀\n"))
                .isEqualTo("a\tb\n\\x1b[2J\\x07\\x00\\x7f\\x9b\\x85 é 構 😀\n");
        assertThat(shown("plain text\n")).isEqualTo("plain text\n");
    }

    @Test
    void aCarriageReturnIsKeptOnlyBeforeANewlineEvenInTheNextChunk() throws Exception {
        assertThat(shown("crlf\r\nover\rwrite\r\r\n")).isEqualTo("crlf\r\nover\\x0dwrite\\x0d\r\n");
        assertThat(shown("split\r", "\nnext\r", "x", "\r", "\t")).isEqualTo("split\r\nnext\\x0dx\\x0d\t");
        // One that ends the text is written by end(), escaped: nothing follows it.
        assertThat(shown("last\r")).isEqualTo("last\\x0d");
    }

    /**
     * jobpage29: the status page shows a job's log by LogSafe.escapeLines, the same rule as this terminal's: for
     * the same text, whole or in chunks, both show the same.
     */
    @Test
    void theStatusPagesRuleShowsAJobsOutputAsTheTerminalDoes() throws Exception {
        String[] texts = {"a\tb\n\u001b[2J\u0007\u0000\u007f\u009b\u0085 é 構 😀\n", "crlf\r\nover\rwrite\r\r\n",
            "last\r", "\r", "run\u202etset\u202c zero\u200bwidth\ufeff tag x\udb40\udc41y\u2028", "plain text\n"};
        for (String text : texts) {
            assertThat(org.buildhook.core.LogSafe.escapeLines(text)).as(text).isEqualTo(shown(text))
                    .isEqualTo(shown(text.substring(0, text.length() / 2), text.substring(text.length() / 2)));
        }
    }

    /** escape29: bidirectional controls and zero-width characters are escaped too, a pair split across chunks whole. */
    @Test
    void invisibleCharactersAreEscapedEvenWhenAChunkSplitsTheirSurrogatePair() throws Exception {
        assertThat(shown("run\u202etset\u202c\tzero\u200bwidth\ufeff\n")).isEqualTo("run\\u202etset\\u202c\tzero\\u200bwidth\\ufeff\n");
        assertThat(shown("tag \udb40", "\udc41 emoji \ud83d", "\ude00\n")).isEqualTo("tag \\U000e0041 emoji \ud83d\ude00\n");
        assertThat(shown("cr\r", "\udb40", "\udc41")).isEqualTo("cr\\x0d\\U000e0041");
    }
}
