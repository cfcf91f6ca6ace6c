package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * A secret written as a JSON string is masked whole whichever escapes its encoder picked for each character (tryout46
 * F5, mask46): Go's {@code encoding/json} writes {@code &} as <code>&#92;u0026</code>, Gson {@code =} and {@code '}
 * as <code>&#92;u003d</code> and <code>&#92;u0027</code>; before, only Jackson's ways were masked, and the log
 * showed the password behind those escapes. The assertions never print what the log holds: only what it should hold.
 */
class JsonStringMaskedTest {

    /** tryout46's password: Go writes its {@code &} as an escape. */
    private static final String PASSWORD = "Tr0ub4dor&3-horse!x9Z";

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    @Test
    void goEscapesAmpersandAndAngleBrackets() throws Exception {
        String secret = "a<b>c&d-42";
        masked(Set.of(PASSWORD, secret),
                "go-json: {\"pw\": \"Tr0ub4dor\\u00263-horse!x9Z\", \"k\": \"a\\u003cb\\u003ec\\u0026d-42\"}\n",
                "go-json: {\"pw\": \"***\", \"k\": \"***\"}\n");
    }

    @Test
    void gsonEscapesEqualsAndApostrophe() throws Exception {
        masked(Set.of("k=v'it's-9", PASSWORD),
                "gson: {\"t\":\"k\\u003dv\\u0027it\\u0027s-9\",\"pw\":\"Tr0ub4dor\\u00263-horse!x9Z\"}\n",
                "gson: {\"t\":\"***\",\"pw\":\"***\"}\n");
    }

    @Test
    void lowerAndMixedCaseHexDigits() throws Exception {
        masked(Set.of("a<b>c&d-42"),
                "{\"k\":\"a\\u003Cb\\u003ec\\u0026d-42\"} {\"k\":\"a\\u003cb\\u003Ec\\u0026d-42\"}\n",
                "{\"k\":\"***\"} {\"k\":\"***\"}\n");
    }

    @Test
    void aSecretWithEveryCharacterEscaped() throws Exception {
        StringBuilder upper = new StringBuilder();
        for (char c : PASSWORD.toCharArray()) {
            upper.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
        }
        String lower = upper.toString().toLowerCase(Locale.ROOT);
        masked(Set.of(PASSWORD), "[\"" + upper + "\",\"" + lower + "\"]\n", "[\"***\",\"***\"]\n");
    }

    @Test
    void aCharacterOutsideTheBmpAsItsSurrogatePairOrAsItIs() throws Exception {
        String secret = "key-\uD83D\uDD11-\u00e4-2026"; // 🔑 (U+1F511), ä
        masked(Set.of(secret),
                "a \"key-\\ud83d\\udd11-\\u00e4-2026\" b \"key-\\uD83D\\uDD11-\u00e4-2026\""
                        + " c \"key-\uD83D\uDD11-\\u00E4-2026\"\n",
                "a \"***\" b \"***\" c \"***\"\n");
        // Another character outside the BMP (U+1F512) in its place: left alone.
        masked(Set.of(secret), "d \"key-\\uD83D\\uDD12-\u00e4-2026\"\n", "d \"key-\\uD83D\\uDD12-\u00e4-2026\"\n");
    }

    @Test
    void theShortEscapes() throws Exception {
        String secret = "q\"b\\s/t\tn\nr\rf\fb\b-1";
        masked(Set.of(secret), "{\"s\":\"q\\\"b\\\\s\\/t\\tn\\nr\\rf\\fb\\b-1\"}"
                        + " {\"s\":\"q\\u0022b\\u005cs/t\\u0009n\\nr\\rf\\fb\\b-1\"}\n",
                "{\"s\":\"***\"} {\"s\":\"***\"}\n");
    }

    /** PHP's json_encode escapes {@code /} and non-ASCII together (tryout39 F2). */
    @Test
    void slashesAndNonAsciiEscapedTogether() throws Exception {
        masked(Set.of("abc/\u00e4\u20acdef-123"),
                "{\"t\":\"abc\\/\\u00e4\\u20acdef-123\"} \"abc\\/\\u00E4\\u20ACdef-123\"\n",
                "{\"t\":\"***\"} \"***\"\n");
    }

