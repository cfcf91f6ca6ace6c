package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogSafeTest {

    @Test
    void escapesWhatCouldForgeALineOrDriveATerminal() {
        assertThat(LogSafe.of("build-amd64\n2026-11-30 ERROR forged")).isEqualTo("build-amd64\\x0a2026-11-30 ERROR forged");
        assertThat(LogSafe.of("\u001b[2J\u007f")).isEqualTo("\\x1b[2J\\x7f");
        // C1 controls: U+009B is a one-character CSI on terminals that read them.
        assertThat(LogSafe.of("a\u009b31mb\u0085")).isEqualTo("a\\x9b31mb\\x85");
        assertThat(LogSafe.of("構築 ok")).isEqualTo("構築 ok");
        assertThat(LogSafe.of(null)).isEqualTo("-");
    }

    @Test
    void cutsALongValue() {
        String cut = LogSafe.of("x".repeat(70_000));

        assertThat(cut).hasSize(LogSafe.MAX + 1).endsWith("…");
        assertThat(LogSafe.of("x".repeat(LogSafe.MAX))).isEqualTo("x".repeat(LogSafe.MAX));
    }

    @Test
    void aValueShortenedByItsEscapesIsMarkedAsCut() {
        // 150 characters, 18 of them newlines: 204 once escaped.
        String value = ("a\n" + "b".repeat(6)).repeat(18) + "c".repeat(6);

        assertThat(value).hasSize(150);
        assertThat(LogSafe.of(value)).hasSize(LogSafe.MAX + 1).endsWith("…");
    }

    @Test
    void escapeNeverCutsAndKeepsATextWithNothingToEscape() {
        String plain = "andy-corp/lmp " + "x".repeat(500);

        assertThat(LogSafe.escape(plain)).isSameAs(plain);
        assertThat(LogSafe.escape("\u001b[2J" + "y".repeat(500))).isEqualTo("\\x1b[2J" + "y".repeat(500));
    }

    /** review11 (F9's rest): the cut at MAX characters could leave half an escape or a lone surrogate. */
    @Test
    void theCutSplitsNeitherAnEscapeNorASurrogatePair() {
        String escape = "a".repeat(LogSafe.MAX - 2) + "\u001b[31m" + "b".repeat(50);
        String emoji = "a".repeat(LogSafe.MAX - 1) + "\ud83d\ude00" + "b".repeat(50);

        assertThat(LogSafe.of(escape)).isEqualTo("a".repeat(LogSafe.MAX - 2) + "…");
        assertThat(LogSafe.of(emoji)).isEqualTo("a".repeat(LogSafe.MAX - 1) + "…");
        assertThat(LogSafe.of("a".repeat(LogSafe.MAX - 2) + "\ud83d\ude00" + "b"))
                .isEqualTo("a".repeat(LogSafe.MAX - 2) + "\ud83d\ude00" + "…");
    }

    /**
     * escape29: bidirectional controls and zero-width characters reorder or hide what a log line or a terminal
     * shows ("Trojan Source", CVE-2021-42574): "run-tests" followed by RLO and "stset-nur" shows as another
     * name. Every format character (Unicode category Cf) and the line and paragraph separators are shown as a
     * backslash-u escape, beyond U+FFFF with eight digits.
     */
    @Test
    void showsBidirectionalControlsAndZeroWidthCharactersAsEscapes() {
        assertThat(LogSafe.of("run\u202etset\u202c")).isEqualTo("run\\u202etset\\u202c");
        assertThat(LogSafe.escape("\u202a\u202b\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))
                .isEqualTo("\\u202a\\u202b\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c");
        assertThat(LogSafe.escape("a\u200bb\u200cc\u200dd\u2060e\u2064f\ufeffg\u00adh"))
                .isEqualTo("a\\u200bb\\u200cc\\u200dd\\u2060e\\u2064f\\ufeffg\\u00adh");
        assertThat(LogSafe.escape("line\u2028sep\u2029")).isEqualTo("line\\u2028sep\\u2029");
        // A tag character (U+E0041, invisible "A"), beyond the BMP: one escape, not two halves.
        assertThat(LogSafe.escape("x\udb40\udc41y")).isEqualTo("x\\U000e0041y");
        // Control characters as before; letters of right-to-left scripts and emoji are text, shown as they are.
        assertThat(LogSafe.escape("\u001b[2J\u05d0\u0628 \ud83d\ude00")).isEqualTo("\\x1b[2J\u05d0\u0628 \ud83d\ude00");
        String plain = "andy-corp/lmp \u05d0\tx\r\ny\n";
        assertThat(LogSafe.escapeLines(plain)).isSameAs(plain);
    }

    /**
     * jobpage29: text of several lines (a job's log on the status page) keeps its newlines, tabs and CRLF line ends,
     * and shows every other control character as escape() does: a raw ESC, which a browser shows as nothing, as
     * {@code \x1b}; C1 (U+009B, a CSI) as {@code \x9b}; a lone carriage return as {@code \x0d}.
     */
    @Test
    void escapeLinesKeepsTheLinesAndShowsEveryOtherControlCharacter() {
        assertThat(LogSafe.escapeLines("a\tb\r\n\u001b[31mred\u001b[0m\n\u009b2J 50%\r100%\u202e\u0000\u007f\r"))
                .isEqualTo("a\tb\r\n\\x1b[31mred\\x1b[0m\n\\x9b2J 50%\\x0d100%\\u202e\\x00\\x7f\\x0d");
    }

    @Test
    void theCutCountsAnInvisibleCharacterAsItsEscape() {
        String value = "a".repeat(LogSafe.MAX - 4) + "\u202e" + "b".repeat(50);
        String tag = "a".repeat(LogSafe.MAX - 9) + "\udb40\udc41" + "b".repeat(50);

        assertThat(LogSafe.of(value)).isEqualTo("a".repeat(LogSafe.MAX - 4) + "…");
        assertThat(LogSafe.of(tag)).isEqualTo("a".repeat(LogSafe.MAX - 9) + "…");
        assertThat(LogSafe.of("a".repeat(LogSafe.MAX - 6) + "\u202e" + "b".repeat(50)))
                .isEqualTo("a".repeat(LogSafe.MAX - 6) + "\\u202e…");
    }

    /**
     * tryout29 F4: the six characters backslash-u-2-0-2-e typed in a value looked the same as U+202E shown escaped,
     * in a log line, a table and on the status page. A run of backslashes that would read as the start of an escape
     * is shown doubled, so every escape shown is a character that was escaped; other backslashes stay as they are.
     */
    @Test
    void aBackslashThatWouldReadAsAnEscapeIsShownDoubledSoEveryEscapeShownIsOneCharacter() {
        assertThat(LogSafe.escape("run\u202etset")).isEqualTo("run\\u202etset");
        assertThat(LogSafe.of("run\\u202etset")).isEqualTo("run\\\\u202etset");
        assertThat(LogSafe.of("run\\\u202etset")).as("a backslash, then U+202E").isEqualTo("run\\\\\\u202etset");
        assertThat(LogSafe.escape("\\x1b[2J \\u202E \\U000e0041 \\\\x07")).isEqualTo("\\\\x1b[2J \\\\u202E"
                + " \\\\U000e0041 \\\\\\\\x07");
        assertThat(LogSafe.escape("dev\\\nx")).as("a backslash, then a newline").isEqualTo("dev\\\\\\x0ax");
        for (String plain : new String[] {"C:\\Users\\me", "a\\\\b", "^v[0-9]+\\.\\d+$", "\\n\\t", "\\xyz", "\\u20",
            "end\\"}) {
            assertThat(LogSafe.escape(plain)).as(plain).isSameAs(plain);
        }
        // Every escape shown decodes to one value: these three differ once shown.
        assertThat(java.util.List.of(LogSafe.of("\\u202e"), LogSafe.of("\u202e"), LogSafe.of("\\\u202e"))
                .stream().distinct()).hasSize(3);
        // The cut counts a doubled backslash as two characters.
        assertThat(LogSafe.of("\\u202e".repeat(100))).hasSizeLessThanOrEqualTo(LogSafe.MAX + 1).endsWith("…");
        // A job's output keeps its bytes' backslashes (logs on a terminal, the page's log).
        assertThat(LogSafe.escapeLines("printf '\\x1b'\n")).isEqualTo("printf '\\x1b'\n");
        assertThat(LogSafe.quoted("a\\b\"c\u202e\\u202e")).isEqualTo("\"a\\\\b\\\"c\\u202e\\\\u202e\"");
    }

    /**
     * tryout50 F3: a message buildhook wrote already shows its payload values as {@link LogSafe#of} does (a refused
     * value's newline as the four characters {@code \x0a}, its own backslash text doubled); shown again, a real
     * control character in it is escaped but its backslashes are left as they are, so a newline reads {@code \x0a},
     * not {@code \\x0a}, and the six characters {@code \}{@code u202e} still read doubled.
     */
    @Test
    void aMessageKeepsItsOwnEscapesAndEscapesWhatIsRawInIt() {
        String newline = "its value \"" + LogSafe.of("inj\nnewline") + "\" is refused: it holds '\\x0a'";
        String text = "its value \"" + LogSafe.of("inj\\u202eevil") + "\" is refused";
        String bidi = "its value \"" + LogSafe.of("inj\u202eevil") + "\" is refused";

        assertThat(LogSafe.escapeMessage(newline)).isSameAs(newline)
                .isEqualTo("its value \"inj\\x0anewline\" is refused: it holds '\\x0a'");
        assertThat(LogSafe.escapeMessage(text)).isEqualTo("its value \"inj\\\\u202eevil\" is refused");
        assertThat(LogSafe.escapeMessage(bidi)).isEqualTo("its value \"inj\\u202eevil\" is refused");
        assertThat(LogSafe.escape(newline)).as("escape doubles them").contains("\\\\x0a");
        // What is raw in it never reaches the terminal or the page as it is.
        assertThat(LogSafe.escapeMessage("a\nb\u001b[2J\u202ec\u009b")).isEqualTo("a\\x0ab\\x1b[2J\\u202ec\\x9b");
    }
}
