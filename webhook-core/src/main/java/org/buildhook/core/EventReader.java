package org.buildhook.core;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Walks the tokens of one body into a {@link BuildEvent}. One instance per parse; the parser
 * (with its limits) and the mapper for unknown fields come from {@link BuildEventParser}.
 */
final class EventReader {

    private static final int MAX_EXCERPT = 64;

    private final JsonParser json;
    private final ObjectMapper mapper;
    private final int maxRuns;

    EventReader(JsonParser json, ObjectMapper mapper, int maxRuns) {
        this.json = json;
        this.mapper = mapper;
        this.maxRuns = maxRuns;
    }

    /** Reads the event whose first token the parser is at. */
    BuildEvent readEvent() throws IOException {
        expectObject();
        long buildId = 0;
        String url = null;
        String status = null;
        List<Run> runs = null;
        String webUrl = null;
        String name = null;
        String triggerName = null;
        OffsetDateTime created = null;
        OffsetDateTime completed = null;
        Map<String, JsonNode> unknown = null;
        for (String field = json.nextFieldName(); field != null; field = json.nextFieldName()) {
            json.nextToken();
            switch (field) {
                case "build_id": buildId = buildId(); break;
                case "url": url = requiredString(); break;
                case "status": status = requiredString(); break;
                case "runs": runs = runs(); break;
                case "web_url": webUrl = optionalString(); break;
                case "name": name = optionalString(); break;
                case "trigger_name": triggerName = optionalString(); break;
                case "created": created = optionalTimestamp(); break;
                case "completed": completed = optionalTimestamp(); break;
                default: unknown = keep(unknown, field); break;
            }
        }
        String here = here();
        require(buildId != 0, here, "build_id");
        require(url != null, here, "url");
        require(status != null, here, "status");
        require(runs != null, here, "runs");
        return new BuildEvent(buildId, url, BuildStatus.of(status), runs, webUrl, name, triggerName,
                created, completed, unknown);
    }

    private Run run() throws IOException {
        expectObject();
        String name = null;
        String url = null;
        String status = null;
        String logUrl = null;
        String webUrl = null;
        OffsetDateTime created = null;
        OffsetDateTime completed = null;
        String hostTag = null;
        String tests = null;
        Map<String, JsonNode> unknown = null;
        for (String field = json.nextFieldName(); field != null; field = json.nextFieldName()) {
            json.nextToken();
            switch (field) {
                case "name": name = requiredString(); break;
                case "url": url = requiredString(); break;
                case "status": status = requiredString(); break;
                case "log_url": logUrl = requiredString(); break;
                case "web_url": webUrl = optionalString(); break;
                case "created": created = optionalTimestamp(); break;
                case "completed": completed = optionalTimestamp(); break;
                case "host_tag": hostTag = optionalString(); break;
                case "tests": tests = optionalString(); break;
                default: unknown = keep(unknown, field); break;
            }
        }
        String here = here();
        require(name != null, here, "name");
        require(url != null, here, "url");
        require(status != null, here, "status");
        require(logUrl != null, here, "log_url");
        return new Run(name, url, BuildStatus.of(status), logUrl, webUrl, created, completed, hostTag, tests,
                unknown);
    }

