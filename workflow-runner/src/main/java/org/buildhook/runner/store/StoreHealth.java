package org.buildhook.runner.store;

/** What {@code /healthz} says about the store ({@link Store#health()}). */
public enum StoreHealth {
    /** Reads answer and writes commit. */
    OK,
    /** The database does not answer reads: down, unreachable, wrong URL or password. */
    UNREACHABLE,
    /**
     * Reads answer but writes fail: SQLite read-only or on a full disk, its file deleted while the
     * server runs, PostgreSQL read-only or out of space.
     */
    NOT_WRITABLE;

    /** Whether deliveries can be accepted now. */
    public boolean ok() {
        return this == OK;
    }
}
