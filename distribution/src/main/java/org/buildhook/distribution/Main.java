package org.buildhook.distribution;

/** Entry point of {@code bin/buildhook}: runs the command line and exits with its code. */
public final class Main {

    private Main() {
    }

    /**
     * This process's standard output when {@code bin/buildhook} runs a command ({@link #main}); null when a
     * command runs inside another program (a test) that gave it a writer of its own.
     */
    private static volatile java.io.PrintStream standardOutput;

    /** {@link #standardOutput}: the process's standard output, or null. */
    static java.io.PrintStream standardOutput() {
        return standardOutput;
    }

    public static void main(String[] args) {
        // The process's own standard output, for what must reach it byte for byte (logs to a pipe or a file).
        standardOutput = System.out;
        int code = BuildhookCommand.commandLine().execute(args);
        // serve returns only once the server has stopped; every other command is done here.
        System.exit(code);
    }
}
