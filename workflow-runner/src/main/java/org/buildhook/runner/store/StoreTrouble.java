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
 */
public record StoreTrouble(Instant since, String reason, String detail) {

    /** @throws NullPointerException without a reason */
    public StoreTrouble {
        Objects.requireNonNull(reason, "reason");
    }
}
