package org.buildhook.runner.store;

/**
 * Which commits must reach the disk before the caller is answered.
 *
 * <p>SQLite: a {@link #DEFERRED} commit is visible at once and lands in the log in order, so a
 * later durable commit flushes it too; only a power cut or a crash of the machine's kernel in the
 * moment after it can lose it ({@code PRAGMA synchronous = NORMAL}: a crash of this process alone
 * loses nothing). Such a cut kills the node's commands with it, so the commit lost never describes
 * a command that still runs or ran on: the job runs again, as after any crash of the machine.
 *
 * <p>PostgreSQL: both wait for the WAL flush ({@code synchronous_commit} as the server has it,
 * {@code on} by default). The server can crash alone (the OOM killer, {@code kill -9}, its own host
 * cut, {@code pg_ctl stop -m immediate}) while this node and its commands live on: a commit lost
 * then was acted on (a command spawned on an attempt's start, a job taken as done on its end), and
 * the command ran twice with one run in its history (tryout31 F1). {@code DEFERRED} only picks the
 * pool (db-scheduler's) there, so that the runner's bookkeeping does not take the connections the
 * accepts wait for. It was {@code synchronous_commit = off} until pgcrash31.
 */
enum Durability {
    /** On disk before the caller is answered: deliveries, admin actions, migrations. */
    DURABLE,
    /**
     * The runner's bookkeeping (attempts, slots, db-scheduler's picks and heartbeats): on SQLite, losing
     * the last of it to a power cut only means a job runs again, which that cut (killing the commands
     * too) causes anyway; on PostgreSQL as durable as {@link #DURABLE}.
     */
    DEFERRED
}
