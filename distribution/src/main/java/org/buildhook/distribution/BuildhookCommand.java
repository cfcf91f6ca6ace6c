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
            StatusCommand.class,
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
public final class BuildhookCommand implements java.util.concurrent.Callable<Integer> {

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
        java.util.Optional<java.util.List<String>> reordered = optionsAfterTheCommand(e, command, args);
        if (reordered.isPresent()) {
            // tryout48 F6: "buildhook --url URL jobs" said "Unknown options: '--url', …" of options jobs has.
            err.println("options go after the command: " + reordered.get().stream().map(BuildhookCommand::shellWord)
                    .collect(java.util.stream.Collectors.joining(" ")));
            err.println("See '" + reordered.get().get(0) + " " + reordered.get().get(1)
                    + " --help' for its options and examples.");
            err.flush();
            return ExitCodes.USAGE;
        }
        // A number in the operator's words, not Java's ("'abc' is not a long", tryout36 F4).
        err.println(NumberWords.reworded(e).orElse(e.getMessage()));
        // Ours in place of picocli's, which took a job id for a misspelt subcommand ("Did you mean: buildhook check?").
        java.util.Optional<String> meant = meant(e, command);
        if (meant.isPresent()) {
            err.println(meant.get());
        } else {
            CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        }
        err.println("See '" + command.getCommandSpec().qualifiedName() + " --help' for its options and examples.");
        err.flush();
        return ExitCodes.USAGE;
    }

    /**
     * For options given before the command that are that command's ({@code buildhook --url URL jobs}, as kubectl and
     * git allow): the words of the command line with them after it ({@code buildhook jobs --url URL}); empty for any
     * other mistake, or when an option before the command is not one of its own.
     */
    static java.util.Optional<java.util.List<String>> optionsAfterTheCommand(CommandLine.ParameterException e, CommandLine command,
            String[] args) {
        if (!(e instanceof CommandLine.UnmatchedArgumentException) || command.getParent() != null || args == null) {
            return java.util.Optional.empty();
        }
        for (int at = 1; at < args.length; at++) {
            CommandLine sub = command.getSubcommands().get(args[at]);
            if (sub != null && !(sub.getCommand() instanceof CommandLine.HelpCommand)
                    && optionsOf(sub.getCommandSpec(), args, at)) {
                java.util.List<String> words = new java.util.ArrayList<>();
                words.add(command.getCommandSpec().qualifiedName());
                words.addAll(java.util.Arrays.asList(args).subList(at, args.length));
                words.addAll(java.util.Arrays.asList(args).subList(0, at));
                return java.util.Optional.of(words);
            }
        }
        return java.util.Optional.empty();
    }

    /** Whether {@code args[0..end)} are options of {@code spec}, each with its value ({@code --url URL}, {@code --url=URL}). */
    private static boolean optionsOf(CommandLine.Model.CommandSpec spec, String[] args, int end) {
        int i = 0;
        while (i < end) {
            String word = args[i];
            if (!word.startsWith("-") || word.equals("-") || word.equals("--")) {
                return false;
            }
            int equals = word.indexOf('=');
            CommandLine.Model.OptionSpec option = spec.findOption(equals < 0 ? word : word.substring(0, equals));
            if (option == null || !java.util.Arrays.asList(option.names()).contains(
                    equals < 0 ? word : word.substring(0, equals))) {
                return false;
            }
            i += 1 + (equals < 0 ? option.arity().min() : 0);
        }
        return i == end;
    }

    /** {@code word} as a POSIX shell reads it back: as it is when it has no special character, else single-quoted. */
    private static String shellWord(String word) {
        String shown = org.buildhook.core.LogSafe.escape(word);
        return !shown.isEmpty() && shown.matches("[A-Za-z0-9_@%+=:,./-]+") ? shown
                : "'" + shown.replace("'", "'\\''") + "'";
    }

    /** A job's id as the store makes it: 26 characters of Crockford base32, the first 0-7 (48 bits of time). */
    private static final java.util.regex.Pattern JOB_ID = java.util.regex.Pattern.compile(
            "[0-7][0-9A-HJKMNP-TV-Z]{25}", java.util.regex.Pattern.CASE_INSENSITIVE);

    /**
     * The command likely meant (tryout31 F5: {@code buildhook job 01M…} said only "Unmatched argument at index 1"):
     * for a job id given to a command that takes no argument, {@code job show ID}; for a group given without its
     * subcommand ({@code buildhook job}), its subcommands. Empty when neither.
     */
    private static java.util.Optional<String> meant(CommandLine.ParameterException e, CommandLine command) {
        CommandLine.Model.CommandSpec spec = command.getCommandSpec();
        if (e instanceof CommandLine.UnmatchedArgumentException) {
            java.util.List<String> unmatched = ((CommandLine.UnmatchedArgumentException) e).getUnmatched();
            if (spec.positionalParameters().isEmpty() && !unmatched.isEmpty()
                    && JOB_ID.matcher(unmatched.get(0)).matches()) {
                return java.util.Optional.of("did you mean '" + spec.root().qualifiedName() + " job show "
                        + unmatched.get(0) + "'?");
            }
            return java.util.Optional.empty();
        }
        Object user = spec.userObject();
        java.util.List<String> subcommands = new java.util.ArrayList<>();
        command.getSubcommands().forEach((name, sub) -> {
            if (!(sub.getCommand() instanceof CommandLine.HelpCommand)) {
                String labels = sub.getCommandSpec().positionalParameters().stream()
                        .map(p -> " " + p.paramLabel()).collect(java.util.stream.Collectors.joining());
                subcommands.add("'" + spec.qualifiedName() + " " + name + labels + "'");
            }
        });
        if (subcommands.isEmpty() || user instanceof Runnable || user instanceof java.util.concurrent.Callable
                || !e.getMessage().contains("subcommand")) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("'" + spec.qualifiedName() + "' needs a subcommand: did you mean "
                + String.join(" or ", subcommands) + "?");
    }

    /**
     * {@code buildhook} without a command: its usage, on standard error, and exit code 2, a usage mistake (tryout47b
     * F6: it printed the usage on standard output and exited 0, so a script's {@code buildhook $CMD} with an empty
     * variable went on as if it had done something).
     */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        spec.commandLine().getErr().flush();
        return ExitCodes.USAGE;
    }
}
