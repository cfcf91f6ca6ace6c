package org.buildhook.runner.store;

import org.buildhook.runner.RunnerException;

/**
 * The store's database cannot be reached (connection refused, pool exhausted, SQLite file locked
 * beyond the busy timeout). Callers answer {@code 503} with {@code Retry-After} so the sender
 * retries; nothing was stored.
 */
public class StoreUnavailableException extends RunnerException {

    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
