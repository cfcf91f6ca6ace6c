package org.buildhook.runner.rules;

import java.util.List;

/**
 * The rules file could not be read at all (it does not exist, is a folder, may not be read): not a
 * mistake in its content, so commands report it as a file they cannot read rather than as rules
 * that are wrong.
 */
public final class UnreadableRulesException extends RuleException {

    private static final long serialVersionUID = 1L;

    UnreadableRulesException(Problem problem) {
        super(List.of(problem));
    }
}
