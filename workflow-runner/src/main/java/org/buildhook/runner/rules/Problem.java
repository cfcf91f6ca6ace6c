package org.buildhook.runner.rules;

import java.util.Objects;

/**
 * One mistake in a rules file, where it is: {@code rules.yaml:12:7: unknown key 'comand' in run}.
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

    /** The {@code file:line:column: message} form compilers use, so editors can jump to it. */
    @Override
    public String toString() {
        if (line == 0) {
            return file + ": " + message;
        }
        return file + ":" + line + ":" + column + ": " + message;
    }
}
