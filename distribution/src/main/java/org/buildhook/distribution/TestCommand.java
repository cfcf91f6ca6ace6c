package org.buildhook.distribution;

import java.io.PrintWriter;
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
import org.buildhook.servlet.config.HttpSettings;
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
            ExitCodes.TEST
        })
final class TestCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PAYLOAD.json", description = "A JobServ build payload (its exact bytes).")
    Path payload;

    @Option(names = "--rules", paramLabel = "FILE", description = "The rules file (default: the one in the configuration).")
    Path rules;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "buildhook.yaml, to find the rules file.")
    Path config;

    @Option(names = "--endpoint", paramLabel = "NAME",
            description = "The endpoint the payload would arrive on (default: default, i.e. /webhook; or the"
                    + " configuration's only endpoint). With a configuration, one of its endpoints.")
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
            // As 'check' lists them: one file:line:column line each, no prefix on the first only, a count.
            PrintWriter err = spec.commandLine().getErr();
            err.println(e.getMessage());
            err.println(e.problems().size() + " mistake(s) found");
            err.flush();
            return ExitCodes.FAILED;
        }
        out.print(new DryRunRenderer(!quiet).render(ruleSet.explain(endpoint(), event)));
        MachineWarnings.print(ruleSet, rules == null ? RulesLocation.defaultWorkdir(config) : null,
                rules == null ? Configs.read(config).engine() : null, out);
        if (rules == null) {
            // The configuration the rules came from: its warnings (a padded secret …) concern this run too.
            BuildhookConfig loaded = Configs.read(config);
            loaded.warnings().forEach(out::println);
        }
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * The endpoint to match as: {@code --endpoint}, else {@code default}. When the rules are the
     * configuration's (or {@code --config} is given), it must be one of its endpoints, as a delivery to
     * any other is answered 404 and runs nothing; and a configuration with one endpoint only, not
     * named {@code default}, makes that one the default.
     */
    private String endpoint() {
        if (rules != null && config == null) {
            return endpoint == null ? "default" : endpoint;
        }
        BuildhookConfig loaded = Configs.read(config);
        java.util.Set<String> names = loaded.endpoints().keySet();
        if (endpoint == null && !names.contains("default") && names.size() == 1) {
            return names.iterator().next();
        }
        String wanted = endpoint == null ? "default" : endpoint;
        if (!names.contains(wanted)) {
            String source = loaded.source() == null ? "the embedded defaults" : loaded.source().toString();
            throw new CommandFailure("endpoint '" + wanted + "' is not in " + source + " (its endpoints: "
                    + String.join(", ", names) + "): a delivery to it would be answered 404 and run nothing;"
                    + " give --endpoint with one of them", ExitCodes.USAGE);
        }
        return wanted;
    }

    private BuildEvent parse() {
        // What a server takes: the configuration's http.max-body where the command reads one, else its default; and no
        // more than a quarter of this command's heap (http.max-body may be 1 GiB: review57a F2).
        boolean configured = rules == null || config != null;
        long limit = configured ? Configs.read(config).http().maxBodyBytes() : HttpSettings.DEFAULT_MAX_BODY;
        byte[] body = PayloadFile.read(payload, limit, "the largest body " + (configured
                ? "this configuration's server takes (http.max-body)" : "a server takes by default (http.max-body)")
                + ": a larger one is answered 413; " + (configured ? "" : "for a server with a larger http.max-body,"
                + " give its configuration with --config; "));
        try {
            return new BuildEventParser().parse(body);
        } catch (InvalidEventException e) {
            if (!startsLikeAnObject(body)) {
                // The parser quotes the first token, which for a file named by mistake (a secret
                // file instead of the payload) would print its content.
                throw new CommandFailure(payload + " is not a JobServ build event: it is not a JSON object (it does not"
                        + " start with '{'); its " + body.length + " byte(s) are not shown since a file named by mistake"
                        + " may hold a secret", ExitCodes.FAILED);
            }
            throw new CommandFailure(payload + " is not a JobServ build event: " + e.getMessage(), ExitCodes.FAILED);
        }
    }

    /** Whether the first character after white space (and a UTF-8 byte order mark) is '{'. */
    private static boolean startsLikeAnObject(byte[] body) {
        int i = body.length >= 3 && body[0] == (byte) 0xEF && body[1] == (byte) 0xBB && body[2] == (byte) 0xBF ? 3 : 0;
        while (i < body.length && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')) {
            i++;
        }
        return i < body.length && body[i] == '{';
    }
}
