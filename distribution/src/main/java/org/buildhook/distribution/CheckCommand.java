package org.buildhook.distribution;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.buildhook.runner.rules.RuleException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.UnreadableRulesException;
import org.buildhook.runner.store.StoreReachability;
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
                + "exits 1 if there is any. Starts nothing and writes nothing: a secret 'serve' would generate "
                + "is only announced.",
        footer = {
            "",
            "Examples:",
            "  buildhook check --config /etc/buildhook/buildhook.yaml",
            "  # what 'serve' would use, e.g. the embedded defaults:",
            "  buildhook check",
            "  # only a rules file, e.g. in a pre-commit hook:",
            "  buildhook check --rules rules.yaml",
            "",
            ExitCodes.HELP
        })
final class CheckCommand implements Callable<Integer> {

    private final Path workingDirectory;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "buildhook.yaml to check (default: as serve finds it).")
    Path config;

    @Option(names = "--rules", paramLabel = "FILE", description = "Check this rules file (instead of the configuration's;"
            + " alone, only this file is checked).")
    Path rules;

    CheckCommand() {
        this(Path.of(""));
    }

    /** @param workingDirectory what relative defaults such as {@code ./data} resolve against */
    CheckCommand(Path workingDirectory) {
        this.workingDirectory = workingDirectory;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int problems = 0;
        boolean unreadable = false;
        Path rulesFile = rules;
        Path defaultWorkdir = null;
        // --rules alone checks that file only (a pre-commit hook has no configuration); with --config
        // too, the named configuration is checked as well, its rules file replaced by --rules.
        if (rules == null || config != null) {
            try {
                ConfigLoader loader = Configs.loader(workingDirectory).withoutWriting().resolvingServerHost();
                Optional<Path> file = Configs.locate(config);
                if (file.isEmpty()) {
                    out.println("no configuration file given (--config) or found (" + ConfigLoader.ENV + ", -D"
                            + ConfigLoader.PROPERTY + ", <home>/conf/buildhook.yaml): checking the embedded defaults, "
                            + "as 'serve' would use them");
                }
                BuildhookConfig loaded = file.map(loader::load).orElseGet(loader::defaults);
                // As given, as the notes, warnings and mistakes name it (tryout15 F9: the first line had it absolute).
                String name = file.map(Path::toString).orElse("embedded defaults");
                // A wrong password or currentSchema passed check and failed the start (tryout15 F3): ask
                // PostgreSQL now. A warning, not a mistake: check may run where the database is not reachable.
                Optional<String> unusable = StoreReachability.whyUnreachable(loaded.store());
                out.println(name + ": ok (" + loaded.endpoints().size() + " endpoint(s))"
                        + (unusable.isEmpty() ? "" : ", but 'serve' would not start now: see the warning below"));
                loaded.notes().forEach(out::println);
                loaded.warnings().forEach(out::println);
                unusable.ifPresent(why -> out.println(name + ": warning: " + why + " ('serve' would not start now; a"
                        + " check run where the database cannot be reached may ignore this)"));
                rulesFile = rules != null ? rules : loaded.rulesFile();
                defaultWorkdir = loaded.launcher().defaultWorkdir();
            } catch (ConfigException e) {
                err.println(e.getMessage());
                problems += e.problems().size();
            }
        }
        if (rulesFile != null) {
            try {
                RuleSet set = new RuleSetLoader(Clock.systemUTC()).load(rulesFile);
                out.println(rulesFile + ": ok (" + set.size() + " rule(s)"
                        + (set.size() == 0 ? "" : ": " + String.join(", ", set.ruleNames())) + ")");
                MachineWarnings.print(set, defaultWorkdir, out);
            } catch (RuleException e) {
                err.println(e.getMessage());
                problems += e.problems().size();
                unreadable = e instanceof UnreadableRulesException;
            }
        }
        out.flush();
        err.flush();
        if (problems > 0) {
            err.println(problems + " mistake(s) found");
            err.flush();
            return unreadable ? ExitCodes.UNAVAILABLE : ExitCodes.FAILED;
        }
        return ExitCodes.OK;
    }
}
