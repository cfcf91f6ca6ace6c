package org.buildhook.distribution;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import org.buildhook.runner.rules.RuleException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigException;
import org.buildhook.servlet.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code buildhook check}: validates the configuration and its rules file; every mistake with file:line:column. */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = "Validate the configuration and the rules file. Prints every mistake as file:line:column; "
                + "exits 1 if there is any. Starts nothing.",
        footer = {
            "",
            "Examples:",
            "  buildhook check --config /etc/buildhook/buildhook.yaml",
            "  buildhook check --rules rules.yaml        # only a rules file, e.g. in a pre-commit hook",
            "",
            ExitCodes.HELP
        })
final class CheckCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "buildhook.yaml to check (default: as serve finds it).")
    Path config;

    @Option(names = "--rules", paramLabel = "FILE", description = "Check this rules file (instead of the configuration's).")
    Path rules;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int problems = 0;
        Path rulesFile = rules;
        if (rules == null) {
            try {
                BuildhookConfig loaded = new ConfigLoader(System.getenv(), Path.of("").toAbsolutePath())
                        .load(Configs.locate(config).orElseThrow(() -> new CommandFailure(
                                "no configuration file to check: give --config FILE", ExitCodes.USAGE)));
                out.println(loaded.source() + ": ok (" + loaded.endpoints().size() + " endpoint(s))");
                loaded.warnings().forEach(w -> out.println(loaded.source() + ": warning: " + w));
                rulesFile = loaded.rulesFile();
            } catch (ConfigException e) {
                err.println(e.getMessage());
                problems += e.problems().size();
            }
        }
        if (rulesFile != null) {
            try {
                RuleSet set = new RuleSetLoader(Clock.systemUTC()).load(rulesFile);
                out.println(rulesFile + ": ok (" + set.size() + " rule(s): " + String.join(", ", set.ruleNames()) + ")");
            } catch (RuleException e) {
                err.println(e.getMessage());
                problems += e.problems().size();
            }
        }
        out.flush();
        err.flush();
        if (problems > 0) {
            err.println(problems + " mistake(s) found");
            err.flush();
            return ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }
}
