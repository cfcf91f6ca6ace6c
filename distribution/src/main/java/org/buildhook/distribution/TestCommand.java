package org.buildhook.distribution;

import org.buildhook.core.IoProblems;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.InvalidEventException;
import org.buildhook.runner.rules.DryRunRenderer;
import org.buildhook.runner.rules.RuleException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.UnreadableRulesException;
import org.buildhook.servlet.config.BuildhookConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code buildhook test}: a dry run. Shows which rules fire for a payload and the exact argv, env
 * and working directory of each job. Runs nothing and stores nothing.
 */
@Command(
        name = "test",
        mixinStandardHelpOptions = true,
        description = "Dry run: which rules fire for a payload, with each job's exact argv, env and workdir. Runs nothing.",
        footer = {
            "",
            "Examples:",
            "  buildhook test build.json --rules conf/rules.yaml",
            "  buildhook test build.json --config /etc/buildhook/buildhook.yaml \\",
            "      --endpoint lmp --quiet",
            "",
            ExitCodes.HELP
        })
final class TestCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PAYLOAD.json", description = "A JobServ build payload (its exact bytes).")
    Path payload;

    @Option(names = "--rules", paramLabel = "FILE", description = "The rules file (default: the one in the configuration).")
    Path rules;

    @Option(names = "--config", paramLabel = "FILE", description = "buildhook.yaml, to find the rules file.")
    Path config;

    @Option(names = "--endpoint", defaultValue = "default", paramLabel = "NAME",
            description = "The endpoint the payload would arrive on (default: ${DEFAULT-VALUE}, i.e. /webhook).")
    String endpoint;

    @Option(names = "--quiet", description = "Only the rules that fire; not why the others do not.")
    boolean quiet;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        BuildEvent event = parse();
        RuleSet ruleSet;
        Path file = RulesLocation.resolve(rules, config);
        try {
            ruleSet = new RuleSetLoader(Clock.systemUTC()).load(file);
        } catch (UnreadableRulesException e) {
            throw new CommandFailure(e.getMessage(), ExitCodes.UNAVAILABLE);
        } catch (RuleException e) {
            throw new CommandFailure(e.getMessage(), ExitCodes.FAILED);
        }
        out.print(new DryRunRenderer(!quiet).render(ruleSet.explain(endpoint, event)));
        MachineWarnings.print(ruleSet, rules == null ? RulesLocation.defaultWorkdir(config) : null, out);
        if (rules == null) {
            // The configuration the rules came from: its warnings (a padded secret …) concern this run too.
            BuildhookConfig loaded = Configs.read(config);
            loaded.warnings().forEach(out::println);
        }
        out.flush();
        return ExitCodes.OK;
    }

    private BuildEvent parse() {
        byte[] body;
        try {
            body = Files.readAllBytes(payload);
        } catch (IOException e) {
            throw new CommandFailure("cannot read " + payload + ": " + IoProblems.describe(e), ExitCodes.UNAVAILABLE);
        }
        try {
            return new BuildEventParser().parse(body);
        } catch (InvalidEventException e) {
            throw new CommandFailure(payload + " is not a JobServ build event: " + e.getMessage(), ExitCodes.FAILED);
        }
    }
}
