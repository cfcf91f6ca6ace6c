package org.buildhook.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One run of a JobServ build (one CI job on one host type).
 *
 * <p>{@code name}, {@code url}, {@code status} and {@code logUrl} are always sent; the rest may be
 * absent ({@code null}). Fields this version does not know are kept in {@link #unknownFields()}
 * in the order they came.
 */
public record Run(
        String name,
        String url,
        BuildStatus status,
        String logUrl,
        String webUrl,
        OffsetDateTime created,
        OffsetDateTime completed,
        String hostTag,
        String tests,
        Map<String, JsonNode> unknownFields) {

    public Run {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(logUrl, "logUrl");
        unknownFields = Immutables.copyOrdered(unknownFields);
    }

    /**
     * Fields this version does not know, in the order they came. JSON nodes are mutable, so each
     * call returns fresh copies: changing them cannot change this event.
     */
    @Override
    public Map<String, JsonNode> unknownFields() {
        return Immutables.copyOrdered(unknownFields);
    }

    public Optional<String> webUrlIfPresent() {
        return Optional.ofNullable(webUrl);
    }

    public Optional<String> hostTagIfPresent() {
        return Optional.ofNullable(hostTag);
    }

    public Optional<String> testsIfPresent() {
        return Optional.ofNullable(tests);
    }

    public Optional<OffsetDateTime> completedIfPresent() {
        return Optional.ofNullable(completed);
    }
}
