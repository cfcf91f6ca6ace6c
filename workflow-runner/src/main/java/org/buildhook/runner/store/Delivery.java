package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A stored delivery. {@code body} is {@code null} in lists (and for duplicates, whose body is the
 * first delivery's); {@link Store#delivery} fills it.
 *
 * @param reason      why it was rejected, or {@code null}
 * @param duplicateOf for a duplicate, the first delivery's id; else {@code null}
 */
public record Delivery(
        String id,
        String endpoint,
        Instant receivedAt,
        String remoteAddress,
        Map<String, String> headers,
        String bodyHash,
        DeliveryOutcome outcome,
        String reason,
        String duplicateOf,
        byte[] body) {

    public Delivery {
        Objects.requireNonNull(id, "id");
        headers = Map.copyOf(headers);
        Objects.requireNonNull(outcome, "outcome");
        body = body == null ? null : body.clone();
    }

    @Override
    public byte[] body() {
        return body == null ? null : body.clone();
    }
}
