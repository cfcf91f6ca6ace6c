package org.buildhook.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LoadOptionsTest {

    @Test
    void parsesEveryOption() {
        LoadOptions options = LoadOptions.parse("--url", "http://127.0.0.1:1/hooks/bench", "--secret-file", "s",
                "--style", "hub", "--requests", "10", "--warmup", "0", "--concurrency", "3", "--rate", "2.5",
                "--latencies", "paced.lat");

        assertThat(options.style()).isEqualTo(HeaderStyle.HUB);
        assertThat(options.requests()).isEqualTo(10);
        assertThat(options.concurrency()).isEqualTo(3);
        assertThat(options.rate()).isEqualTo(2.5);
        assertThat(options.trace()).isNull();
        assertThat(options.latencies()).isEqualTo(java.nio.file.Path.of("paced.lat"));
    }

    @Test
    void saysWhichOptionIsWrong() {
        assertThatThrownBy(() -> LoadOptions.parse("--url", "http://x/", "--secret-file", "s", "--concurrency", "0"))
                .hasMessage("--concurrency: expected 1 to 1000, got 0");
        assertThatThrownBy(() -> LoadOptions.parse("--secret-file", "s")).hasMessageContaining("--url");
        assertThatThrownBy(() -> LoadOptions.parse("--style", "github")).hasMessageContaining("jobserv or hub");
    }
}
