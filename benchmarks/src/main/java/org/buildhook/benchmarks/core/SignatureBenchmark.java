package org.buildhook.benchmarks.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.Secret;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.core.Signer;
import org.buildhook.core.Verification;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What checking and reading one JobServ delivery costs, next to the bare HMAC-SHA256 of the same
 * bytes on the same JVM ({@link #rawHmac}), which is the floor verification cannot go below.
 * Run from the repository root (fixtures are read from {@code fixtures/}, or from the folder in
 * the system property {@code buildhook.fixtures}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SignatureBenchmark {

    private static final String SECRET = "UseSomethingGoodHere";

    /** The 2.4 KB real build and the 813 KB build with 1,500 runs. */
    @Param({"build-67-passed.json", "build-9000-1500-runs.json"})
    public String fixture;

    private byte[] body;
    private String signature;
    private SignatureVerifier verifier;
    private SignatureVerifier rotating;
    private BuildEventParser parser;

    /** The raw {@link Mac}: keyed once per benchmark thread, as a best case. */
    @State(Scope.Thread)
    public static class RawMac {
        Mac mac;

        @Setup
        public void key() throws GeneralSecurityException {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        }
    }

    @Setup
    public void load() throws IOException {
        body = Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures", "fixtures"), fixture));
        signature = Signer.sign(body, Secret.of(SECRET));
        verifier = SignatureVerifier.of(Secret.of(SECRET));
        rotating = SignatureVerifier.of(Secret.of("the-next-secret-not-yet-in-use"), Secret.of(SECRET));
        parser = new BuildEventParser();
        if (!verifier.verify(body, signature).valid() || parser.parse(body).runs().isEmpty()) {
            throw new IllegalStateException("fixture " + fixture + " does not verify or parse");
        }
    }

    @Benchmark
    public byte[] rawHmac(RawMac raw) {
        return raw.mac.doFinal(body);
    }

    @Benchmark
    public Verification verify() {
        return verifier.verify(body, signature);
    }

    /** Rotation's worst case: the matching secret is the second one, so two HMACs are computed. */
    @Benchmark
    public Verification verifyWithSecondOfTwoSecrets() {
        return rotating.verify(body, signature);
    }

    @Benchmark
    public BuildEvent parse() {
        return parser.parse(body);
    }

    @Benchmark
    public BuildEvent verifyAndParse() {
        if (!verifier.verify(body, signature).valid()) {
            throw new IllegalStateException("signature does not hold");
        }
        return parser.parse(body);
    }
}