    private List<Run> runs() throws IOException {
        JsonToken token = json.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            throw invalid("must not be null");
        }
        if (token != JsonToken.START_ARRAY) {
            throw invalid("expected an array, found " + JsonPaths.describe(token));
        }
        List<Run> runs = new ArrayList<>();
        while (json.nextToken() != JsonToken.END_ARRAY) {
            if (runs.size() == maxRuns) {
                throw new InvalidEventException("$.runs", "more than " + maxRuns + " runs, the most one build may have");
            }
            runs.add(run());
        }
        return runs;
    }

    private long buildId() throws IOException {
        JsonToken token = json.currentToken();
        if (token != JsonToken.VALUE_NUMBER_INT) {
            throw invalid("expected a positive integer, found " + describeValue(token));
        }
        if (json.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw invalid("out of range: " + excerpt(json.getText()) + " is more than " + Long.MAX_VALUE);
        }
        long id = json.getLongValue();
        if (id <= 0) {
            throw invalid("expected a positive integer, found " + id);
        }
        return id;
    }

    private String requiredString() throws IOException {
        String value = optionalString();
        if (value == null) {
            throw invalid("must not be null");
        }
        if (value.isEmpty()) {
            throw invalid("must not be empty");
        }
        return value;
    }

    private String optionalString() throws IOException {
        JsonToken token = json.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            return null;
        }
        if (token != JsonToken.VALUE_STRING) {
            throw invalid("expected a string, found " + describeValue(token));
        }
        if (plain(json.getTextCharacters(), json.getTextOffset(), json.getTextLength())) {
            return json.getText();
        }
        String value = json.getText();
        // A NUL cannot be passed to a command as an argument or environment variable, which is
        // where these values end up; refuse it here with a clear message rather than there.
        if (value.indexOf('\0') >= 0) {
            throw invalid("contains a NUL character (\\u0000)");
        }
        // Nor can a lone surrogate (a JSON "\\ud800" escape without its pair): it has no UTF-8 bytes.
        int unpaired = Utf8.unpairedSurrogate(value);
        if (unpaired >= 0) {
            throw invalid(String.format("contains an unpaired surrogate (\\u%04x), which has no UTF-8 encoding",
                    (int) value.charAt(unpaired)));
        }
        return value;
    }

    /**
     * Whether the parser's characters hold neither a NUL nor any surrogate: the usual case, decided
     * on its buffer in one pass instead of two passes of {@code String.charAt}/{@code indexOf}, which
     * C1 (the shipped {@code -XX:TieredStopAtLevel=1}) compiles to a call per character: 22.8 to 19.0 µs
     * of CPU per parse of a 2.4 KB build event. Anything else takes the checks below, which say what is wrong.
     */
    private static boolean plain(char[] chars, int offset, int length) {
        for (int i = offset, end = offset + length; i < end; i++) {
            char c = chars[i];
            if (c == '\0' || (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE)) {
                return false;
            }
        }
        return true;
    }

    private OffsetDateTime optionalTimestamp() throws IOException {
        String text = optionalString();
        if (text == null) {
            return null;
        }
        try {
            return Timestamps.parse(text);
        } catch (DateTimeParseException e) {
            throw invalid("expected an ISO-8601 timestamp with offset (like 2021-07-26T18:10:37+00:00), found \""
                    + excerpt(text) + "\"");
        }
    }

    private Map<String, JsonNode> keep(Map<String, JsonNode> unknown, String field) throws IOException {
        Map<String, JsonNode> fields = unknown == null ? new LinkedHashMap<>() : unknown;
        JsonNode value = json.currentToken() == JsonToken.VALUE_NULL ? NullNode.getInstance() : mapper.readTree(json);
        fields.put(field, value);
        return fields;
    }

    private void expectObject() {
        JsonToken token = json.currentToken();
        if (token != JsonToken.START_OBJECT) {
            throw invalid("expected an object, found " + JsonPaths.describe(token));
        }
    }

    private String describeValue(JsonToken token) throws IOException {
        String kind = JsonPaths.describe(token);
        if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT
                || token == JsonToken.VALUE_STRING) {
            String text = excerpt(json.getText());
            return kind + " (" + (token == JsonToken.VALUE_STRING ? "\"" + text + "\"" : text) + ")";
        }
        return kind;
    }

    private static void require(boolean present, String where, String field) {
        if (!present) {
            throw new InvalidEventException(where, "missing required field \"" + field + "\"");
        }
    }

    private String here() {
        return JsonPaths.of(json.getParsingContext());
    }

    private InvalidEventException invalid(String problem) {
        return new InvalidEventException(here(), problem);
    }

    private static String excerpt(String text) {
        return text.length() <= MAX_EXCERPT ? text : text.substring(0, MAX_EXCERPT) + "...";
    }
}