    @Test
    void aSecretSplitAcrossTwoWritesInsideAnEscapeWaitsForTheRest() throws Exception {
        LogMask mask = (LogMask) LogMask.over(log, Set.of(PASSWORD));

        write(mask, "go-json: {\"pw\": \"Tr0ub4dor\\u00");
        assertThat(text()).as("the escape's beginning waits").isEqualTo("go-json: {\"pw\": \"");
        write(mask, "263-horse!x9Z\"}\n");
        mask.end();

        assertThat(text().equals("go-json: {\"pw\": \"***\"}\n")).as("masked").isTrue();
    }

    @Test
    void whatDecodesToAnythingElseIsLeftAlone() throws Exception {
        String text = "{\"q\": \"Tom \\u0026 Jerry\", \"near\": \"Tr0ub4dor\\u00263-horse!x9Y\", \"pw\": "
                + "\"Tr0ub4dor\\u00273-horse!x9Z\", \"bs\": \"Tr0ub4dor\\\\u00263-horse!x9Z\","
                + " \"cut\": \"Tr0ub4dor\\u002\"}\n";
        // Another string with an escaped &; one character other than the password's; another escape in its place; an
        // escaped backslash before u0026 (which decodes to a backslash and u0026, not &); an escape cut short.
        masked(Set.of(PASSWORD), text, text);
        masked(Set.of(PASSWORD), "Tr0ub4dor\\u0026", "Tr0ub4dor\\u0026"); // the output ends inside the secret
    }

    /** Each character escaped or not at random, the output cut at random: always masked, and the rest kept. */
    @Test
    void anyMixOfEscapesHoweverTheOutputIsCut() throws Exception {
        List<String> secrets = List.of(PASSWORD, "ghs_t0k3n/+\"\u00e4\\ q?~*x", "key-\uD83D\uDD11-2026");
        Random random = new Random(46);
        for (int round = 0; round < 1500; round++) {
            StringBuilder text = new StringBuilder();
            StringBuilder expected = new StringBuilder();
            for (int k = 0; k < 4; k++) {
                String s = secrets.get(random.nextInt(secrets.size()));
                String filler = "x" + k + " \\u0026 \\\"q\\\" ";
                text.append(filler).append('"').append(escaped(s, random)).append("\"\n");
                expected.append(filler).append("\"***\"\n");
            }
            byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            LogMask mask = (LogMask) LogMask.over(out, secrets);
            for (int at = 0; at < bytes.length;) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(round % 3 == 0 ? 4 : 60));
                mask.write(bytes, at, n);
                at += n;
            }
            mask.end();
            // Not printed when it differs: it would show what was not masked.
            assertThat(out.toString(StandardCharsets.UTF_8).equals(expected.toString())).as("round %d: %s", round,
                    expected).isTrue();
        }
    }

    /** {@code s} as a JSON string's content, each character as it is (where JSON allows), short-escaped or as \\u. */
    private static String escaped(String s, Random random) {
        StringBuilder out = new StringBuilder();
        for (int j = 0; j < s.length(); j++) {
            char c = s.charAt(j);
            String shortEscape = switch (c) {
                case '"' -> "\\\"";
                case '\\' -> "\\\\";
                case '/' -> "\\/";
                default -> null;
            };
            boolean mustEscape = c == '"' || c == '\\';
            if (Character.isHighSurrogate(c)) {
                if (random.nextBoolean()) {
                    out.append(c).append(s.charAt(++j));
                } else {
                    out.append(unicodeEscape(c, random)).append(unicodeEscape(s.charAt(++j), random));
                }
            } else if (shortEscape != null && random.nextBoolean()) {
                out.append(shortEscape);
            } else if (mustEscape || random.nextBoolean()) {
                out.append(unicodeEscape(c, random));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String unicodeEscape(char c, Random random) {
        return String.format(random.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c);
    }

    private void masked(Set<String> secrets, String written, String expected) throws Exception {
        log.reset();
        LogMask mask = (LogMask) LogMask.over(log, secrets);
        write(mask, written);
        mask.end();
        // Not printed when it differs: it would show what was not masked.
        assertThat(text().equals(expected)).as("the log is %s", expected).isTrue();
    }

    private static void write(LogMask mask, String text) throws Exception {
        mask.write(text.getBytes(StandardCharsets.UTF_8));
    }

    private String text() {
        return log.toString(StandardCharsets.UTF_8);
    }
}
