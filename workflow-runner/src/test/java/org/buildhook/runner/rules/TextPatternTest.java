package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class TextPatternTest {

    @Test
    void globMetacharactersMeanWhatTheySay() {
        assertThat(TextPattern.parse("build-?64").matches("build-a64")).isTrue();
        assertThat(TextPattern.parse("build-[!a]*").matches("build-x86")).isTrue();
        assertThat(TextPattern.parse("build-[!a]*").matches("build-arm")).isFalse();
        assertThat(TextPattern.parse("v[0-9].x").matches("v7.x")).isTrue();
        assertThat(TextPattern.parse("a\\*b").matches("a*b")).isTrue();
        assertThat(TextPattern.parse("a\\*b").matches("axxb")).isFalse();
        assertThat(TextPattern.parse("a.b").matches("axb")).as("regex characters are literal in a glob").isFalse();
        assertThat(TextPattern.parse("[ad]*").matches("d-x")).isTrue();
    }

    @Test
    void aRegexLiteralPrefixIsOnlyTakenWhenEveryMatchMustStartWithIt() {
        assertThat(TextPattern.regexPrefix("andy-corp/.*")).isEqualTo("andy-corp/");
        assertThat(TextPattern.regexPrefix("abc?d")).isEqualTo("ab");
        assertThat(TextPattern.regexPrefix("a{0}b")).isEmpty();
        assertThat(TextPattern.regexPrefix("andy|acme")).isEmpty();
        assertThat(TextPattern.regexPrefix("(?i)andy")).isEmpty();
        assertThat(TextPattern.regexPrefix("an\\dy")).isEqualTo("an");
        assertThat(TextPattern.parse("/abc?d/").matches("abd")).isTrue();
        assertThat(TextPattern.parse("/ab+c/").matches("abbc")).isTrue();
        assertThat(TextPattern.parse("/ab*c/").matches("ac")).isTrue();
        assertThat(TextPattern.parse("/ANDY.*/i").matches("andy-corp")).isTrue();
    }

    @Test
    void aPatternNeverMatchesAnAbsentValue() {
        assertThat(TextPattern.parse("**").matches(null)).isFalse();
        assertThat(TextPattern.parse("/.*/").matches(null)).isFalse();
    }

    @Test
    void rejectsBrokenPatternsWithTheReason() {
        assertThatThrownBy(() -> TextPattern.parse("x\\")).hasMessageContaining("ends with a lone '\\'");
        assertThatThrownBy(() -> TextPattern.parse("/[a/")).hasMessageStartingWith("bad regular expression /[a/: Unclosed character class");
    }

    @Test
    void durationsTakeUnitsAndCombinations() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Durations.parse("10m")).isEqualTo(Duration.ofMinutes(10));
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("2d")).isEqualTo(Duration.ofDays(2));
        assertThatThrownBy(() -> Durations.parse("10")).hasMessageStartingWith("bad duration '10'");
        assertThatThrownBy(() -> Durations.parse("-5s")).hasMessageStartingWith("bad duration '-5s'");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("90m");
    }

    @Test
    void suggestsTheClosestKnownNameOnlyWhenItIsClose() {
        assertThat(Suggestions.didYouMean("comand", java.util.Set.of("command", "env"))).isEqualTo(" (did you mean 'command'?)");
        assertThat(Suggestions.didYouMean("xyzzy", java.util.Set.of("command", "env"))).isEmpty();
    }
}
