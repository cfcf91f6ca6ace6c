package org.buildhook.benchmarks.joblog;

import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.exec.LogMask;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * What a job start pays for its log's mask (mask39): {@link LogMask#over} for the job's secret values, which since
 * mask39 works out each value's encoded forms too (base64 at three alignments, hex, percent-encoding, JSON). Either
 * {@link LogMaskBenchmark}'s three values ({@code three}) or two of them and a 3 KiB private key in PEM
 * ({@code key}), the longest value a job commonly has; the same values at every start, or new ones.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar 'org.buildhook.benchmarks.joblog.LogMaskStartBenchmark' -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LogMaskStartBenchmark {

    private static final String KEY;

    static {
        StringBuilder pem = new StringBuilder("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        java.util.Random random = new java.util.Random(39);
        byte[] bytes = new byte[2400];
        random.nextBytes(bytes);
        String body = java.util.Base64.getEncoder().encodeToString(bytes);
        for (int at = 0; at < body.length(); at += 70) {
            pem.append(body, at, Math.min(body.length(), at + 70)).append('\n');
        }
        KEY = pem.append("-----END OPENSSH PRIVATE KEY-----\n").toString();
    }

    /** The job's secret values: {@link LogMaskBenchmark}'s three, or two and a private key. */
    @Param({"three", "key"})
    String values;

    /**
     * Whether every start has the same values ({@code same}: the jobs of one rule) or values no start had before
     * ({@code new}: the first job of a rule, or a secret that changes with every job).
     */
    @Param({"same", "new"})
    String starts;

    private final OutputStream sink = OutputStream.nullOutputStream();
    private long count;

    @Benchmark
    public OutputStream over() {
        String first = starts.equals("same") ? "db-Pa55word-2026" : "db-Pa55word-" + count++;
        return LogMask.over(sink, values.equals("three")
                ? List.of(first, "ghp_R4nd0mT0k3nV4lu3xyz", "s3cr3t!")
                : List.of(first, "ghp_R4nd0mT0k3nV4lu3xyz", KEY));
    }
}
