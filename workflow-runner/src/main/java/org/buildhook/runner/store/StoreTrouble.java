package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Why the store cannot take deliveries now although it can be read, as the node knows it
 * ({@link Store#trouble()}): for the status page's banner.
 *
 * @param since  when it began (the first write refused, the lock said, the first wait for a connection
 *               that ended empty), or {@code null} when not known
 * @param reason the words {@code /healthz} says ({@link HealthReport#reason()}): names no file, user or host
 * @param detail what the server log says besides (the file, the driver's error, what to do), for signed-in
 *               readers only; {@code null} when {@code reason} says all
 * @param deliveriesRefused whether deliveries are answered 503 meanwhile (not so when only the pools of jobs or
 *               of the node's id give no connection: then jobs stop, deliveries are still stored)
 */
public record StoreTrouble(Instant since, String reason, String detail, boolean deliveriesRefused) {

    /** @throws NullPointerException without a reason */
    public StoreTrouble {
        Objects.requireNonNull(reason, "reason");
    }

    /** With deliveries answered 503 meanwhile: a store that cannot write. */
    public StoreTrouble(Instant since, String reason, String detail) {
        this(since, reason, detail, true);
    }
}
