package org.buildhook.distribution;

import java.nio.file.Path;

/** Which rules file a command reads: {@code --rules}, else the configuration's, else the installation's sample. */
final class RulesLocation {

    private RulesLocation() {
    }

    static Path resolve(Path rules, Path config) {
        if (rules != null) {
            return rules;
        }
        if (config != null) {
            throw new CommandFailure("reading the rules path from --config is not supported yet; give --rules FILE",
                    ExitCodes.USAGE);
        }
        String home = System.getProperty("buildhook.home");
        if (home != null) {
            return Path.of(home, "conf", "rules.yaml");
        }
        throw new CommandFailure("no rules file: give --rules FILE or --config FILE", ExitCodes.USAGE);
    }
}
