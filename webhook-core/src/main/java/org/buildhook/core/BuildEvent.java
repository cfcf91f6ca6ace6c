package org.buildhook.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A JobServ "build complete" message: everything JobServ sends about one build.
 *
 * <p>{@code buildId}, {@code url}, {@code status} and {@code runs} are always sent; the others may
 * be absent ({@code null}). JobServ has no project field: {@link #project()} ({@code andy-corp/lmp})
 * and {@link #factory()} ({@code andy-corp}) are derived from the path of {@code url},
 * {@code /projects/<factory>/<project>/builds/<id>/}. Fields this version does not know are kept in
 * {@link #unknownFields()}.
 */
public record BuildEvent(
        long buildId,
        String url,
        BuildStatus status,
        List<Run> runs,
        String webUrl,
        String name,
        String triggerName,
        OffsetDateTime created,
        OffsetDateTime completed,
        Map<String, JsonNode> unknownFields) {

    public BuildEvent {
        if (buildId <= 0) {
            throw new IllegalArgumentException("buildId must be positive, got " + buildId);
        }
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(status, "status");
        runs = Immutables.copy(runs);
        unknownFields = Immutables.copyOrdered(unknownFields);
    }

    /**
     * The project path, {@code <factory>/<project>} (for example {@code andy-corp/lmp}), or an empty
     * string when the URL does not have the JobServ shape {@code .../projects/<factory>/<project>/builds/...}.
     * Percent-escapes in the two names are decoded, except {@code %2F}, which stays as it is.
     */
    public String project() {
        return ProjectPath.of(url);
    }

    /** The factory: the first segment of {@link #project()} ({@code andy-corp}). */
    public String factory() {
        String project = project();
        int slash = project.indexOf('/');
        return slash < 0 ? project : project.substring(0, slash);
    }

    /**
     * Fields this version does not know, in the order they came. JSON nodes are mutable, so each
     * call returns fresh copies: changing them cannot change this event.
     */
    @Override
    public Map<String, JsonNode> unknownFields() {
        return Immutables.copyOrdered(unknownFields);
    }

    public Optional<String> triggerNameIfPresent() {
        return Optional.ofNullable(triggerName);
    }

    public Optional<String> webUrlIfPresent() {
        return Optional.ofNullable(webUrl);
    }
}
