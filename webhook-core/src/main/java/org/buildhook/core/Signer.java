package org.buildhook.core;

import java.util.Objects;

/**
 * Computes the {@code X-JobServ-Sig} value JobServ would send for a body: {@code sha256:} followed
 * by the lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the secret. For tests and
 * for the command line's {@code send}; the receiver uses {@link SignatureVerifier}.
 */
public final class Signer {

    private Signer() {
    }

    /** The header value for {@code body} signed with {@code secret} (the secret's raw bytes). */
    public static String sign(byte[] body, byte[] secret) {
        return sign(body, Secret.of(secret));
    }

    /** The header value for {@code body} signed with {@code secret}. */
    public static String sign(byte[] body, Secret secret) {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(secret, "secret");
        return SignatureVerifier.PREFIX + Hex.lower(Hmac.keyedWith(secret).doFinal(body));
    }
}
