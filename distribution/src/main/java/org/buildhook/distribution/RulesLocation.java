package org.buildhook.distribution;

import java.nio.file.Path;

/** Which rules file a command reads: {@code --rules}, else the configuration's (see {@link Configs}). */
final class RulesLocation {

    private RulesLocation() {
    }

    /** The working directory of jobs whose rule names none, from the configuration {@code --config} names. */
    static Path defaultWorkdir(Path config) {
        return Configs.read(config).launcher().defaultWorkdir();
    }

    static Path resolve(Path rules, Path config) {
        if (rules != null) {
            return rules;
        }
        Path configured = Configs.read(config).rulesFile();
        if (configured == null) {
            throw new CommandFailure("the configuration names no rules file: give --rules FILE", ExitCodes.USAGE);
        }
        return configured;
    }
}
