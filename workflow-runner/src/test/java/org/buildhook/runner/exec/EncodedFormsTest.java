package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The encoded forms of a secret that its job's log masks (mask39), and their floors. */
class EncodedFormsTest {

    @Test
    void eachFormHasAtLeastFourCharactersAndEachBase64FragmentSix() {
        for (String value : Set.of("abcd", "abcde", "s3cr3t", "p@ss w0rd/+\"\\", "\u00e4\u00f6\u00fc\u00df")) {
            for (String form : EncodedForms.of(value)) {
                // A form is named by its length only: the assertion must not print the secret.
                assertThat(form.length()).as("a form of a %d-character value", value.length())
                        .isGreaterThanOrEqualTo(SecretNames.SHORTEST_MASKED_VALUE);
                if (isBase64Fragment(form, value)) {
                    assertThat(form.length()).as("a base64 fragment of a %d-character value", value.length())
                            .isGreaterThanOrEqualTo(EncodedForms.SHORTEST_BASE64_FRAGMENT);
                }
            }
            assertThat(EncodedForms.of(value)).as("the value itself is masked as it is, not as a form")
                    .doesNotContain(value);
        }
        assertThat(EncodedForms.of("abc")).as("a value too short to mask has no forms either").isEmpty();
    }

    @Test
    void aFourCharacterSecretKeepsItsWholeBase64AndItsHexButNoFragment() {
        assertThat(EncodedForms.of("abcd")).containsExactlyInAnyOrder("YWJjZA==", "61626364");
    }

    @Test
    void aPlainValueHasNoPercentOrQuotedFormOtherThanItselfButAValueWithSpecialCharactersHasEach() {
        assertThat(EncodedForms.of("s3cr3t-Pa55word")).allMatch(f -> f.matches("[0-9A-Za-z+/=_-]+"));
        assertThat(EncodedForms.of("a/b \"c\u00e4'")).contains(
                "a%2Fb%20%22c%C3%A4%27", "a%2fb%20%22c%c3%a4%27", // RFC 3986, both cases
                "a%2Fb%20%22c%C3%A4'", // encodeURIComponent, jq 1.6's @uri
                "a%2Fb+%22c%C3%A4%27", // a form value (URLEncoder)
                "a/b \\\"c\u00e4'", // inside double quotes
                "a/b \"c\u00e4'\\''"); // inside single quotes as set -x prints it
    }

    /** Whether {@code form} is a proper piece of the base64 of {@code value} at some alignment (not its whole encoding). */
    private static boolean isBase64Fragment(String form, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        for (Base64.Encoder encoder : new Base64.Encoder[] {Base64.getEncoder(), Base64.getUrlEncoder()}) {
            if (form.equals(encoder.encodeToString(bytes))) {
                return false;
            }
            for (int a = 0; a < 3; a++) {
                byte[] aligned = new byte[a + bytes.length];
                System.arraycopy(bytes, 0, aligned, a, bytes.length);
                if (encoder.withoutPadding().encodeToString(aligned).contains(form)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * A JSON string's ways are too many to list (mask46): {@link JsonStringForm} matches them, JsonStringMaskedTest
     * tests them, and Jackson's are not listed again here. {@code \"} alone stays, as double quotes elsewhere hold it.
     */
    @Test
    void aJsonStringIsNotListedAsForms() {
        assertThat(EncodedForms.of("abc/\u00e4\u20acdef-123")).noneMatch(f -> f.contains("\\/") || f.contains("\\u"));
        assertThat(EncodedForms.of("a\\b\"c-1")).contains("a\\b\\\"c-1").noneMatch(f -> f.contains("\\\\"));
    }
}
