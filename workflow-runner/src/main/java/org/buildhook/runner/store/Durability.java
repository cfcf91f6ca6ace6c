package org.buildhook.runner.store;

/**
 * Which commits must reach the disk before the caller is answered.
 *
 * <p>A deferred commit is visible at once and lands in the log in order, so a later durable
 * commit flushes it too; only a crash of the machine (SQLite) or of the database server
 * (PostgreSQL, {@code synchronous_commit = off}) in the moment after it can lose it.
 */
enum Durability {
    /** On disk before the caller is answered: deliveries, admin actions, migrations. */
    DURABLE,
    /**
     * The runner's bookkeeping (attempts, slots, db-scheduler's picks): losing the last of it to a
     * power cut only means a job runs again, which a crash can cause anyway.
     */
    DEFERRED
}
