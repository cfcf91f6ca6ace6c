package org.buildhook.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** One test per way a signed body can fail to be a JobServ build event, each asserting the message. */
class ParserGuardsTest {

    private static final String RUN = "{\"name\": \"r\", \"url\": \"u\", \"status\": \"PASSED\", \"log_url\": \"l\"}";

    private final BuildEventParser parser = new BuildEventParser();

    private static String event(String extra) {
        return "{\"build_id\": 1, \"url\": \"https://x/projects/f/p/builds/1/\", \"status\": \"PASSED\", \"runs\": ["
                + RUN + "]" + extra + "}";
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRejected(String body) {
        return assertRejected(body.getBytes(UTF_8));
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRejected(byte[] body) {
        return assertThatThrownBy(() -> parser.parse(body)).isInstanceOf(InvalidEventException.class);
    }

    @Test
    void namesThePathOfAValueOfTheWrongType() {
        String body = "{\"build_id\": 1, \"url\": \"u\", \"status\": \"PASSED\", \"runs\": [" + RUN + ", " + RUN
                + ", {\"name\": \"r\", \"url\": \"u\", \"status\": 3, \"log_url\": \"l\"}]}";
        assertRejected(body).hasMessage("$.runs[2].status: expected a string, found a number (3)");
    }

    @Test
    void refusesABodyThatIsNotAnObject() {
        assertRejected("[1, 2]").hasMessage("$: expected an object, found an array");
        assertRejected("").hasMessage("$: the body is empty; expected a JSON object");
    }

    @Test
    void refusesARunThatIsNotAnObject() {
        assertRejected("{\"build_id\": 1, \"url\": \"u\", \"status\": \"S\", \"runs\": [" + RUN + ", \"x\"]}")
                .hasMessage("$.runs[1]: expected an object, found a string");
    }

    @Test
    void namesAMissingRequiredField() {
        assertRejected("{\"build_id\": 1, \"status\": \"PASSED\", \"runs\": []}").hasMessage("$: missing required field \"url\"");
        assertRejected("{\"build_id\": 1, \"url\": \"u\", \"status\": \"S\", \"runs\": [{\"name\": \"r\", \"url\": \"u\", \"status\": \"S\"}]}")
                .hasMessage("$.runs[0]: missing required field \"log_url\"");
        assertRejected("{\"url\": \"u\", \"status\": \"S\", \"runs\": []}").hasMessage("$: missing required field \"build_id\"");
    }

    @Test
    void refusesNullOrEmptyRequiredFields() {
        assertRejected("{\"build_id\": 1, \"url\": null, \"status\": \"S\", \"runs\": []}").hasMessage("$.url: must not be null");
        assertRejected("{\"build_id\": 1, \"url\": \"u\", \"status\": \"\", \"runs\": []}").hasMessage("$.status: must not be empty");
        assertRejected("{\"build_id\": 1, \"url\": \"u\", \"status\": \"S\", \"runs\": null}").hasMessage("$.runs: must not be null");
    }

    @Test
    void refusesABuildIdThatIsNotAPositiveLong() {
        assertRejected("{\"build_id\": -3, \"url\": \"u\", \"status\": \"S\", \"runs\": []}")
                .hasMessage("$.build_id: expected a positive integer, found -3");
        assertRejected("{\"build_id\": 0, \"url\": \"u\", \"status\": \"S\", \"runs\": []}")
                .hasMessage("$.build_id: expected a positive integer, found 0");
        assertRejected("{\"build_id\": 6.5, \"url\": \"u\", \"status\": \"S\", \"runs\": []}")
                .hasMessage("$.build_id: expected a positive integer, found a number (6.5)");
        assertRejected("{\"build_id\": \"67\", \"url\": \"u\", \"status\": \"S\", \"runs\": []}")
                .hasMessage("$.build_id: expected a positive integer, found a string (\"67\")");
        assertRejected("{\"build_id\": 9223372036854775808, \"url\": \"u\", \"status\": \"S\", \"runs\": []}")
                .hasMessage("$.build_id: out of range: 9223372036854775808 is more than 9223372036854775807");
    }

    @Test
    void refusesATimestampWithoutOffset() {
        assertRejected("{\"build_id\": 1, \"url\": \"u\", \"status\": \"S\", \"runs\": [], \"created\": \"2021-07-26T18:10:33\"}")
                .hasMessage("$.created: expected an ISO-8601 timestamp with offset (like 2021-07-26T18:10:37+00:00),"
                        + " found \"2021-07-26T18:10:33\"");
        assertRejected("{\"build_id\": 1, \"url\": \"u\", \"status\": \"S\", \"runs\": [{\"name\": \"r\", \"url\": \"u\","
                + " \"status\": \"S\", \"log_url\": \"l\", \"completed\": \"yesterday\"}]}")
                .hasMessageStartingWith("$.runs[0].completed: expected an ISO-8601 timestamp");
    }

    @Test
    void refusesNestingDeeperThanTheLimit() {
        String deep = "[".repeat(BuildEventParser.MAX_DEPTH) + "]".repeat(BuildEventParser.MAX_DEPTH);
        assertRejected(event(", \"x\": " + deep))
                .hasMessageStartingWith("$.x[0][0]")
                .hasMessageContaining("[0]: objects and arrays nested deeper than 32 levels, the most a build event may have");
        // Far beyond the limit: still the same clear error, not a StackOverflowError.
        assertRejected("{\"x\": " + "[".repeat(1_000_000)).hasMessageContaining("nested deeper than 32 levels");
    }

    @Test
    void refusesMoreRunsThanTheLimit() {
        StringBuilder runs = new StringBuilder(RUN);
        for (int i = 1; i <= BuildEventParser.MAX_RUNS; i++) {
            runs.append(", ").append(RUN);
        }
        assertRejected("{\"build_id\": 1, \"url\": \"u\", \"status\": \"S\", \"runs\": [" + runs + "]}")
                .hasMessage("$.runs: more than 10000 runs, the most one build may have");
    }

    @Test
    void refusesAStringLongerThanTheLimit() {
        String longName = "n".repeat(BuildEventParser.MAX_STRING_LENGTH + 1);
        assertRejected(event(", \"trigger_name\": \"" + longName + "\""))
                .hasMessageStartingWith("$.trigger_name: string longer than 65536 characters, the most one value may have");
    }

    @Test
    void refusesAFieldNameLongerThanTheLimit() {
        String longName = "n".repeat(BuildEventParser.MAX_NAME_LENGTH + 1);
        assertRejected(event(", \"" + longName + "\": 1"))
                .hasMessageContaining("field name longer than 1024 characters, the most one name may have");
    }

    @Test
    void refusesANumberLongerThanTheLimit() {
        assertRejected(event(", \"x\": " + "9".repeat(BuildEventParser.MAX_NUMBER_LENGTH + 1)))
                .hasMessageStartingWith("$.x: number longer than 100 characters, the most one number may have");
    }

    @Test
    void refusesMoreJsonValuesThanTheLimit() {
        String many = "0,".repeat((int) BuildEventParser.MAX_TOKENS) + "0";
        assertRejected(event(", \"x\": [" + many + "]"))
                .hasMessageContaining("more than 500000 JSON values, the most a build event may have");
    }

    /** The message is the 400's answer and the log line: the operator's words, never a Java name. */
    @Test
    void aBodyOverAnyLimitIsRefusedInWordsNamingNoJavaConstantOrMethod() {
        StringBuilder runs = new StringBuilder(RUN);
        for (int i = 1; i <= BuildEventParser.MAX_RUNS; i++) {
            runs.append(", ").append(RUN);
        }
        String[] bodies = {
            event(", \"x\": " + "[".repeat(BuildEventParser.MAX_DEPTH) + "]".repeat(BuildEventParser.MAX_DEPTH)),
            "{\"build_id\": 1, \"url\": \"u\", \"status\": \"S\", \"runs\": [" + runs + "]}",
            event(", \"trigger_name\": \"" + "n".repeat(BuildEventParser.MAX_STRING_LENGTH + 1) + "\""),
            event(", \"" + "n".repeat(BuildEventParser.MAX_NAME_LENGTH + 1) + "\": 1"),
            event(", \"x\": " + "9".repeat(BuildEventParser.MAX_NUMBER_LENGTH + 1)),
            event(", \"x\": [" + "0,".repeat((int) BuildEventParser.MAX_TOKENS) + "0]"),
        };
        for (String body : bodies) {
            assertRejected(body).message().as(body.length() > 80 ? body.substring(0, 80) : body)
                    .doesNotContain("BuildEventParser", "MAX_", "StreamReadConstraints", "`", "()");
        }
    }

    @Test
    void refusesTrailingData() {
        assertRejected(event("") + " {}")
                .hasMessageStartingWith("$: unexpected data after the end of the event (the event ends at line 1, column");
        assertRejected(event("") + "garbage").hasMessageStartingWith("$: unexpected data after the end of the event");
    }

    @Test
    void refusesDuplicateKeys() {
        assertRejected("{\"build_id\": 1, \"build_id\": 2, \"url\": \"u\", \"status\": \"S\", \"runs\": []}")
                .hasMessageStartingWith("$.build_id: Duplicate field 'build_id'");
        assertRejected(event(", \"x\": {\"a\": 1, \"a\": 2}")).hasMessageStartingWith("$.x.a: Duplicate field 'a'");
    }

    @Test
    void refusesInvalidUtf8() {
        byte[] body = event(", \"x\": \"caf\u00e9\"").getBytes(UTF_8);
        int at = new String(body, UTF_8).indexOf('\u00e9') + 1;
        body[at] = (byte) 0xFF;
        assertRejected(body).hasMessageStartingWith("$.x: Invalid UTF-8");
    }

    @Test
    void refusesUtf16() {
        assertRejected(event("").getBytes(java.nio.charset.StandardCharsets.UTF_16LE))
                .hasMessage("$: the body is not UTF-8 (it looks like UTF-16 or UTF-32)");
    }

    @Test
    void refusesSyntaxErrorsWithTheirPlace() {
        assertRejected("{\"build_id\": 1, \"url\": 'u'}").hasMessageStartingWith("$.url: Unexpected character")
                .hasMessageContaining("(line 1, column");
        assertRejected("{\"build_id\": 1, ").hasMessageStartingWith("$.build_id: Unexpected end-of-input");
    }

    /**
     * tryout41 F12: Jackson's own location inside its message read "[Source: REDACTED
     * (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 103]", its option names in an
     * answer to a sender, and "REDACTED" as if something were hidden.
     */
    @Test
    void saysWhereAnArrayOrObjectOpenedWithoutTheParsersOwnWords() {
        String runs = "{\"build_id\": 5, \"status\": \"PASSED\", \"runs\": [}";
        assertRejected(runs).hasMessage("$.runs: Unexpected close marker '}': expected ']' (for Array starting at line"
                + " 1, column " + (runs.indexOf('[') + 1) + ") (line 1, column " + runs.length() + ")");
        assertRejected("{\"build_id\": 5, \"runs\": [").hasMessageStartingWith("$.runs: Unexpected end-of-input:"
                + " expected close marker for Array (start marker at line 1, column ")
                .hasMessageEndingWith("; the body ends before it is closed: was it cut short?");
        for (String body : new String[] {runs, "{\"build_id\": 5, \"runs\": [", "{\"a\": tru}", "[1, 2"}) {
            assertRejected(body).message().doesNotContain("Source").doesNotContain("REDACTED")
                    .doesNotContain("StreamReadFeature").doesNotContain("`");
        }
    }

    @Test
    void refusesANulCharacterInAField() {
        assertRejected(event(", \"trigger_name\": \"a\\u0000b\"")).hasMessage("$.trigger_name: contains a NUL character (\\u0000)");
    }

    @Test
    void refusesAnUnpairedSurrogateInAFieldAndKeepsAPair() {
        assertRejected(event(", \"trigger_name\": \"x\\ud800y\"")).hasMessage(
                "$.trigger_name: contains an unpaired surrogate (\\ud800), which has no UTF-8 encoding");
        assertRejected(event(", \"trigger_name\": \"x\\udc00\"")).hasMessageContaining("unpaired surrogate (\\udc00)");
        assertRejected(event(", \"trigger_name\": \"\\ud83d\"")).hasMessageContaining("unpaired surrogate (\\ud83d)");
        assertThat(parser.parse(event(", \"trigger_name\": \"go \\ud83d\\ude80\"").getBytes(UTF_8))
                .triggerNameIfPresent()).contains("go \ud83d\ude80");
    }
}
