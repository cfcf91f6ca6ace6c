package org.buildhook.distribution;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.buildhook.runner.rules.Problem;
import org.buildhook.runner.rules.RuleSet;

/**
 * Prints, for {@code check} and {@code test}, what would keep a valid rule set's jobs from starting on
 * this machine, as {@code file:line:column: warning: …}. Warnings do not change the exit code: the
 * rules may be meant for another node.
 */
final class MachineWarnings {

    private MachineWarnings() {
    }

    /**
     * @param defaultWorkdir the runner's working directory; null when it is not known (only {@code
     *                       --rules} given), then the data folder of the configuration {@code serve} would use
     */
    static void print(RuleSet set, Path defaultWorkdir, PrintWriter out) {
        Path workdir = defaultWorkdir;
        if (workdir == null) {
            try {
                workdir = RulesLocation.defaultWorkdir(null);
            } catch (CommandFailure e) {
                workdir = Path.of("").toAbsolutePath();
            }
        }
        set.nothingRunsWarning().ifPresent(w -> out.println(set.source() + ": warning: " + w));
        for (Problem p : set.machineWarnings(workdir, System.getenv("PATH"))) {
            String where = p.line() == 0 ? p.file() : p.file() + ":" + p.line() + ":" + p.column();
            out.println(where + ": warning: " + p.message());
        }
        out.flush();
    }
}
