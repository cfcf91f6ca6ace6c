package org.buildhook.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.buildhook.core.Verification.Failure;
import org.junit.jupiter.api.Test;

class SignatureVerifierTest {

    private static final List<String> ALL_SECRETS = Fixtures.signatures().stream()
            .map(Fixtures.Signed::secret).distinct().collect(Collectors.toList());

    @Test
    void everyFixtureSignatureVerifiesWithItsSecretAndFailsWithEveryOther() {
        for (Fixtures.Signed row : Fixtures.signatures()) {
            byte[] body = row.body();
            assertThat(SignatureVerifier.of(Secret.of(row.secret())).verify(body, row.signature()).valid())
                    .as(row.toString()).isTrue();
            for (String other : ALL_SECRETS) {
                if (!other.equals(row.secret())) {
                    assertThat(SignatureVerifier.of(Secret.of(other)).verify(body, row.signature()).failure())
                            .as(row + " with " + other).isEqualTo(Failure.NO_MATCH);
                }
            }
        }
    }

    @Test
    void signerReproducesEveryFixtureSignature() {
        for (Fixtures.Signed row : Fixtures.signatures()) {
            assertThat(Signer.sign(row.body(), row.secret().getBytes(UTF_8))).isEqualTo(row.signature());
        }
    }

