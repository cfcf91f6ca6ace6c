package org.buildhook.benchmarks.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Sends distinct, correctly signed JobServ bodies to one URL at a fixed concurrency and reports
 * accepted/s, latency percentiles and errors; with {@code --trace}, also when the triggered
 * commands started and finished. A warm-up phase (its own build ids) runs first and is waited for
 * to its last command, so it never mixes into the figures. {@code --rate R} paces the measured
 * phase to at most R requests per second (warm-up is never paced); 0, the default, saturates.
 * Before each phase's clock starts, every sender opens its connection and signs a body it never sends, so that
 * neither this JVM's own start nor a connection's set-up is inside a measured answer, and a paced phase's first
 * bodies go out on time (docs/BENCHMARKS.md, thirty-second pass).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.load.LoadGenerator \
 *     --url http://127.0.0.1:18080/webhook --secret-file data/webhook-secret \
 *     [--style jobserv|hub] [--requests 5000] [--warmup 500] [--concurrency 16] \
 *     [--fixture fixtures/build-67-passed.json] [--trace FILE] [--trace-timeout 300] \
 *     [--first-build-id 1000000] [--rate 0] [--label NAME] [--expect STATUS] [--wrong-secret true]
 *     [--latencies FILE]
 * </pre>
 *
 * {@code --latencies FILE} writes one line per measured request, {@code <build id> <sent, µs since the epoch>
 * <answer ms>} (0 when it failed), so that when the slow answers came can be read beside the server's log.
 *
 * {@code --expect 404} (or 401, …) counts that status as accepted instead of any 2xx: to measure a
 * receiver's refusals; {@code --wrong-secret true} signs with a wrong secret (its {@code 401}).
 *
 * The last line printed is {@code RESULT label=… key=value …} for scripts.
 */
public final class LoadGenerator {

    private LoadGenerator() {
    }

    public static void main(String[] args) throws Exception {
        LoadOptions options;
        try {
            options = LoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("LoadGenerator: " + e.getMessage());
            System.exit(2);
            return;
        }
        String secretText = Files.readString(options.secretFile(), StandardCharsets.UTF_8).strip();
        byte[] secret = (options.wrongSecret() ? secretText + "-wrong" : secretText).getBytes(StandardCharsets.UTF_8);
        SignedBodies bodies = new SignedBodies(Files.readAllBytes(options.fixture()), secret, options.style());
        ExecutorService senders = Executors.newFixedThreadPool(options.concurrency());
        try {
            Phase phase = new Phase(senders, options.concurrency(), Clock.systemUTC());
            long warmupFirst = options.firstBuildId();
            long measuredFirst = warmupFirst + options.warmup();
            if (options.warmup() > 0) {
                Phase.Result warm = phase.run(options.url(), bodies, warmupFirst, options.warmup(), 0,
                        options.expect());
                System.out.printf(Locale.ROOT, "%s warm-up: %d sent, %d accepted, errors %s%n", options.label(),
                        warm.count(), warm.accepted(), warm.errors());
                if (options.trace() != null) {
                    CommandTrace.await(options.trace(), id -> id >= warmupFirst && id < measuredFirst,
                            (int) warm.accepted(), options.traceTimeout());
                }
            }
            Phase.Result result = phase.run(options.url(), bodies, measuredFirst, options.requests(),
                    options.rate(), options.expect());
            report(options, result);
        } finally {
            senders.shutdownNow();
        }
    }

    private static void report(LoadOptions options, Phase.Result result) throws IOException, InterruptedException {
        if (options.latencies() != null) {
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < result.count(); i++) {
                lines.append(String.format(Locale.ROOT, "%d %d %.3f%n", result.first() + i, result.sentMicros()[i],
                        result.answerNanos()[i] / 1e6));
            }
            Files.writeString(options.latencies(), lines, StandardCharsets.UTF_8);
        }
        Percentiles latency = result.latency();
        StringBuilder line = new StringBuilder();
        line.append(String.format(Locale.ROOT, "RESULT label=%s requests=%d concurrency=%d rate=%s accepted=%d"
                + " errors=%d accepted_per_s=%.1f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f", options.label(),
                result.count(), options.concurrency(), options.rate() > 0 ? options.rate() : "max", result.accepted(),
                result.errorCount(),
                result.acceptedPerSecond(), latency.millis(0.50), latency.millis(0.99), latency.millis(0.999),
                latency.maxMillis()));
        System.out.printf(Locale.ROOT, "%s: %d sent in %.2f s at concurrency %d; %d accepted (%.1f/s); errors %s%n",
                options.label(), result.count(), result.elapsedNanos() / 1e9, options.concurrency(),
                result.accepted(), result.acceptedPerSecond(), result.errors());
        System.out.printf(Locale.ROOT, "%s: answer latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms%n",
                options.label(), latency.millis(0.50), latency.millis(0.99), latency.millis(0.999),
                latency.maxMillis());
        if (options.trace() != null) {
            long first = result.first();
            CommandTrace trace = CommandTrace.await(options.trace(), id -> id >= first && id < first + result.count(),
                    (int) result.accepted(), options.traceTimeout());
            long[] startDelays = new long[result.count()];
            int started = 0;
            long lastEnd = Long.MIN_VALUE;
            for (int i = 0; i < result.count(); i++) {
                CommandTrace.Entry entry = trace.entry(first + i);
                if (entry != null) {
                    startDelays[started++] = (entry.startMicros() - result.sentMicros()[i]) * 1_000L;
                    lastEnd = Math.max(lastEnd, entry.endMicros());
                }
            }
            Percentiles start = Percentiles.of(java.util.Arrays.copyOf(startDelays, started));
            double allDoneSeconds = started == 0 ? Double.NaN : (lastEnd - result.startMicros()) / 1e6;
            System.out.printf(Locale.ROOT, "%s: %d of %d commands ran; the last finished %.2f s after the first send;"
                    + " send -> command start p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", options.label(), started,
                    result.accepted(), allDoneSeconds, start.millis(0.50), start.millis(0.99), start.maxMillis());
            line.append(String.format(Locale.ROOT, " commands=%d all_done_s=%.3f start_p50_ms=%.1f start_p99_ms=%.1f",
                    started, allDoneSeconds, start.millis(0.50), start.millis(0.99)));
        }
        System.out.println(line);
    }
}
