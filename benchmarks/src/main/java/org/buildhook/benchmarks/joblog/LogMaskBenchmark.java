package org.buildhook.benchmarks.joblog;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.exec.LogMask;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * A job's output on its way to its log (mask36): 64 KiB of build-log text in the output pump's 8 KiB reads, through
 * {@link LogMask} with 0 secret values (the log itself, no filter: what a job without secrets, such as the
 * benchmarks' {@code /bin/true}, gets) and with 3, once with none of them in the output and once with each printed
 * 16 times.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar 'org.buildhook.benchmarks.joblog.LogMaskBenchmark' -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LogMaskBenchmark {

    private static final int READ = 8192;
    private static final List<String> SECRETS = List.of("db-Pa55word-2026", "ghp_R4nd0mT0k3nV4lu3xyz", "s3cr3t!");

    /** How many secret values the job has: 0 (no filter) or 3. */
    @Param({"0", "3"})
    int secrets;

    /** Whether the output prints each secret 16 times. */
    @Param({"false", "true"})
    boolean printed;

    private byte[] output;
    private Sink sink;
    private OutputStream log;

    @Setup
    public void setUp(Blackhole hole) {
        StringBuilder text = new StringBuilder();
        int line = 0;
        while (text.length() < 64 * 1024) {
            text.append("+ make -C src/module-").append(line % 97).append(" CFLAGS='-O2 -g' all  # step ")
                    .append(line).append(" of the build, compiling objects and linking them\n");
            if (printed && line % 40 == 0 && line / 40 < 16 * SECRETS.size()) {
                text.append("+ curl -u deploy:").append(SECRETS.get(line / 40 % SECRETS.size())).append(" https://x\n");
            }
            line++;
        }
        output = text.substring(0, 64 * 1024).getBytes(StandardCharsets.UTF_8);
        sink = new Sink(hole);
        log = LogMask.over(sink, secrets == 0 ? List.of() : SECRETS);
    }

    @Benchmark
    public void write64KiB() throws IOException {
        for (int at = 0; at < output.length; at += READ) {
            log.write(output, at, Math.min(READ, output.length - at));
        }
        if (log instanceof LogMask mask) {
            mask.end();
        }
    }

    /** Where the log's bytes go: counted and consumed, so that nothing is optimised away. */
    private static final class Sink extends OutputStream {
        private final Blackhole hole;

        Sink(Blackhole hole) {
            this.hole = hole;
        }

        @Override
        public void write(int b) {
            hole.consume(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            hole.consume(b);
            hole.consume(len);
        }
    }
}
