package org.buildhook.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** The real JobServ bodies under {@code fixtures/} (surefire passes the folder). */
final class Fixtures {

    /** Every body fixture, pretty-printed one included. */
    static final List<String> BODIES = List.of("build-67-passed.json", "build-68-failed.json",
            "build-412-promoted.json", "build-7-unusual.json", "build-9000-1500-runs.json",
            "build-67-passed.pretty.json");

    /** One row of signatures.tsv. */
    record Signed(String file, String secret, String signature) {
        byte[] body() {
            return bytes(file);
        }
    }

    private Fixtures() {
    }

    static Path folder() {
        String folder = System.getProperty("buildhook.fixtures");
        if (folder == null) {
            throw new IllegalStateException("system property buildhook.fixtures is not set (run the tests with Maven)");
        }
        return Path.of(folder);
    }

    static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(folder().resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Signed> signatures() {
        try {
            return Files.readAllLines(folder().resolve("signatures.tsv"), StandardCharsets.UTF_8).stream()
                    .skip(1)
                    .filter(line -> !line.isBlank())
                    .map(line -> line.split("\t"))
                    .map(cells -> new Signed(cells[0], cells[1], cells[2]))
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
