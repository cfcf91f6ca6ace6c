package org.buildhook.benchmarks.limits;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.buildhook.core.BuildEventParser;

/**
 * What parsing one build event costs on this JVM ({@link BuildEventParser#parse}, as the webhook
 * does after the signature holds): thread CPU time per parse, so that the machine's other load
 * matters little. Run it with the shipped {@code -XX:TieredStopAtLevel=1}.
 *
 * <pre>
 * java -XX:TieredStopAtLevel=1 -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.ParseCost FILE [passes=20000]
 * </pre>
 *
 * The last line is {@code RESULT label=parse bytes=… parse_us=…} (the last of 8 rounds).
 */
public final class ParseCost {

    private ParseCost() {
    }

    /** Runs the measurement the class comment describes; arguments as shown there. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ParseCost FILE [passes=20000]");
            System.exit(2);
        }
        byte[] body = Files.readAllBytes(Path.of(args[0]));
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        BuildEventParser parser = new BuildEventParser();
        long sink = 0;
        double micros = 0;
        for (int round = 0; round < 8; round++) { // the first rounds warm the compiler up
            long t0 = bean.getCurrentThreadCpuTime();
            for (int i = 0; i < passes; i++) {
                sink += parser.parse(body).buildId();
            }
            micros = (bean.getCurrentThreadCpuTime() - t0) / 1e3 / passes;
            System.out.printf(Locale.ROOT, "round %d: %.2f us of CPU per parse (%d bytes)%n", round + 1, micros,
                    body.length);
        }
        System.out.printf(Locale.ROOT, "RESULT label=parse bytes=%d parse_us=%.2f sink=%d%n", body.length, micros,
                sink & 1);
    }
}
