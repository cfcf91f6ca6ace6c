package org.buildhook.distribution;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/** {@code buildhook check} run in this JVM through picocli, with what its last run printed. */
final class CheckRun {

    /** The last run's standard output. */
    final StringWriter out = new StringWriter();
    /** The last run's standard error. */
    final StringWriter err = new StringWriter();

    /** Runs {@code check --config config}; returns its exit code. */
    int check(Path config) {
        return check(config, new String[0]);
    }

    /** Runs {@code check --config config} with {@code options} after it (e.g. {@code --strict}). */
    int check(Path config, String... options) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] args = new String[3 + options.length];
        args[0] = "check";
        args[1] = "--config";
        args[2] = config.toString();
        System.arraycopy(options, 0, args, 3, options.length);
        return cl.execute(args);
    }

    /**
     * Writes {@code dir/buildhook.yaml}: {@code data-dir: data}, the default endpoint with a secret file in {@code
     * dir}, then {@code more} (YAML lines, each ending with a newline).
     */
    static Path config(Path dir, Path data, String more) throws IOException {
        Path secret = Files.writeString(dir.resolve("secret"), TestConfig.SECRET);
        return Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + data + "\n"
                + "endpoints: {default: {secrets: [{file: " + secret + "}]}}\n" + more);
    }
}
