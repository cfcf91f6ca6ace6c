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
import org.buildhook.core.Secret;
import org.buildhook.core.Sha256;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.core.Verification;

/**
 * What the two SHA-256 passes over a body cost on this JVM (the HMAC that checks its signature and
 * the digest that keys deduplication): thread CPU time per pass, so that the machine's other load
 * matters little. Run it once with the shipped {@code -XX:TieredStopAtLevel=1} and once without:
 * C1 does not use the CPU's SHA instructions, C2 does. Beside the JDK's, buildhook's own: its
 * signature check of a body whose signature is wrong (what a {@code 401} pays: the header decoded,
 * the HMAC, the comparison; through {@code libcrypto} where buildhook uses it), and its SHA-256.
 *
 * <pre>
 * java -XX:TieredStopAtLevel=1 -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.HashCost FILE [passes=20000]
 * java -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.HashCost FILE [passes=20000]
 * </pre>
 *
 * The last line is {@code RESULT label=hash bytes=… hmac_us=… sha256_us=… verify_us=… digest_us=…} (the last
 * of 6 rounds; the first two are the JDK's, the last two buildhook's, computed as its {@code implementation=} says).
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
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of("a-benchmark-secret-of-32-bytes!!"));
        String wrong = SignatureVerifier.PREFIX + "0".repeat(64);
        long sink = 0;
        double hmacMicros = 0;
        double shaMicros = 0;
        double verifyMicros = 0;
        double digestMicros = 0;
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
            for (int i = 0; i < passes; i++) {
                Verification verification = verifier.verify(body, wrong);
                sink += verification.valid() ? 1 : 0;
            }
            long t3 = bean.getCurrentThreadCpuTime();
            for (int i = 0; i < passes; i++) {
                sink += Sha256.digest(body)[0];
            }
            long t4 = bean.getCurrentThreadCpuTime();
            hmacMicros = (t1 - t0) / 1e3 / passes;
            shaMicros = (t2 - t1) / 1e3 / passes;
            verifyMicros = (t3 - t2) / 1e3 / passes;
            digestMicros = (t4 - t3) / 1e3 / passes;
            System.out.printf(Locale.ROOT, "round %d: JDK HMAC-SHA256 %.2f us, JDK SHA-256 %.2f us, buildhook's signature"
                    + " check (wrong) %.2f us, buildhook's SHA-256 %.2f us of CPU per pass (%d bytes)%n", round + 1,
                    hmacMicros, shaMicros, verifyMicros, digestMicros, body.length);
        }
        System.out.printf(Locale.ROOT, "RESULT label=hash bytes=%d hmac_us=%.2f sha256_us=%.2f verify_us=%.2f digest_us=%.2f"
                + " implementation=%s sink=%d%n", body.length, hmacMicros, shaMicros, verifyMicros, digestMicros,
                Sha256.implementation(), sink & 1);
    }
}
