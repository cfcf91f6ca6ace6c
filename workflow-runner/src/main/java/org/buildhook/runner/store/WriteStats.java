package org.buildhook.runner.store;

/**
 * SQLite's group commit so far: the commits the store's writer made and the write transactions
 * they carried ({@code transactions / commits} is the average batch).
 */
public record WriteStats(long commits, long transactions) {
}
