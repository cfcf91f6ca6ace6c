package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.buildhook.core.Verification.Failure;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Properties of signing and verifying, over random bodies and secrets. Each case is one seed (shown
 * in the test name), so a failure is reproduced by running that seed again.
 */
class SignaturePropertiesTest {

    static LongStream seeds() {
        return new SplittableRandom(20261129L).longs(300);
    }

    private static byte[] randomBytes(SplittableRandom random, int min, int max) {
        byte[] bytes = new byte[random.nextInt(min, max + 1)];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return bytes;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aSignedBodyVerifiesWithItsSecretWhereverItIsInTheList(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] body = randomBytes(random, 0, 4096);
        Secret secret = Secret.of(randomBytes(random, 1, 80));
        Secret other = Secret.of(randomBytes(random, 1, 80));
        String signature = Signer.sign(body, secret);

        assertThat(signature).matches("sha256:[0-9a-f]{64}");
        assertThat(SignatureVerifier.of(secret).verify(body, signature)).isEqualTo(Verification.matched(0));
        assertThat(SignatureVerifier.of(other, secret).verify(body, signature)).isEqualTo(Verification.matched(1));
        assertThat(SignatureVerifier.of(other).verify(body, signature).failure()).isEqualTo(Failure.NO_MATCH);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void anyChangeToTheBodyBreaksTheSignature(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] body = randomBytes(random, 1, 4096);
        Secret secret = Secret.of(randomBytes(random, 1, 80));
        String signature = Signer.sign(body, secret);
        SignatureVerifier verifier = SignatureVerifier.of(secret);

        byte[] flipped = body.clone();
        flipped[random.nextInt(body.length)] ^= (byte) (1 << random.nextInt(8));
        byte[] shorter = java.util.Arrays.copyOf(body, random.nextInt(body.length));
        byte[] longer = java.util.Arrays.copyOf(body, body.length + 1 + random.nextInt(8));

        assertThat(verifier.verify(flipped, signature).failure()).isEqualTo(Failure.NO_MATCH);
        assertThat(verifier.verify(shorter, signature).failure()).isEqualTo(Failure.NO_MATCH);
        assertThat(verifier.verify(longer, signature).failure()).isEqualTo(Failure.NO_MATCH);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void anyChangeToTheSignatureBreaksIt(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] body = randomBytes(random, 0, 2048);
        Secret secret = Secret.of(randomBytes(random, 1, 80));
        String signature = Signer.sign(body, secret);
        SignatureVerifier verifier = SignatureVerifier.of(secret);
        int at = random.nextInt(SignatureVerifier.PREFIX.length(), signature.length());
        char original = signature.charAt(at);

        char otherHex = "0123456789abcdef".charAt((Character.digit(original, 16) + 1 + random.nextInt(15)) % 16);
        char notHex = (char) ('g' + random.nextInt(20));
        String changedDigit = signature.substring(0, at) + otherHex + signature.substring(at + 1);
        String nonHex = signature.substring(0, at) + notHex + signature.substring(at + 1);
        String cut = signature.substring(0, at);

        assertThat(verifier.verify(body, changedDigit).failure()).isEqualTo(Failure.NO_MATCH);
        assertThat(verifier.verify(body, nonHex).failure()).isEqualTo(Failure.NOT_HEX);
        assertThat(verifier.verify(body, cut).failure()).isEqualTo(Failure.BAD_LENGTH);
        assertThat(verifier.verify(body, "sha512" + signature.substring(6)).failure()).isEqualTo(Failure.BAD_PREFIX);
    }
}
