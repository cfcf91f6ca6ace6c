package org.buildhook.core;

import java.util.Optional;

/**
 * The outcome of checking one request's signature: either valid, with the index of the configured
 * secret that matched, or invalid, with the {@link Failure} that says why. The reason is for the
 * receiver's log; the sender should only ever get a generic answer.
 *
 * @param failure why the signature does not hold, or {@code null} when it does
 * @param secretIndex the position, in the list given to {@link SignatureVerifier#of}, of the secret
 *     that matched, or {@code -1} when the signature does not hold
 */
public record Verification(Failure failure, int secretIndex) {

    /** Why a request's signature does not hold. */
    public enum Failure {
        /** There is no {@code X-JobServ-Sig} header. */
        MISSING("no " + SignatureVerifier.HEADER + " header"),
        /** The header is there more than once (with different values). */
        DUPLICATE("more than one " + SignatureVerifier.HEADER + " header"),
        /** The header does not start with {@code sha256:}. */
        BAD_PREFIX(SignatureVerifier.HEADER + " does not start with \"" + SignatureVerifier.PREFIX + "\""),
        /** After the prefix there are not exactly 64 characters. */
        BAD_LENGTH(SignatureVerifier.HEADER + " digest is not " + 2 * Hmac.LENGTH + " characters long"),
        /** The 64 characters are not all hex digits. */
        NOT_HEX(SignatureVerifier.HEADER + " digest contains a character that is not a hex digit"),
        /** Well-formed, but no configured secret produces it for these bytes. */
        NO_MATCH("no configured secret matches " + SignatureVerifier.HEADER
                + " (the sender uses another secret, or the body was changed after signing)");

        private final String description;

        Failure(String description) {
            this.description = description;
        }

        /** A sentence for the receiver's log; never contains the secret or the header value. */
        public String description() {
            return description;
        }
    }

    private static final Verification[] FAILED = new Verification[Failure.values().length];

    static {
        for (Failure f : Failure.values()) {
            FAILED[f.ordinal()] = new Verification(f, -1);
        }
    }

    public Verification {
        if ((failure == null) != (secretIndex >= 0)) {
            throw new IllegalArgumentException(
                    "a verification either matched a secret (index >= 0) or failed, got " + failure + ", " + secretIndex);
        }
    }

    /** A signature that matched the secret at {@code secretIndex}. */
    public static Verification matched(int secretIndex) {
        return new Verification(null, secretIndex);
    }

    /** A signature that does not hold, for the given reason. */
    public static Verification failed(Failure failure) {
        return FAILED[failure.ordinal()];
    }

    /** True when the body was signed with one of the configured secrets. */
    public boolean valid() {
        return failure == null;
    }

    /** The failure, empty when valid. */
    public Optional<Failure> failureIfPresent() {
        return Optional.ofNullable(failure);
    }

    /** For logs: {@code valid (secret #0)} or the failure's description. */
    public String reason() {
        return valid() ? "valid (secret #" + secretIndex + ")" : failure.description();
    }
}
