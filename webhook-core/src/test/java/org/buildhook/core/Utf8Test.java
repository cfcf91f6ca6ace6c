package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8Test {

    @Test
    void theEncodedLengthIsWhatTheEncoderWrites() {
        for (String value : new String[] {"", "build-amd64", "é", "構築", "\uD83D\uDE80 rocket", "a\u0000b\u007f\u0080\u07ff\u0800"}) {
            assertThat(Utf8.encodedLength(value)).as(value).isEqualTo(value.getBytes(StandardCharsets.UTF_8).length);
        }
    }

    @Test
    void anUnpairedSurrogateCountsTwoBytesAndIsFound() {
        assertThat(Utf8.encodedLength("a\uD800b")).isEqualTo(4);
        assertThat(Utf8.unpairedSurrogate("a\uD800b")).isEqualTo(1);
    }
}
