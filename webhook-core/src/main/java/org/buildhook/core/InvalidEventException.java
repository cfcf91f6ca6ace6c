package org.buildhook.core;

/**
 * A signed body that is not a JobServ build event. The message names the JSON path and the problem,
 * for example {@code $.runs[2].status: expected a string, found a number}; it never contains more
 * than a short excerpt of the body, so it can be logged and shown to an operator.
 */
public final class InvalidEventException extends WebhookException {

    private static final long serialVersionUID = 1L;

    private final String path;
    private final String problem;

    public InvalidEventException(String path, String problem) {
        super(path + ": " + problem);
        this.path = path;
        this.problem = problem;
    }

    public InvalidEventException(String path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
        this.problem = problem;
    }

    /** Where in the body the problem is, as a JSON path ({@code $} is the whole body). */
    public String path() {
        return path;
    }

    /** What is wrong there, without the path. */
    public String problem() {
        return problem;
    }
}
