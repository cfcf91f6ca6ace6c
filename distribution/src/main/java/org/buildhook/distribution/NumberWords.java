package org.buildhook.distribution;

import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What each numeric option of the command line expects, in an operator's words: picocli's own refusal of
 * {@code --build abc} named Java's type ("'abc' is not a long", tryout36 F4). {@link #reworded} gives the
 * message every command prints instead ("'abc' is not a build number (a whole number such as 67)"); an option
 * missing from {@link #WORDS} still gets "a whole number", and a test checks that every one is in it.
 */
final class NumberWords {

    /** By an option's longest name: what a value of it is. */
    static final Map<String, String> WORDS = Map.of(
            "--build", "a build number (a whole number such as 67)",
            "--attempt", "an attempt number (a whole number: 1 for the first attempt, 2 …)",
            "--limit", "a count (a whole number from 1 to 500)",
            "--port", "a port number (a whole number from 0 to 65535, such as 8080)");

    private NumberWords() {
    }

    /** Whether values of {@code type} are whole numbers, the ones this class words. */
    static boolean wholeNumber(Class<?> type) {
        return type == int.class || type == Integer.class || type == long.class || type == Long.class
                || type == short.class || type == Short.class;
    }

    /**
     * The message for a value picocli could not convert to a whole number, naming the option and what it takes;
     * empty for any other usage mistake.
     */
    static Optional<String> reworded(CommandLine.ParameterException e) {
        ArgSpec arg = e.getArgSpec();
        if (arg == null || !(e.getCause() instanceof CommandLine.TypeConversionException)
                || !wholeNumber(arg.type()) || e.getValue() == null) {
            return Optional.empty();
        }
        String value = e.getValue();
        String where = arg.isOption() ? "option '" + ((OptionSpec) arg).longestName() + "'"
                : "'" + arg.paramLabel() + "'";
        String words = words(arg);
        String what = value.strip().matches("[-+]?[0-9]+")
                ? "'" + value + "' is out of range for " + words
                : "'" + value + "' is not " + words;
        return Optional.of("Invalid value for " + where + ": " + what);
    }

    /** What a value of {@code arg} is: its entry in {@link #WORDS}, else "a whole number". */
    static String words(ArgSpec arg) {
        String name = arg.isOption() ? ((OptionSpec) arg).longestName() : arg.paramLabel();
        return WORDS.getOrDefault(name, "a whole number (such as 67)");
    }
}
