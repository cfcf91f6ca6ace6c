package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.TimeUnit;

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

    /** A secret with each of the characters bash escapes inside double quotes: {@code $ ` " \}. */
    private static final String DOUBLE_QUOTE_SPECIALS = "pa$s\"w\\or`d-55x";

    /**
     * What {@code /bin/bash -c script} prints, its last line end taken off, with {@code S} set to {@code value} in its
     * environment and a UTF-8 locale: the forms are checked against a real bash's output, not against our idea of it.
     */
    private static String bash(String script, String value) throws Exception {
        return bash(script, value, "C.UTF-8");
    }

    /** As {@link #bash(String, String)}, in the locale {@code locale} ({@code LC_ALL}). */
    private static String bash(String script, String value, String locale) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("/bin/bash", "-c", script).redirectErrorStream(true);
        builder.environment().put("S", value);
        builder.environment().put("LC_ALL", locale);
        Process bash = builder.start();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bash.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(bash.exitValue()).as("bash's exit status").isZero();
        return out.endsWith("\n") ? out.substring(0, out.length() - 1) : out;
    }

    /**
     * {@code printed}, bash's output, is {@code before}, a form of {@code value} other than the value itself, and
     * {@code after}; that form is among {@link EncodedForms#of}, and the log shows {@code before***after}.
     */
    private static void assertMasked(String value, String printed, String before, String after) throws Exception {
        assertThat(printed).startsWith(before).endsWith(after);
        String form = printed.substring(before.length(), printed.length() - after.length());
        assertThat(form).as("bash wrote the value in a form of its own").isNotEqualTo(value);
        assertThat(EncodedForms.of(value)).as("the forms of a %d-character value", value.length()).contains(form);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        LogMask mask = (LogMask) LogMask.over(log, Set.of(value));
        mask.write((printed + "\n").getBytes(StandardCharsets.UTF_8));
        mask.end();
        assertThat(log.toString(StandardCharsets.UTF_8)).isEqualTo(before + "***" + after + "\n");
    }

    /** review55b F2: {@code declare -p} and {@code export -p} write {@code \} before each of {@code $ ` " \}. */
    @Test
    void aSecretAsDeclareAndExportPrintItInDoubleQuotesIsMasked() throws Exception {
        assertMasked(DOUBLE_QUOTE_SPECIALS, bash("declare -p S", DOUBLE_QUOTE_SPECIALS), "declare -x S=\"", "\"");
        assertMasked(DOUBLE_QUOTE_SPECIALS, bash("export -p | grep '^declare -x S='", DOUBLE_QUOTE_SPECIALS),
                "declare -x S=\"", "\"");
        assertMasked(DOUBLE_QUOTE_SPECIALS, bash("set -o posix; export -p | grep '^export S='",
                DOUBLE_QUOTE_SPECIALS), "export S=\"", "\"");
    }

    /**
     * review55b F2: {@code printf %q} writes {@code \} before each character special to the shell; {@code ~} only at
     * the start or after {@code =} or {@code :}, {@code #} only at the start.
     */
    @Test
    void aSecretAsPrintfQPrintsItWithBackslashesIsMasked() throws Exception {
        assertMasked(DOUBLE_QUOTE_SPECIALS, bash("printf 'q:%q.' \"$S\"", DOUBLE_QUOTE_SPECIALS), "q:", ".");
        String shellSpecials = "#p w!d{x}*;'~a=~b:~c,d^e|f&g<h>i(j)k[l]m?n#o~\u00e4";
        assertMasked(shellSpecials, bash("printf 'q:%q.' \"$S\"", shellSpecials), "q:", ".");
    }

    /**
     * review55b F2: a secret with a control character (a key's line ends, a tab, ESC, DEL, U+0085) is written as
     * {@code $'…'} by {@code declare -p}, {@code export -p}, {@code printf %q} and {@code ${S@Q}}: C escapes, octal
     * for the others, {@code \\} and {@code \'}.
     */
    @Test
    void aSecretWithLineEndsAsBashQuotesItInDollarQuotesIsMasked() throws Exception {
        String key = "-----BEGIN KEY-----\nMIIE+a/b\tc\u001b[0m\u007f'q\\\u00e4\u0085\r\n-----END KEY-----";
        assertMasked(key, bash("declare -p S", key), "declare -x S=$'", "'");
        assertMasked(key, bash("export -p | grep '^declare -x S='", key), "declare -x S=$'", "'");
        assertMasked(key, bash("printf 'q:%q.' \"$S\"", key), "q:$'", "'.");
        assertMasked(key, bash("echo \"at:${S@Q}.\"", key), "at:$'", "'.");
    }

    /**
     * review56 F1: in the C locale (a job's {@code export LC_ALL=C}, a host without a UTF-8 locale) bash prints no byte
     * from 0x80 on: {@code declare -p}, {@code export -p}, {@code printf %q} and {@code ${S@Q}} write a value with a
     * character outside ASCII as {@code $'…'} with each such byte as {@code \ooo} ({@code $'p\303\244ss…'}), which
     * went to the log unmasked. Also with a control character, and with a character outside the BMP (four bytes).
     */
    @Test
    void aNonAsciiSecretAsBashQuotesItInTheCLocaleIsMasked() throws Exception {
        String value = "p\u00e4ssw\u00f6rd-secret-'123\\\ud83d\ude00";
        assertMasked(value, bash("declare -p S", value, "C"), "declare -x S=$'", "'");
        assertMasked(value, bash("export -p | grep '^declare -x S='", value, "C"), "declare -x S=$'", "'");
        assertMasked(value, bash("printf 'q:%q.' \"$S\"", value, "C"), "q:$'", "'.");
        assertMasked(value, bash("echo \"at:${S@Q}.\"", value, "C"), "at:$'", "'.");
        // The same value in a UTF-8 locale: inside double quotes as it is, as before.
        assertMasked(value, bash("declare -p S", value), "declare -x S=\"", "\"");
        String key = "-----BEGIN KEY-----\nMIIE+a/b\tc\u00e4\u0085\r\n-----END KEY-----";
        assertMasked(key, bash("declare -p S", key, "C"), "declare -x S=$'", "'");
        assertMasked(key, bash("declare -p S", key), "declare -x S=$'", "'");
    }

    /** {@code ${S@Q}} and {@code set -x} write a value without a control character inside single quotes. */
    @Test
    void aSecretAsBashQuotesItInSingleQuotesIsMasked() throws Exception {
        String value = "it's $x \"y\" \\z";
        assertMasked(value, bash("echo \"at:${S@Q}.\"", value), "at:'", "'.");
        assertMasked(value, bash("set -x; : \"$S\"", value), "+ : '", "'");
    }

    @Test
    void aValueBashWritesAsItIsAddsNoBashForm() {
        assertThat(EncodedForms.of("s3cr3t-Pa55word_x.y@z/+=%")).noneMatch(f -> f.contains("\\"));
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
        // The one form with an escaped backslash is bash's (declare -p and printf %q write this value alike), which
        // for this value reads as its JSON string too; JSON's own escapes are not listed.
        assertThat(EncodedForms.of("a\\b\"c-1")).contains("a\\b\\\"c-1").filteredOn(f -> f.contains("\\\\"))
                .containsExactly("a\\\\b\\\"c-1");
    }
}
