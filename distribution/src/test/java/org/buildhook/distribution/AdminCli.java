package org.buildhook.distribution;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * {@code buildhook ARGS} run in this JVM through picocli against an {@link AdminServer} (its URL and admin token
 * file appended), with what its last run printed.
 */
final class AdminCli {

    private final AdminServer server;
    private StringWriter out = new StringWriter();
    private StringWriter err = new StringWriter();

    AdminCli(AdminServer server) {
        this.server = server;
    }

    /** Runs {@code buildhook ARGS --url URL --token-file TOKEN_FILE} against the server; returns its exit code. */
    int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", server.uri().toString(), "--token-file",
                server.dir.resolve("admin-token").toString()));
        return cl.execute(all.toArray(String[]::new));
    }

    /** The last run's standard output. */
    String out() {
        return out.toString();
    }

    /** The last run's standard error. */
    String err() {
        return err.toString();
    }
}
