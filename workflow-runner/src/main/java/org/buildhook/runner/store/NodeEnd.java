package org.buildhook.runner.store;

/**
 * How an {@link AttemptOutcome#INTERRUPTED} attempt was cut short by the end of its node, as the nullable column
 * {@code job_attempts.node_died} (schema version 16) keeps it: {@code 1} its node died, {@code 0} its node's
 * graceful stop cut it short, {@code NULL} neither (its own node's account of another end, any other outcome, or an
 * attempt recorded before this was kept). {@link ExecutionLedger#startAttempt(String, String, long,
 * ExecutionLedger.InARow)} counts them: a job whose node died under its last {@code runner.deaths-in-a-row} attempts,
 * or was stopped (or died) under its last {@code runner.stops-in-a-row}, is not run again (review20 R3, review21 R2).
 */
public enum NodeEnd {

    /**
     * Its node died: another node recorded the attempt's end because its own one was gone (killed, its host lost,
     * silent past the dead-node limit). {@code node_died = 1}.
     */
    DIED("1"),

    /**
     * Its node's graceful stop cut it short (the grace ended before the command did): recorded by that node as it
     * stopped, or, when the stop could not record it (the store could not be reached, or the stop was killed by a
     * stop timeout), at that node's next start from what the stop noted in its data folder. {@code node_died = 0}.
     */
    STOPPED("0"),

    /**
     * Not an end of its node: its own node's account of another interruption (its self-fencing, a start it could
     * not make), or any outcome. {@code node_died = NULL}.
     */
    NONE("NULL");

    /** The column's value as SQL text. */
    final String sql;

    NodeEnd(String sql) {
        this.sql = sql;
    }
}
