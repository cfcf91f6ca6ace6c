package org.buildhook.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.Secret;
import org.buildhook.core.SignatureVerifier;
import org.junit.jupiter.api.Test;

class SignedBodiesTest {

    private static final byte[] SECRET = "bench-secret".getBytes(StandardCharsets.UTF_8);

    private static byte[] fixture() throws Exception {
        return Files.readAllBytes(Path.of(System.getProperty("buildhook.fixtures"), "build-67-passed.json"));
    }

    @Test
    void eachBodyIsTheFixtureWithItsOwnBuildIdAndAJobServSignatureBuildhookAccepts() throws Exception {
        SignedBodies bodies = new SignedBodies(fixture(), SECRET, HeaderStyle.JOBSERV);

        SignedBodies.SignedBody body = bodies.body(1_000_042);

        assertThat(new BuildEventParser().parse(body.bytes()).buildId()).isEqualTo(1_000_042L);
        assertThat(body.bytes().length).isEqualTo(fixture().length + "1000042".length() - "67".length());
        assertThat(body.header()).isEqualTo("X-JobServ-Sig");
        assertThat(SignatureVerifier.of(Secret.of(SECRET)).verify(body.bytes(), body.signature()).valid()).isTrue();
    }

    @Test
    void hubStyleCarriesTheSameHmacAfterSha256Equals() throws Exception {
        SignedBodies.SignedBody jobServ = new SignedBodies(fixture(), SECRET, HeaderStyle.JOBSERV).body(7);
        SignedBodies.SignedBody hub = new SignedBodies(fixture(), SECRET, HeaderStyle.HUB).body(7);

        assertThat(hub.header()).isEqualTo("X-Hub-Signature-256");
        assertThat(hub.signature()).isEqualTo("sha256=" + jobServ.signature().substring("sha256:".length()));
    }

    @Test
    void aFixtureWithoutBuildIdIsRefused() {
        assertThatThrownBy(() -> new SignedBodies("{}".getBytes(StandardCharsets.UTF_8), SECRET, HeaderStyle.HUB))
                .hasMessageContaining("build_id");
    }
}
