package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {

    @ParameterizedTest(name = "{0} = {1} bytes")
    @CsvSource({"0, 0", "1234, 1234", "512KiB, 524288", "10MiB, 10485760", "1GiB, 1073741824", "1 mib, 1048576", "7B, 7"})
    void readsSizesInBytesAndBinaryUnits(String text, long bytes) {
        assertThat(Sizes.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"5MB", "1.5MiB", "-1", "MiB", "ten", "9999999999999999GiB"})
    void refusesWhatIsNotASize(String text) {
        assertThatThrownBy(() -> Sizes.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("bad size '" + text + "'");
    }

    @ParameterizedTest(name = "{0} bytes = {1}")
    @CsvSource({"1024, 1KiB", "10485760, 10MiB", "1073741824, 1GiB", "1500, 1500"})
    void writesSizesBackTheShortestWay(long bytes, String text) {
        assertThat(Sizes.format(bytes)).isEqualTo(text);
    }
}
