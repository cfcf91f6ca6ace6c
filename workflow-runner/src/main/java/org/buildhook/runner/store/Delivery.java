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
 * @param summary     build id, status, project and trigger of the event, as far as known
 * @param repeats     for a rejected delivery, how many times the same body came again to the same
 *                    endpoint within {@code store.dedup-window} (not stored again); else 0
 * @param lastRepeatAt when it last came again, or {@code null}
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
        byte[] body,
        DeliverySummary summary,
        int repeats,
        Instant lastRepeatAt) {

    public Delivery {
        Objects.requireNonNull(id, "id");
        summary = summary == null ? DeliverySummary.NONE : summary;
        headers = Map.copyOf(headers);
        Objects.requireNonNull(outcome, "outcome");
        body = body == null ? null : body.clone();
    }

    /** A delivery never repeated. */
    public Delivery(String id, String endpoint, Instant receivedAt, String remoteAddress, Map<String, String> headers,
            String bodyHash, DeliveryOutcome outcome, String reason, String duplicateOf, byte[] body,
            DeliverySummary summary) {
        this(id, endpoint, receivedAt, remoteAddress, headers, bodyHash, outcome, reason, duplicateOf, body, summary,
                0, null);
    }

    /** A delivery without a summary (as stored before schema version 2). */
    public Delivery(String id, String endpoint, Instant receivedAt, String remoteAddress, Map<String, String> headers,
            String bodyHash, DeliveryOutcome outcome, String reason, String duplicateOf, byte[] body) {
        this(id, endpoint, receivedAt, remoteAddress, headers, bodyHash, outcome, reason, duplicateOf, body,
                DeliverySummary.NONE);
    }

    @Override
    public byte[] body() {
        return body == null ? null : body.clone();
    }
}
