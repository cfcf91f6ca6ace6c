package org.buildhook.servlet.config;

/**
 * The {@code metrics:} section.
 *
 * @param enabled whether {@code GET /metrics} answers (default true); when false it answers 404
 */
public record MetricsSettings(boolean enabled) {

    /** {@code /metrics} answers, as most exporters do. */
    public static MetricsSettings on() {
        return new MetricsSettings(true);
    }
}