    @Test
    void flippingAnyByteOfTheBodyFails() {
        Fixtures.Signed row = Fixtures.signatures().get(0);
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of(row.secret()));
        byte[] body = row.body();
        for (int i = 0; i < body.length; i++) {
            byte[] changed = body.clone();
            changed[i] ^= 0x01;
            assertThat(verifier.verify(changed, row.signature()).failure()).as("byte %d", i).isEqualTo(Failure.NO_MATCH);
        }
    }

    @Test
    void changingAnyHexDigitOfTheSignatureFails() {
        Fixtures.Signed row = Fixtures.signatures().get(0);
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of(row.secret()));
        String signature = row.signature();
        for (int i = SignatureVerifier.PREFIX.length(); i < signature.length(); i++) {
            char c = signature.charAt(i);
            char other = c == '0' ? '1' : '0';
            String changed = signature.substring(0, i) + other + signature.substring(i + 1);
            assertThat(verifier.verify(row.body(), changed).failure()).as("digit %d", i).isEqualTo(Failure.NO_MATCH);
        }
    }

    @Test
    void flippingAnyBitOfAnyCharacterOfTheHeaderFails() {
        for (Fixtures.Signed row : Fixtures.signatures()) {
            SignatureVerifier verifier = SignatureVerifier.of(Secret.of(row.secret()));
            String signature = row.signature();
            for (int i = 0; i < signature.length(); i++) {
                for (int bit = 0; bit < 7; bit++) {
                    char flipped = (char) (signature.charAt(i) ^ (1 << bit));
                    String changed = signature.substring(0, i) + flipped + signature.substring(i + 1);
                    boolean sameMeaning = Character.toLowerCase(flipped) == Character.toLowerCase(signature.charAt(i));
                    assertThat(verifier.verify(row.body(), changed).valid()).as("%s char %d bit %d", row, i, bit)
                            .isEqualTo(sameMeaning);
                }
            }
        }
    }

    @Test
    void prettyPrintedSeedVerifiesOnlyAgainstItsOwnBytes() {
        Secret secret = Secret.of("UseSomethingGoodHere");
        SignatureVerifier verifier = SignatureVerifier.of(secret);
        String compactSignature = Signer.sign(Fixtures.bytes("build-67-passed.json"), secret);
        String prettySignature = Signer.sign(Fixtures.bytes("build-67-passed.pretty.json"), secret);
        assertThat(Fixtures.signatures()).contains(
                new Fixtures.Signed("build-67-passed.json", "UseSomethingGoodHere", compactSignature),
                new Fixtures.Signed("build-67-passed.pretty.json", "UseSomethingGoodHere", prettySignature));
        assertThat(new BuildEventParser().parse(Fixtures.bytes("build-67-passed.pretty.json")))
                .isEqualTo(new BuildEventParser().parse(Fixtures.bytes("build-67-passed.json")));

        assertThat(verifier.verify(Fixtures.bytes("build-67-passed.pretty.json"), prettySignature).valid()).isTrue();
        assertThat(verifier.verify(Fixtures.bytes("build-67-passed.pretty.json"), compactSignature).failure())
                .isEqualTo(Failure.NO_MATCH);
        assertThat(verifier.verify(Fixtures.bytes("build-67-passed.json"), prettySignature).failure())
                .isEqualTo(Failure.NO_MATCH);
    }

    @Test
    void reSerialisedBodyDoesNotVerify() {
        Fixtures.Signed row = Fixtures.signatures().get(0);
        byte[] reserialised = new BuildEventParser().parse(row.body()).toString().getBytes(UTF_8);
        byte[] roundTripped = new String(row.body(), UTF_8).replace(", ", ",").getBytes(UTF_8);

        SignatureVerifier verifier = SignatureVerifier.of(Secret.of(row.secret()));
        assertThat(verifier.verify(reserialised, row.signature()).valid()).isFalse();
        assertThat(verifier.verify(roundTripped, row.signature()).valid()).isFalse();
    }

    @Test
    void acceptsAnyOfSeveralSecretsAndSaysWhichMatched() {
        byte[] body = Fixtures.bytes("build-67-passed.json");
        SignatureVerifier rotating = SignatureVerifier.of(Secret.of("UseSomethingGoodHere"), Secret.of("next-secret-2026"));

        for (Fixtures.Signed row : Fixtures.signatures()) {
            if (row.file().equals("build-67-passed.json")) {
                Verification result = rotating.verify(body, row.signature());
                assertThat(result.valid()).isTrue();
                assertThat(result.secretIndex()).isEqualTo(row.secret().equals("next-secret-2026") ? 1 : 0);
            }
        }
        assertThat(rotating.verify(body, Signer.sign(body, Secret.of("retired"))).failure()).isEqualTo(Failure.NO_MATCH);
    }

    @Test
    void acceptsUppercaseHexAndPrefixAndSurroundingSpaces() {
        Fixtures.Signed row = Fixtures.signatures().get(0);
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of(row.secret()));

        assertThat(verifier.verify(row.body(), row.signature().toUpperCase()).valid()).isTrue();
        assertThat(verifier.verify(row.body(), " \t" + row.signature() + " ").valid()).isTrue();
    }

    @Test
    void namesEveryKindOfMalformedHeader() {
        byte[] body = Fixtures.bytes("build-67-passed.json");
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of("UseSomethingGoodHere"));
        String hex = Signer.sign(body, Secret.of("UseSomethingGoodHere")).substring(7);

        assertThat(verifier.verify(body, (String) null).failure()).isEqualTo(Failure.MISSING);
        assertThat(verifier.verify(body, "  ").failure()).isEqualTo(Failure.MISSING);
        assertThat(verifier.verify(body, "sha1:" + hex).failure()).isEqualTo(Failure.BAD_PREFIX);
        assertThat(verifier.verify(body, hex).failure()).isEqualTo(Failure.BAD_PREFIX);
        assertThat(verifier.verify(body, "sha256:" + hex.substring(1)).failure()).isEqualTo(Failure.BAD_LENGTH);
        assertThat(verifier.verify(body, "sha256:" + hex + "0").failure()).isEqualTo(Failure.BAD_LENGTH);
        assertThat(verifier.verify(body, "sha256:").failure()).isEqualTo(Failure.BAD_LENGTH);
        assertThat(verifier.verify(body, "sha256:" + "g" + hex.substring(1)).failure()).isEqualTo(Failure.NOT_HEX);
        assertThat(verifier.verify(body, "sha256:" + hex.substring(1) + "\u0663").failure()).isEqualTo(Failure.NOT_HEX);
        assertThat(verifier.verify(body, "sha256:" + "0".repeat(64)).failure()).isEqualTo(Failure.NO_MATCH);
    }

    @Test
    void findsTheHeaderWhateverItsCase() {
        Fixtures.Signed row = Fixtures.signatures().get(0);
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of(row.secret()));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put(null, List.of("HTTP/1.1 200 OK"));
        headers.put("Content-Type", List.of("application/json"));
        headers.put("x-jobserv-sig", List.of(row.signature()));

        Verification result = verifier.verify(row.body(), headers);

        assertThat(result.valid()).isTrue();
        assertThat(verifier.verify(row.body(), Map.of("X-JOBSERV-SIG", List.of(row.signature()))).valid()).isTrue();
        assertThat(verifier.verify(row.body(), Map.of("Content-Type", List.of("application/json"))).failure())
                .isEqualTo(Failure.MISSING);
    }

    @Test
    void refusesTwoDifferentSignatureHeaders() {
        Fixtures.Signed row = Fixtures.signatures().get(0);
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of(row.secret()));
        Map<String, List<String>> twice = new LinkedHashMap<>();
        twice.put("X-JobServ-Sig", List.of(row.signature()));
        twice.put("x-jobserv-sig", List.of("sha256:" + "0".repeat(64)));

        assertThat(verifier.verify(row.body(), twice).failure()).isEqualTo(Failure.DUPLICATE);
        assertThat(verifier.verify(row.body(), Map.of("X-JobServ-Sig", List.of(row.signature(), row.signature()))).valid())
                .isTrue();
    }

    @Test
    void neverShowsASecretInToString() {
        Secret secret = Secret.of("UseSomethingGoodHere");
        SignatureVerifier verifier = SignatureVerifier.of(secret);
        Verification ok = verifier.verify(Fixtures.bytes("build-67-passed.json"), Fixtures.signatures().get(0).signature());

        assertThat(secret.toString()).doesNotContain("UseSomethingGoodHere");
        assertThat(verifier.toString()).doesNotContain("UseSomethingGoodHere");
        assertThat(ok.toString() + ok.reason()).doesNotContain("UseSomethingGoodHere");
        assertThat(ok.reason()).isEqualTo("valid (secret #0)");
        for (Failure failure : Failure.values()) {
            assertThat(Verification.failed(failure).reason()).isEqualTo(failure.description()).isNotBlank();
        }
    }

    @Test
    void refusesAnEmptySecretOrNoSecretAtAll() {
        assertThatThrownBy(() -> Secret.of("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SignatureVerifier.of(List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one secret");
    }

    @Test
    void verifiesCorrectlyFromManyThreadsAtOnce() throws Exception {
        List<Fixtures.Signed> rows = Fixtures.signatures();
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of("UseSomethingGoodHere"), Secret.of("next-secret-2026"));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Boolean>> checks = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                Fixtures.Signed row = rows.get(i % rows.size());
                byte[] body = row.body();
                boolean tamper = i % 3 == 0;
                if (tamper) {
                    body[body.length / 2] ^= 0x20;
                }
                checks.add(() -> verifier.verify(body, row.signature()).valid() != tamper);
            }
            for (Future<Boolean> check : pool.invokeAll(checks)) {
                assertThat(check.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
