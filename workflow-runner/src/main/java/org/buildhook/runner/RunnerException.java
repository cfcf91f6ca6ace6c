package org.buildhook.runner;

/** The root of every exception the workflow-runner module throws. Unchecked. */
public class RunnerException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public RunnerException(String message) {
        super(message);
    }

    public RunnerException(String message, Throwable cause) {
        super(message, cause);
    }
}
