package org.buildhook.distribution;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.rules.Problem;
import org.buildhook.runner.rules.RuleSet;

/**
 * Prints, for {@code check} and {@code test}, the warnings of a valid rule set: what it writes that is
 * likely not meant (a placeholder written the wrong way, {@link RuleSet#writingWarnings}), then what would
 * keep its jobs from starting on this machine, as {@code file:line:column: warning: …}. Warnings do not
 * change the exit code: an argument may mean its text, and the rules may be meant for another node.
 */
final class MachineWarnings {

    private MachineWarnings() {
    }

    /**
     * @param defaultWorkdir the runner's working directory; null when it is not known (only {@code
     *                       --rules} given), then the data folder of the configuration {@code serve} would use
     * @param engine         the configuration's engine settings, null when no configuration is checked ({@code --rules}
     *                       alone): with no {@code admin.public-url} there, each follow-up's {@code ${job.url}} is
     *                       warned of as empty ({@link RuleSet#jobPageWarnings})
     */
    static void print(RuleSet set, Path defaultWorkdir, org.buildhook.runner.engine.EngineConfig engine,
            PrintWriter out) {
        Path workdir = defaultWorkdir;
        if (workdir == null) {
            try {
                workdir = RulesLocation.defaultWorkdir(null);
            } catch (CommandFailure e) {
                workdir = Path.of("").toAbsolutePath();
            }
        }
        set.nothingRunsWarning().ifPresent(w -> out.println(set.source() + ": warning: " + w));
        List<Problem> warnings = new ArrayList<>(set.writingWarnings());
        warnings.addAll(set.machineWarnings(workdir, System.getenv("PATH")));
        if (engine != null && engine.statusPage() == null) {
            warnings.addAll(set.jobPageWarnings());
        }
        for (Problem p : warnings) {
            String where = p.line() == 0 ? p.file() : p.file() + ":" + p.line() + ":" + p.column();
            out.println(where + ": warning: " + p.message());
        }
        out.flush();
    }
}
