package org.buildhook.benchmarks.limits;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What the two SHA-256 passes over a body cost on this JVM (the HMAC that checks its signature and
 * the digest that keys deduplication): thread CPU time per pass, so that the machine's other load
 * matters little. Run it once with the shipped {@code -XX:TieredStopAtLevel=1} and once without:
 * C1 does not use the CPU's SHA instructions, C2 does.
 *
 * <pre>
 * java -XX:TieredStopAtLevel=1 -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.HashCost FILE [passes=20000]
 * java -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.HashCost FILE [passes=20000]
 * </pre>
 *
 * The last line is {@code RESULT label=hash bytes=… hmac_us=… sha256_us=…} (the last of 6 rounds).
 */
public final class HashCost {

    private HashCost() {
    }

    /** Runs the measurement the class comment describes; arguments as shown there. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: HashCost FILE [passes=20000]");
            System.exit(2);
        }
        byte[] body = Files.readAllBytes(Path.of(args[0]));
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("a-benchmark-secret-of-32-bytes!!".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long sink = 0;
        double hmacMicros = 0;
        double shaMicros = 0;
        for (int round = 0; round < 6; round++) { // the first rounds warm the compiler up
            long t0 = bean.getCurrentThreadCpuTime();
            for (int i = 0; i < passes; i++) {
                sink += mac.doFinal(body)[0];
            }
            long t1 = bean.getCurrentThreadCpuTime();
            for (int i = 0; i < passes; i++) {
                sink += digest.digest(body)[0];
            }
            long t2 = bean.getCurrentThreadCpuTime();
            hmacMicros = (t1 - t0) / 1e3 / passes;
            shaMicros = (t2 - t1) / 1e3 / passes;
            System.out.printf(Locale.ROOT, "round %d: HMAC-SHA256 %.2f us, SHA-256 %.2f us of CPU per pass (%d bytes)%n",
                    round + 1, hmacMicros, shaMicros, body.length);
        }
        System.out.printf(Locale.ROOT, "RESULT label=hash bytes=%d hmac_us=%.2f sha256_us=%.2f sink=%d%n", body.length,
                hmacMicros, shaMicros, sink & 1);
    }
}
