package org.buildhook.runner.engine;

import java.time.Instant;
import java.util.Objects;

/**
 * What this node knew of a job's attempt when its graceful stop could not record it (the store could not be reached
 * or took no write until the stop's wait for it ended): how the attempt ended here, while the store still shows it
 * running until the node's next start records it (or another node takes the job over after the dead-node limit). A
 * log follow that the stop ends says this rather than the store's {@code RUNNING} (tryout45 F4).
 *
 * @param attempt the attempt's number, 1 or more
 * @param how     how it ended, a phrase to follow "attempt N of job J": {@code its command exited 0}, {@code its
 *                command timed out}, {@code it was cancelled}, {@code it was cut short by this stop (its process tree
 *                killed)}, {@code its command was killed by its node's self-fencing}
 * @param ended   when it ended (the command's exit, or when its process tree was killed), or null when unknown
 * @param kept    whether it is kept in the node's data folder ({@code stops-not-recorded}) for its next start, which
 *                records it; false when that note could not be written (the server's log says why, and the line
 *                that keeps it)
 * @param exited  whether the command ended by itself or as its rule said (an exit, a timeout, a cancel): its next start
 *                records that outcome and does not run the command again; false for an attempt cut short, which runs
 *                again
 */
public record EndNotRecorded(int attempt, String how, Instant ended, boolean kept, boolean exited) {

    /** @throws IllegalArgumentException if {@code attempt} is below 1 or {@code how} is null or blank */
    public EndNotRecorded {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be 1 or more: " + attempt);
        }
        if (Objects.requireNonNull(how, "how").isBlank()) {
            throw new IllegalArgumentException("how must say how the attempt ended");
        }
    }
}
