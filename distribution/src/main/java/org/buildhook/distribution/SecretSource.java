package org.buildhook.distribution;

import org.buildhook.core.BoundedFile;
import org.buildhook.core.FileTooLargeException;
import org.buildhook.core.IoProblems;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Where a command-line secret comes from: a file or an environment variable, never an argument
 * (arguments are visible to every user in {@code ps}).
 */
final class SecretSource {

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "File holding the webhook secret (trailing newline ignored).")
    Path file;

    @Option(names = "--secret-env", paramLabel = "NAME",
            description = "Environment variable holding the webhook secret.")
    String env;

    /** The option the secret was given with, as typed: {@code --secret-file FILE} or {@code --secret-env NAME}. */
    String given() {
        return file != null ? "--secret-file " + file : "--secret-env " + env;
    }

    /** The secret's bytes; the message of the exception never contains the secret. */
    byte[] read(Map<String, String> environment) {
        if (file != null) {
            try {
                return stripNewline(BoundedFile.readString(file, BoundedFile.SECRET_FILE_BYTES))
                        .getBytes(StandardCharsets.UTF_8);
            } catch (FileTooLargeException e) {
                throw new CommandFailure("cannot read the secret file " + file + ": " + e.getMessage() + "; check that"
                        + " --secret-file names the file that holds the endpoint's secret", ExitCodes.UNAVAILABLE);
            } catch (IOException e) {
                throw new CommandFailure("cannot read the secret file " + file + ": " + IoProblems.describe(e)
                        + "; check the path and that this user may read it", ExitCodes.UNAVAILABLE);
            }
        }
        String value = environment.get(env);
        if (value == null || value.isEmpty()) {
            throw new CommandFailure("the environment variable " + env + " is not set or empty; export it with the "
                    + "endpoint's secret, or use --secret-file", ExitCodes.UNAVAILABLE);
        }
        return value.getBytes(StandardCharsets.UTF_8);
    }

    private static String stripNewline(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
            end--;
        }
        return s.substring(0, end);
    }
}
