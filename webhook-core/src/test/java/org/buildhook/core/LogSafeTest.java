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
}
