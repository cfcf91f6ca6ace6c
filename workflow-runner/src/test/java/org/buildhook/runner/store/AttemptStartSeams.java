package org.buildhook.runner.store;

import java.util.function.Consumer;

/**
 * The test seams of {@link ExecutionLedger#startAttempt(String, String, long, ExecutionLedger.InARow)}, for tests of
 * other packages: each runs with the job's id at its point of every start in this JVM until {@link #clear()}.
 */
public final class AttemptStartSeams {

    private AttemptStartSeams() {
    }

    /** Runs {@code seam} as a start begins, before it writes or locks anything. */
    public static void beforeStart(Consumer<String> seam) {
        ExecutionLedger.beforeStart = seam;
    }

    /** Runs {@code seam} inside a later attempt's start, the job's row held, just before the attempt is written. */
    public static void afterStartLook(Consumer<String> seam) {
        ExecutionLedger.afterStartLook = seam;
    }

    /** No seam any more. */
    public static void clear() {
        ExecutionLedger.beforeStart = null;
        ExecutionLedger.afterStartLook = null;
    }
}
