package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsSettingsTest {

    @TempDir
    Path dir;

    private BuildhookConfig load(String yaml) throws IOException {
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\n" + yaml);
        return new ConfigLoader(Map.of(), dir).load(file);
    }

    @Test
    void metricsAreOnWhenTheFileSaysNothing() throws IOException {
        assertThat(load("").metrics().enabled()).isTrue();
        assertThat(load("metrics:\n").metrics().enabled()).isTrue();
    }

    @Test
    void enabledFalseTurnsMetricsOff() throws IOException {
        assertThat(load("metrics:\n  enabled: false\n").metrics().enabled()).isFalse();
    }
}
