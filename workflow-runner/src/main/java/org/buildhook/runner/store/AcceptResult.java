package org.buildhook.runner.store;

import java.util.List;
import java.util.Objects;

/**
 * What {@code accept} did.
 *
 * @param deliveryId the new delivery's id, or for a duplicate the first delivery's id
 * @param jobIds     the jobs created (empty for a duplicate)
 * @param duplicate  whether the same body on the same endpoint was already stored within the window
 */
public record AcceptResult(String deliveryId, List<String> jobIds, boolean duplicate) {

    public AcceptResult {
        Objects.requireNonNull(deliveryId, "deliveryId");
        jobIds = List.copyOf(jobIds);
    }
}
