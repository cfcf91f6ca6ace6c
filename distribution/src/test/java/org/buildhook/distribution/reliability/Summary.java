package org.buildhook.distribution.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Prints a scenario's {@code RELIABILITY …} line and appends it to {@code target/reliability-summary.txt}. */
final class Summary {

    private Summary() {
    }

    static void report(String line) {
        String text = "RELIABILITY " + line;
        System.out.println(text);
        try {
            Files.writeString(Path.of("target", "reliability-summary.txt"), text + System.lineSeparator(),
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("could not append to target/reliability-summary.txt: " + e);
        }
    }
}
