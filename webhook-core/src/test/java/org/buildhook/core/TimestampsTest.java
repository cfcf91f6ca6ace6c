package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TimestampsTest {

    @ParameterizedTest
    @ValueSource(strings = {"2021-07-26T18:10:37+00:00", "2024-02-29T23:59:59-05:30", "0001-01-01T00:00:00+18:00",
        "2021-07-26T18:10:37.123456+00:00", "2021-07-26T18:10:37Z", "2021-07-26T18:10+01:00"})
    void readsWhatTheStandardFormatterReads(String text) {
        assertThat(Timestamps.parse(text)).isEqualTo(OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2021-13-26T18:10:37+00:00", "2023-02-29T18:10:37+00:00", "2021-07-26T24:10:37+00:00",
        "2021-07-26T18:10:37+25:00", "2021-07-26 18:10:37+00:00", "2021-07-26T18:10:37", "yesterday", ""})
    void refusesWhatTheStandardFormatterRefuses(String text) {
        assertThatThrownBy(() -> Timestamps.parse(text)).isInstanceOf(DateTimeParseException.class);
    }

    @Test
    void agreesWithTheStandardFormatterOnRandomTimestampsOfJobServsShape() {
        SplittableRandom random = new SplittableRandom(17);
        for (int i = 0; i < 20_000; i++) {
            String text = String.format("%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d", random.nextInt(1, 10000),
                    random.nextInt(0, 14), random.nextInt(0, 33), random.nextInt(0, 26), random.nextInt(0, 62),
                    random.nextInt(0, 62), random.nextBoolean() ? "+" : "-", random.nextInt(0, 20), random.nextInt(0, 61));
            Object expected = outcome(() -> OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME));
            assertThat(outcome(() -> Timestamps.parse(text))).as(text).isEqualTo(expected);
        }
    }

    private static Object outcome(java.util.function.Supplier<OffsetDateTime> parse) {
        try {
            return parse.get();
        } catch (DateTimeParseException e) {
            return "refused";
        }
    }
}
