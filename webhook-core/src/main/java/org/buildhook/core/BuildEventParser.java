package org.buildhook.core;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Turns the bytes of a <em>verified</em> JobServ webhook body into a {@link BuildEvent}.
 *
 * <p>Strict where it matters and tolerant where JobServ may grow: required fields, their types,
 * positive {@code build_id}, ISO-8601 timestamps with offset, UTF-8, no duplicate keys, nothing
 * after the event; unknown fields are kept. Hostile input is bounded by the limits below, so a body
 * can cost at most a few times its size in memory and never overflows the stack; the body's own size
 * is the caller's cap. Every problem is an {@link InvalidEventException} naming the JSON path.
 *
 * <p>One instance can be shared by any number of threads.
 */
public final class BuildEventParser {

    /** Deepest nesting of objects and arrays (an event itself needs 3). */
    public static final int MAX_DEPTH = 32;
    /** Most runs in one build (JobServ's largest real builds have a few hundred). */
    public static final int MAX_RUNS = 10_000;
    /** Longest string value, in characters (64 KiB). */
    public static final int MAX_STRING_LENGTH = 64 * 1024;
    /** Longest field name, in characters. */
    public static final int MAX_NAME_LENGTH = 1024;
    /** Longest number, in characters; {@code build_id} must also fit a Java {@code long}. */
    public static final int MAX_NUMBER_LENGTH = 100;
    /** Most JSON tokens in one body (a run is about 20; 10,000 runs need 200,000). */
    public static final long MAX_TOKENS = 500_000;

    /** The {@code , from `StreamReadConstraints.getMaxX()`} that Jackson's limit messages end with. */
    private static final Pattern JACKSON_SOURCE = Pattern.compile(",? ?(from )?`[A-Za-z.]+\\(\\)`");
    /**
     * The location Jackson writes inside its own message for where an array or object opened: {@code [Source:
     * REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 103]} (Jackson 2.16+,
     * {@code JsonLocation.toString()}); said as {@code line 1, column 103} (tryout41 F12).
     */
    private static final Pattern JACKSON_LOCATION = Pattern.compile(
            "\\[Source: [^;\\]]*?(?:\\([^)]*\\))?; line: (\\d+), column: (\\d+)\\]");

    private final ObjectMapper mapper;

    public BuildEventParser() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH)
                        .maxStringLength(MAX_STRING_LENGTH)
                        .maxNameLength(MAX_NAME_LENGTH)
                        .maxNumberLength(MAX_NUMBER_LENGTH)
                        .maxTokenCount(MAX_TOKENS)
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // Field names come from the body: keep them out of the JVM-wide string pool.
                .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                .build();
        this.mapper = new ObjectMapper(factory);
    }

    /**
     * Parses one body. Call only after {@link SignatureVerifier} accepted it.
     *
     * @throws InvalidEventException if the body is not a JobServ build event; the message says
     *     where ({@code $.runs[2].status}) and what is wrong
     */
    public BuildEvent parse(byte[] body) {
        Objects.requireNonNull(body, "body");
        rejectOtherEncodings(body);
        JsonParser json;
        try {
            json = mapper.getFactory().createParser(body);
        } catch (IOException e) {
            throw new InvalidEventException("$", "cannot read the body: " + e.getMessage(), e);
        }
        try (json) {
            if (json.nextToken() == null) {
                throw new InvalidEventException("$", "the body is empty; expected a JSON object");
            }
            BuildEvent event = new EventReader(json, mapper, MAX_RUNS).readEvent();
            rejectTrailingData(json);
            return event;
        } catch (JsonProcessingException e) {
            throw translate(e, json);
        } catch (IOException e) {
            throw new InvalidEventException(JsonPaths.of(json.getParsingContext()),
                    "cannot read the body: " + e.getMessage(), e);
        }
    }

    /**
     * Jackson guesses UTF-16 and UTF-32 from zero bytes and byte order marks; JobServ sends UTF-8
     * (RFC 8259 requires it), so such a body is refused instead of being decoded differently.
     */
    private static void rejectOtherEncodings(byte[] body) {
        boolean bom16 = body.length >= 2
                && ((body[0] == (byte) 0xFE && body[1] == (byte) 0xFF) || (body[0] == (byte) 0xFF && body[1] == (byte) 0xFE));
        boolean zeros = false;
        for (int i = 0; i < Math.min(4, body.length); i++) {
            zeros |= body[i] == 0;
        }
        if (bom16 || zeros) {
            throw new InvalidEventException("$", "the body is not UTF-8 (it looks like UTF-16 or UTF-32)");
        }
    }

    private static void rejectTrailingData(JsonParser json) throws IOException {
        JsonLocation end = json.currentTokenLocation();
        JsonToken next;
        try {
            next = json.nextToken();
        } catch (JsonProcessingException e) {
            next = JsonToken.NOT_AVAILABLE;
        }
        if (next != null) {
            throw new InvalidEventException("$", "unexpected data after the end of the event"
                    + " (the event ends at line " + end.getLineNr() + ", column " + end.getColumnNr() + ")");
        }
    }

    private static InvalidEventException translate(JsonProcessingException e, JsonParser json) {
        String path = JsonPaths.of(json.getParsingContext());
        String problem = e instanceof StreamConstraintsException ? limitExceeded(e.getOriginalMessage())
                : JACKSON_LOCATION.matcher(e.getOriginalMessage()).replaceAll("line $1, column $2");
        JsonLocation at = e.getLocation();
        if (at != null && at.getLineNr() > 0) {
            problem += " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
        }
        if (problem.startsWith("Unexpected end-of-input")) {
            problem += "; the body ends before it is closed: was it cut short?";
        }
        return new InvalidEventException(path, problem, e);
    }

    private static String limitExceeded(String message) {
        if (message.startsWith("Document nesting depth")) {
            return "objects and arrays nested deeper than " + MAX_DEPTH + " levels, the most a build event may have";
        }
        if (message.startsWith("String value length")) {
            return "string longer than " + MAX_STRING_LENGTH + " characters, the most one value may have";
        }
        if (message.startsWith("Name length")) {
            return "field name longer than " + MAX_NAME_LENGTH + " characters, the most one name may have";
        }
        if (message.startsWith("Number value length")) {
            return "number longer than " + MAX_NUMBER_LENGTH + " characters, the most one number may have";
        }
        if (message.startsWith("Token count")) {
            return "more than " + MAX_TOKENS + " JSON values, the most a build event may have";
        }
        // A limit this list does not know yet: Jackson's words without the Java method it names
        // ("…, from `StreamReadConstraints.getMaxDocumentLength()`)").
        return JACKSON_SOURCE.matcher(message).replaceAll("");
    }
}
