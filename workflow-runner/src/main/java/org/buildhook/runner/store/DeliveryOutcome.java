package org.buildhook.runner.store;

/** What became of a delivery. */
public enum DeliveryOutcome {
    /** Stored with its jobs. */
    ACCEPTED,
    /** The same body on the same endpoint was already accepted within the dedup window; no jobs. */
    DUPLICATE,
    /** Signed, but not a valid JobServ event; kept for inspection with the reason. */
    REJECTED
}
