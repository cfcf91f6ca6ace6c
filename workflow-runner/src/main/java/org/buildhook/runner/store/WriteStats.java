package org.buildhook.runner.store;

/**
 * The store's group commit so far ({@code transactions / commits} is the average batch). SQLite: the
 * commits the store's writer made and the write transactions they carried. PostgreSQL: the batches
 * of new deliveries' accepts, each sent as one statement and committed as one transaction (a batch
 * whose statement failed for one delivery's fault is then sent one by one), and the accepts in them.
 */
public record WriteStats(long commits, long transactions) {
}
