package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How one program reads its options, as getopt does (tryout42 F1): which option names the code it runs, which take a
 * value (the rest of their cluster, {@code -Wignore}, or else the next argument, {@code -W ignore}), and that one-letter
 * options cluster ({@code -lc}, {@code -uc}). Reading the options by this table finds the code behind an option's value
 * ({@code python3 -W ignore -c …}) and keeps a value from being taken for the program's script or operand. The tables
 * come from each program's manual ({@code python3 -h}, {@code node --help}, {@code perlrun}, {@code su(1)},
 * {@code env(1)}, {@code watch(1)}, {@code script(1)}).
 *
 * @param code        the one-letter options whose value is the code
 * @param longCode    the long options ({@code --eval}) whose value is the code
 * @param value       the one-letter options that take a value that is not code
 * @param longValue   the long options that take a value that is not code ({@code --require})
 * @param last        the one-letter options after whose value the program reads no more options ({@code python3 -m})
 * @param interleaved whether options may follow operands ({@code su root -c …}), as GNU getopt permutes them
 * @param flags       null when a long option is only read as written; else the program reads a long option's unique
 *                    prefix as that option, as getopt_long and git's parse-options do ({@code --checkpoint-act=} is
 *                    {@code --checkpoint-action=}; review50b R1), and these are its long options without a value that
 *                    are a prefix of a {@code longCode} one ({@code tar --checkpoint}), read as themselves
 * @param bundled     whether a first argument without a dash is a cluster of one-letter options, as GNU tar reads
 *                    its traditional form ({@code tar cIf PROG a.tar}: each option's value the next argument in turn)
 */
record ProgramOptions(Set<Character> code, Set<String> longCode, Set<Character> value, Set<String> longValue,
        Set<Character> last, boolean interleaved, Set<String> flags, boolean bundled) {

    /** A table of options that stop at the first operand. */
    static ProgramOptions of(String code, Set<String> longCode, String value, Set<String> longValue) {
        return new ProgramOptions(letters(code), longCode, letters(value), longValue, Set.of(), false, null, false);
    }

    /** This table, with {@code last} options that end the options after their value. */
    ProgramOptions endingAfter(String letters) {
        return new ProgramOptions(code, longCode, value, longValue, letters(letters), interleaved, flags, bundled);
    }

    /** This table, with options read past operands too. */
    ProgramOptions permuted() {
        return new ProgramOptions(code, longCode, value, longValue, last, true, flags, bundled);
    }

    /**
     * This table, with a long option's unique prefix read as that option ({@link #flags}).
     *
     * @param flags the program's long options without a value that are a prefix of a {@code longCode} one
     */
    ProgramOptions abbreviated(String... flags) {
        return new ProgramOptions(code, longCode, value, longValue, last, interleaved, Set.of(flags), bundled);
    }

    /** This table, with a first argument without a dash read as a cluster of one-letter options (GNU tar). */
    ProgramOptions traditional() {
        return new ProgramOptions(code, longCode, value, longValue, last, interleaved, flags, true);
    }

    /**
     * The long code option {@code option} names as written or, when the program reads prefixes, as a prefix of it
     * ({@code --use-compress-prog}), or null. A prefix of more than one code option names the first of them (each
     * names what runs, so which does not matter); one of {@link #flags} or a long value option written out names
     * none.
     */
    private String longCodeOption(String option) {
        if (longCode.contains(option)) {
            return option;
        }
        if (flags == null || option.length() < 3 || flags.contains(option) || longValue.contains(option)) {
            return null;
        }
        return longCode.stream().filter(o -> o.startsWith(option)).sorted().findFirst().orElse(null);
    }

    private static Set<Character> letters(String letters) {
        return letters.chars().mapToObj(c -> (char) c).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /**
     * Reads the options of the program at {@code at}.
     *
     * @return the code found (its element, and the option as written, {@code -c} or {@code --eval}), or where the
     *         options end
     */
    Found read(List<String> argv, int at) {
        int i = at + 1;
        if (bundled && i < argv.size() && !argv.get(i).startsWith("-")) {
            // GNU tar's traditional form: tar cIf PROG a.tar …, each option's value the next argument in turn.
            String cluster = argv.get(i);
            int next = i + 1;
            for (int c = 0; c < cluster.length(); c++) {
                char letter = cluster.charAt(c);
                if (code.contains(letter)) {
                    return new Found(next < argv.size() ? next : -1, "-" + letter, next + 1);
                }
                next += value.contains(letter) ? 1 : 0;
            }
            i = next;
        }
        while (i < argv.size()) {
            String arg = argv.get(i);
            if (arg.equals("--")) {
                return new Found(-1, null, i + 1);
            }
            if (arg.length() < 2 || arg.charAt(0) != '-') {
                if (!interleaved) {
                    return new Found(-1, null, i);
                }
                i++;
                continue;
            }
            if (arg.startsWith("--")) {
                int eq = arg.indexOf('=');
                String option = longCodeOption(eq < 0 ? arg : arg.substring(0, eq));
                if (option != null) {
                    return eq < 0 ? new Found(i + 1 < argv.size() ? i + 1 : -1, option, i + 2)
                            : new Found(i, option, i + 1);
                }
                i += eq < 0 && longValue.contains(arg) ? 2 : 1;
                continue;
            }
            int next = i + 1;
            for (int c = 1; c < arg.length(); c++) {
                char letter = arg.charAt(c);
                boolean glued = c + 1 < arg.length();
                if (code.contains(letter)) {
                    String option = "-" + letter;
                    return glued ? new Found(i, option, i + 1) : new Found(next < argv.size() ? next : -1, option,
                            next + 1);
                }
                if (value.contains(letter)) {
                    next = glued ? i + 1 : i + 2;
                    if (last.contains(letter)) {
                        return new Found(-1, null, next);
                    }
                    break;
                }
            }
            i = next;
        }
        return new Found(-1, null, argv.size());
    }

    /**
     * What the program at {@code at} is given before {@code end}, as getopt reads it (for which program passes the
     * job's environment on: {@code su -l}, {@code sudo -E}; {@link VariableAdvice}): each option, one letter of a
     * cluster at a time ({@code -lw NAME}: {@code -l}, then {@code -w} with {@code NAME}), a long one without its
     * {@code =value}, with its value; and each operand (its option null), up to the first one for a program that does
     * not read options past operands (that operand included).
     *
     * @param end the index before which to stop (at most {@code argv}'s size)
     */
    List<Given> given(List<String> argv, int at, int end) {
        List<Given> out = new ArrayList<>();
        int stop = Math.min(end, argv.size());
        int i = at + 1;
        while (i < stop && !argv.get(i).equals("--")) {
            String arg = argv.get(i);
            if (arg.length() < 2 || arg.charAt(0) != '-') {
                out.add(new Given(null, arg));
                if (!interleaved) {
                    break;
                }
                i++;
                continue;
            }
            if (arg.startsWith("--")) {
                int eq = arg.indexOf('=');
                String option = eq < 0 ? arg : arg.substring(0, eq);
                boolean takes = eq < 0 && (longValue.contains(option) || longCode.contains(option));
                out.add(new Given(option, eq >= 0 ? arg.substring(eq + 1) : takes ? at(argv, i + 1) : null));
                i += takes ? 2 : 1;
                continue;
            }
            int next = i + 1;
            for (int c = 1; c < arg.length(); c++) {
                char letter = arg.charAt(c);
                if (value.contains(letter) || code.contains(letter)) {
                    boolean glued = c + 1 < arg.length();
                    out.add(new Given("-" + letter, glued ? arg.substring(c + 1) : at(argv, next)));
                    next = glued ? i + 1 : i + 2;
                    break;
                }
                out.add(new Given("-" + letter, null));
            }
            i = next;
        }
        return out;
    }

    private static String at(List<String> argv, int i) {
        return i < argv.size() ? argv.get(i) : null;
    }

    /**
     * One option or operand {@link #given} found.
     *
     * @param option the option as written ({@code -l}, {@code --preserve-env}), or null for an operand
     * @param value  the option's value (null when it takes none), or the operand
     */
    record Given(String option, String value) {

        /** Whether this is the option {@code shortName} or {@code longName}. */
        boolean is(String shortName, String longName) {
            return option != null && (option.equals(shortName) || option.equals(longName));
        }

        /** Whether this option's value names {@code variable}: {@code NAME}, {@code NAME=value}, or in a list. */
        boolean names(String variable) {
            if (value == null) {
                return false;
            }
            for (String name : value.split(",")) {
                if (name.equals(variable) || name.startsWith(variable + "=")) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * What {@link #read} found.
     *
     * @param code    the element that holds the code (the option's own, when glued to it), or -1
     * @param option  the option that names it, as written ({@code -c}, {@code --eval}), or null
     * @param operand the index of the first element after the options (or after the code), at most past the end
     */
    record Found(int code, String option, int operand) {
    }
}
