package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Objects;

/**
 * One recorded admin action (the audit trail of the admin API).
 *
 * @param id         the action's id
 * @param at         when it was done
 * @param actor      who did it, e.g. {@code token@203.0.113.7}
 * @param action     {@code rerun}, {@code replay} or {@code cancel}
 * @param deliveryId the delivery acted on (or the job's delivery)
 * @param jobId      the job acted on, or {@code null} for a replay
 * @param detail     what came of it (new job ids, whether cancelled), or {@code null}
 */
public record AdminAction(String id, Instant at, String actor, String action, String deliveryId, String jobId,
        String detail) {

    public AdminAction {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(action, "action");
        if (actor.length() > 200) {
            actor = actor.substring(0, 200);
        }
    }
}
