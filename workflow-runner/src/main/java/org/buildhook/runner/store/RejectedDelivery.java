package org.buildhook.runner.store;

/**
 * A rejected delivery as recorded ({@link Store#reject}): the body signed but not a JobServ build
 * event. A body that is the same as one rejected on the same endpoint within {@code
 * store.dedup-window} is not stored again: it counts as a repeat of that delivery.
 *
 * @param deliveryId the delivery that holds the body: a new one, or the first for a repeat
 * @param repeats    how many times the body came again after the first, this one included; 0 for a new one
 */
public record RejectedDelivery(String deliveryId, int repeats) {

    /** Whether the body was rejected before, and this is a repeat of it. */
    public boolean repeat() {
        return repeats > 0;
    }
}
