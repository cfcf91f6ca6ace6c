package org.buildhook.distribution;

/** Entry point of {@code bin/buildhook}: runs the command line and exits with its code. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        int code = BuildhookCommand.commandLine().execute(args);
        // serve returns only once the server has stopped; every other command is done here.
        System.exit(code);
    }
}
