package org.buildhook.benchmarks.load;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What one load run does: where to send, how many bodies (warm-up, then measured), how many at
 * once, how they are signed, where the triggered commands leave their trace (optional), and where
 * each measured request's send time and answer latency are written (optional, {@code --latencies}).
 */
public record LoadOptions(URI url, int requests, int warmup, int concurrency, HeaderStyle style, Path secretFile,
        Path fixture, Path trace, Duration traceTimeout, long firstBuildId, double rate, String label, int expect,
        boolean wrongSecret, Path latencies) {

    static final int MAX_REQUESTS = 1_000_000;

    /** Validates every value. */
    public LoadOptions {
        Objects.requireNonNull(url, "--url is required");
        Objects.requireNonNull(style, "style");
        Objects.requireNonNull(secretFile, "--secret-file is required");
        Objects.requireNonNull(fixture, "fixture");
        Objects.requireNonNull(traceTimeout, "traceTimeout");
        Objects.requireNonNull(label, "label");
        if (requests < 1 || requests > MAX_REQUESTS) {
            throw new IllegalArgumentException("--requests: expected 1 to " + MAX_REQUESTS + ", got " + requests);
        }
        if (warmup < 0 || warmup > MAX_REQUESTS) {
            throw new IllegalArgumentException("--warmup: expected 0 to " + MAX_REQUESTS + ", got " + warmup);
        }
        if (concurrency < 1 || concurrency > 1000) {
            throw new IllegalArgumentException("--concurrency: expected 1 to 1000, got " + concurrency);
        }
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("--rate: expected 0 (as fast as answers come) or requests per second,"
                    + " got " + rate);
        }
        if (expect != 0 && (expect < 100 || expect > 599)) {
            throw new IllegalArgumentException("--expect: expected an HTTP status (100 to 599), got " + expect);
        }
        if (firstBuildId < 1) {
            throw new IllegalArgumentException("--first-build-id: expected a positive number, got " + firstBuildId);
        }
    }

    /** Parses {@code --name value} pairs; see {@link LoadGenerator} for the list. */
    public static LoadOptions parse(String... args) {
        URI url = null;
        int requests = 5_000;
        int warmup = 500;
        int concurrency = 16;
        HeaderStyle style = HeaderStyle.JOBSERV;
        Path secretFile = null;
        Path fixture = Path.of("fixtures/build-67-passed.json");
        Path trace = null;
        Duration traceTimeout = Duration.ofMinutes(5);
        long firstBuildId = 1_000_000;
        double rate = 0;
        String label = "load";
        int expect = 0;
        boolean wrongSecret = false;
        Path latencies = null;
        for (int i = 0; i < args.length; i += 2) {
            String name = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(name + ": a value is missing");
            }
            String value = args[i + 1];
            switch (name) {
                case "--url" -> url = URI.create(value);
                case "--requests" -> requests = Integer.parseInt(value);
                case "--warmup" -> warmup = Integer.parseInt(value);
                case "--concurrency" -> concurrency = Integer.parseInt(value);
                case "--style" -> style = HeaderStyle.named(value);
                case "--secret-file" -> secretFile = Path.of(value);
                case "--fixture" -> fixture = Path.of(value);
                case "--trace" -> trace = Path.of(value);
                case "--trace-timeout" -> traceTimeout = Duration.ofSeconds(Long.parseLong(value));
                case "--first-build-id" -> firstBuildId = Long.parseLong(value);
                case "--rate" -> rate = Double.parseDouble(value);
                case "--label" -> label = value;
                case "--expect" -> expect = Integer.parseInt(value);
                case "--wrong-secret" -> wrongSecret = Boolean.parseBoolean(value);
                case "--latencies" -> latencies = Path.of(value);
                default -> throw new IllegalArgumentException(name + ": unknown option; see the class comment of "
                        + LoadGenerator.class.getName());
            }
        }
        return new LoadOptions(url, requests, warmup, concurrency, style, secretFile, fixture, trace, traceTimeout,
                firstBuildId, rate, label, expect, wrongSecret, latencies);
    }
}
