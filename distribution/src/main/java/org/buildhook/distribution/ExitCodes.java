package org.buildhook.distribution;

/**
 * Exit codes of every {@code buildhook} command, documented in docs/operations.md and in {@code --help}.
 */
public final class ExitCodes {

    /** The command did what it was asked. */
    public static final int OK = 0;
    /** The command ran but the answer is "no": a check found errors, a send was not accepted. */
    public static final int FAILED = 1;
    /** Wrong usage: unknown option, missing argument (picocli's own code). */
    public static final int USAGE = 2;
    /** A file could not be read, a server could not be reached, the configuration is invalid. */
    public static final int UNAVAILABLE = 3;

    /** The line every command's help ends with. */
    static final String HELP = "Exit codes: 0 ok, 1 the answer is no (check found errors, send not accepted), "
            + "2 usage error, 3 cannot read a file, reach a server or start.";

    private ExitCodes() {
    }
}
