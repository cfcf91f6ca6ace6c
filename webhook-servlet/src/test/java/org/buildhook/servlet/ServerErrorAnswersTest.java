package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A server error (5xx) a buildhook servlet means to answer is written by the servlet itself, never
 * handed to the container with {@code sendError}: the error page ({@link ErrorBody}) hides the message
 * of every 5xx (it may name internals), so what the servlet meant to say became "internal error; the
 * server log has the details", which reads like a bug of buildhook (tryout21 F7: the status page
 * during a store outage). Reads the product's main sources (webhook-servlet, distribution).
 */
class ServerErrorAnswersTest {

    /** {@code sendError(} with a 5xx status: a {@code SC_} constant of the 5xx range or a number 5xx. */
    private static final Pattern SEND_5XX = Pattern.compile("sendError\\(\\s*(?:HttpServletResponse\\.)?(?:SC_(?:"
            + "INTERNAL_SERVER_ERROR|NOT_IMPLEMENTED|BAD_GATEWAY|SERVICE_UNAVAILABLE|GATEWAY_TIMEOUT"
            + "|HTTP_VERSION_NOT_SUPPORTED|INSUFFICIENT_STORAGE)|5\\d\\d)\\b");

    @Test
    void noServletHandsAServerErrorItMeansToTheErrorPage() throws IOException {
        Path root = Docs.root();
        List<String> found = new ArrayList<>();
        for (String module : List.of("webhook-servlet", "distribution")) {
            try (Stream<Path> files = Files.walk(root.resolve(module).resolve("src/main/java"))) {
                files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(f -> {
                    List<String> lines = read(f);
                    for (int i = 0; i < lines.size(); i++) {
                        Matcher m = SEND_5XX.matcher(lines.get(i));
                        if (m.find()) {
                            found.add(root.relativize(f) + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                });
            }
        }
        assertThat(found).as("write the answer (status, body) instead: the error page says only 'internal error'"
                + " for a 5xx").isEmpty();
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
