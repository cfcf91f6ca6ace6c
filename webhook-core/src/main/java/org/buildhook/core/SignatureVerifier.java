package org.buildhook.core;

import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.crypto.Mac;

/**
 * Checks the {@code X-JobServ-Sig} header of a JobServ webhook.
 *
 * <p>The header is {@code sha256:} followed by the 64 hex digits (either case) of the HMAC-SHA256
 * of the <em>exact body bytes</em>, keyed with the shared secret. The verifier holds one or more
 * secrets so that a secret can be rotated without downtime: a request is valid when <em>any</em> of
 * them matches, and {@link Verification#secretIndex()} says which. Digests are compared in constant
 * time ({@link MessageDigest#isEqual}). Verify before parsing: nothing here looks inside the body.
 *
 * <p>Instances are immutable and safe to share between request threads.
 */
public final class SignatureVerifier {

    /** The header JobServ puts the signature in (matched case-insensitively). */
    public static final String HEADER = "X-JobServ-Sig";
    /** What the header value starts with (matched case-insensitively). */
    public static final String PREFIX = "sha256:";

    private static final int HEX_LENGTH = 2 * Hmac.LENGTH;

    private final Secret[] secrets;
    private final Mac[] prototypes;

    private SignatureVerifier(List<Secret> secrets) {
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("a signature verifier needs at least one secret");
        }
        this.secrets = secrets.toArray(new Secret[0]);
        this.prototypes = new Mac[this.secrets.length];
        for (int i = 0; i < this.secrets.length; i++) {
            prototypes[i] = Hmac.keyedWith(Objects.requireNonNull(this.secrets[i], "secret #" + i));
        }
    }

    /** A verifier accepting any of {@code secrets}, in order (the current one first is cheapest). */
    public static SignatureVerifier of(List<Secret> secrets) {
        return new SignatureVerifier(Objects.requireNonNull(secrets, "secrets"));
    }

    /** A verifier accepting any of {@code secrets}. */
    public static SignatureVerifier of(Secret... secrets) {
        return of(List.of(secrets));
    }

    /** How many secrets this verifier accepts. */
    public int secretCount() {
        return secrets.length;
    }

    /**
     * Checks {@code body} against the request's headers, finding {@code X-JobServ-Sig} whatever its
     * case. A header given more than once with different values fails as
     * {@link Verification.Failure#DUPLICATE}.
     */
    public Verification verify(byte[] body, Map<String, List<String>> headers) {
        Objects.requireNonNull(headers, "headers");
        String value = null;
        for (Map.Entry<String, List<String>> header : headers.entrySet()) {
            if (!HEADER.equalsIgnoreCase(header.getKey()) || header.getValue() == null) {
                continue;
            }
            for (String v : header.getValue()) {
                if (v == null) {
                    continue;
                }
                if (value != null && !value.equals(v)) {
                    return Verification.failed(Verification.Failure.DUPLICATE);
                }
                value = v;
            }
        }
        return verify(body, value);
    }

    /**
     * Checks {@code body} against one {@code X-JobServ-Sig} value ({@code null} when the request has
     * none). Surrounding spaces and tabs are ignored, as HTTP says.
     */
    public Verification verify(byte[] body, String headerValue) {
        Objects.requireNonNull(body, "body");
        if (headerValue == null) {
            return Verification.failed(Verification.Failure.MISSING);
        }
        String value = headerValue.strip();
        if (value.isEmpty()) {
            return Verification.failed(Verification.Failure.MISSING);
        }
        if (!value.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
            return Verification.failed(Verification.Failure.BAD_PREFIX);
        }
        if (value.length() - PREFIX.length() != HEX_LENGTH) {
            return Verification.failed(Verification.Failure.BAD_LENGTH);
        }
        byte[] claimed = Hex.decode(value, PREFIX.length(), HEX_LENGTH);
        if (claimed == null) {
            return Verification.failed(Verification.Failure.NOT_HEX);
        }
        for (int i = 0; i < prototypes.length; i++) {
            byte[] actual = Sha256.hmac(secrets[i], prototypes[i], body);
            if (MessageDigest.isEqual(actual, claimed)) {
                return Verification.matched(i);
            }
        }
        return Verification.failed(Verification.Failure.NO_MATCH);
    }

    @Override
    public String toString() {
        return "SignatureVerifier[" + secrets.length + " secret(s)]";
    }
}
