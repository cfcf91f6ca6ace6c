package org.buildhook.servlet.config;

import java.util.List;
import org.buildhook.runner.rules.Problem;

/**
 * A configuration that cannot be used. Carries every {@link Problem} found, so the operator fixes
 * them all at once; the message lists them one per line, as
 * {@code buildhook.yaml:7:5: store.url: expected a jdbc:sqlite: or jdbc:postgresql: URL}.
 * Never contains a secret's value.
 */
public class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;

    public ConfigException(List<Problem> problems) {
        super(Problem.lines(problems));
        this.problems = List.copyOf(problems);
    }

    /** One problem about the whole file (it is missing, unreadable…). */
    public static ConfigException about(String file, String message) {
        return new ConfigException(List.of(new Problem(file, 0, 0, message)));
    }

    public List<Problem> problems() {
        return problems;
    }
}
