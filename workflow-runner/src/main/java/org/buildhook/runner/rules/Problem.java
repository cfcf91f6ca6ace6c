package org.buildhook.runner.rules;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One mistake in a rules or configuration file, where it is: {@code rules.yaml:12:7: unknown key 'comand' in run}.
 *
 * @param file    the file name as the operator knows it (as given, not resolved)
 * @param line    1-based line, or 0 when the mistake is about the whole file
 * @param column  1-based column, or 0 when unknown
 * @param message what is wrong and, where it helps, what to write instead
 */
public record Problem(String file, int line, int column, String message) {

    public Problem {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(message, "message");
        if (line < 0 || column < 0) {
            throw new IllegalArgumentException("line and column must be >= 0");
        }
    }

    /**
     * Several problems, one per line, for an exception's message.
     *
     * @throws IllegalArgumentException when there is none: an error with nothing wrong is a bug
     */
    public static String lines(List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("at least one problem is needed");
        }
        return problems.stream().map(Problem::toString).collect(Collectors.joining("\n"));
    }

    /** The {@code file:line:column: message} form compilers use, so editors can jump to it. */
    @Override
    public String toString() {
        if (line == 0) {
            return file + ": " + message;
        }
        return file + ":" + line + ":" + column + ": " + message;
    }
}
