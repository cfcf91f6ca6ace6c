package org.buildhook.benchmarks.load;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Distinct bodies made from one JobServ fixture: only the {@code build_id} number changes, so
 * every other byte is the real payload and no two bodies are duplicates of each other.
 */
public final class SignedBodies {

    private static final Pattern BUILD_ID = Pattern.compile("\"build_id\"\\s*:\\s*\\d+");

    private final String before;
    private final String after;
    private final byte[] secret;
    private final HeaderStyle style;

    /** Bodies from {@code fixture} (UTF-8 JSON with a numeric {@code build_id}), signed as {@code style} says. */
    public SignedBodies(byte[] fixture, byte[] secret, HeaderStyle style) {
        String text = new String(fixture, StandardCharsets.UTF_8);
        Matcher matcher = BUILD_ID.matcher(text);
        if (!matcher.find()) {
            throw new IllegalArgumentException("the fixture has no numeric \"build_id\"");
        }
        this.before = text.substring(0, matcher.start());
        this.after = text.substring(matcher.end());
        this.secret = secret.clone();
        this.style = Objects.requireNonNull(style, "style");
    }

    /** The fixture with {@code build_id} set to {@code buildId}, and its signature header. */
    public SignedBody body(long buildId) {
        byte[] bytes = (before + "\"build_id\": " + buildId + after).getBytes(StandardCharsets.UTF_8);
        return new SignedBody(buildId, bytes, style.header(), style.sign(bytes, secret));
    }

    /** One body ready to send. */
    public record SignedBody(long buildId, byte[] bytes, String header, String signature) {
    }
}
