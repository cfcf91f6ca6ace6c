package org.buildhook.runner.rules;

import java.util.List;
import org.buildhook.runner.RunnerException;

/**
 * A rules file that cannot be used. Carries every {@link Problem} found, not only the first, so the
 * operator can fix them all in one go; the message lists them one per line.
 */
public class RuleException extends RunnerException {

    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;

    public RuleException(List<Problem> problems) {
        super(Problem.lines(problems));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }
}
