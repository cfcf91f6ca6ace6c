package org.buildhook.distribution;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code buildhook} command and its subcommands. */
@Command(
        name = "buildhook",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Turns signed JobServ (Foundries.io) build webhooks into rule-driven workflows.",
            ""
        },
        subcommands = {
            ServeCommand.class,
            CheckCommand.class,
            TestCommand.class,
            SendCommand.class,
            DeliveriesCommand.class,
            JobsCommand.class,
            JobCommand.class,
            ActionsCommand.class,
            RefusedBuildsCommand.class,
            NodesCommand.class,
            LogsCommand.class,
            ReplayCommand.class,
            RerunCommand.class,
            CancelCommand.class,
            ApproveCommand.class,
            RejectCommand.class,
            CommandLine.HelpCommand.class
        },
        footer = {
            "",
            "Examples:",
            // Each example within the help's 80 columns: picocli does not wrap them, the terminal would.
            "  # start with conf/buildhook.yaml (port 8080, ./data):",
            "  buildhook serve",
            "  buildhook send http://localhost:8080/webhook --sample \\",
            "      --secret-file data/webhook-secret",
            "  # the admin commands use data/admin-token:",
            "  buildhook jobs --state failed",
            "",
            "See 'buildhook help COMMAND' for each command's options and examples.",
            "",
            ExitCodes.HELP
        })
public final class BuildhookCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A configured command line; tests call it with their own streams. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new BuildhookCommand()).setCaseInsensitiveEnumValuesAllowed(true);
        // Wrapped at spaces only, so a usage line or an example copied from the help is whole.
        cl.setHelpFactory(SpaceWrappingHelp::new);
        LogsCommand.describeJson(cl);
        // A CommandFailure is an answer for the operator, not a crash: its message, no stack trace.
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof CommandFailure) {
                commandLine.getErr().println("buildhook: " + e.getMessage());
                commandLine.getErr().flush();
                return ((CommandFailure) e).exitCode();
            }
            throw e;
        });
        // A usage mistake: the error, picocli's "did you mean", and where the help is; not the whole help, which
        // pushed the error off a small terminal (tryout30 F6). Exit code 2 as before.
        cl.setParameterExceptionHandler(BuildhookCommand::usageMistake);
        return cl;
    }

    private static int usageMistake(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        java.io.PrintWriter err = command.getErr();
        err.println(e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("See '" + command.getCommandSpec().qualifiedName() + " --help' for its options and examples.");
        err.flush();
        return ExitCodes.USAGE;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
