package org.buildhook.distribution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Reading the job logs a test's server wrote (SystemdNotifyTest, JobEnvironmentIT). */
final class AttemptLogs {

    private AttemptLogs() {
    }

    /**
     * The log of the first attempt of the job of rule {@code rule} under {@code logs} (a {@code runner.log-dir}): the
     * {@code attempt-1.log} holding {@code BUILDHOOK_RULE=<rule>} (its command printed its environment); null while
     * there is none.
     */
    static String firstOf(Path logs, String rule) throws IOException {
        if (!Files.isDirectory(logs)) {
            return null;
        }
        try (Stream<Path> files = Files.walk(logs)) {
            for (Path log : files.filter(p -> p.getFileName().toString().equals("attempt-1.log")).toList()) {
                String text = Files.readString(log, StandardCharsets.UTF_8);
                if (text.contains("BUILDHOOK_RULE=" + rule + "\n")) {
                    return text;
                }
            }
        }
        return null;
    }
}
