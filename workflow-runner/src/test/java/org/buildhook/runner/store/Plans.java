package org.buildhook.runner.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.buildhook.runner.PlannedJob;

/** Builders of the values tests store. */
public final class Plans {

    private Plans() {
    }

    public static PlannedJob job(String rule, List<String> argv) {
        return new PlannedJob(rule, "name: " + rule, argv, Map.of(), null, false, Duration.ofSeconds(30), 0,
                Duration.ofMillis(100), 0, null);
    }

    public static PlannedJob job(String rule, List<String> argv, Map<String, String> env, int retries,
            Duration backoff, int concurrency) {
        return new PlannedJob(rule, "name: " + rule, argv, env, null, true, Duration.ofSeconds(30), retries, backoff,
                concurrency, null);
    }

    public static NewDelivery delivery(String body) {
        return delivery("default", body, Instant.now());
    }

    public static NewDelivery delivery(String endpoint, String body, Instant at) {
        return new NewDelivery(endpoint, at, "127.0.0.1",
                Map.of("Content-Type", "application/json", "X-JobServ-Sig", "sha256:00"),
                body.getBytes(StandardCharsets.UTF_8));
    }

    /** The real JobServ body of build 67, from the repository's fixtures. */
    public static byte[] fixtureBody() {
        try {
            return Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures", "fixtures"), "build-67-passed.json"));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    public static String fixture() {
        return new String(fixtureBody(), StandardCharsets.UTF_8);
    }
}
