package org.buildhook.core;

import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import java.util.ArrayDeque;
import java.util.Deque;

/** Names places in a JSON document for error messages: {@code $.runs[2].status}. */
final class JsonPaths {

    private static final int MAX_NAME_SHOWN = 64;

    private JsonPaths() {
    }

    /** The path of the value the parser is at (or of the container it is in). */
    static String of(JsonStreamContext context) {
        Deque<JsonStreamContext> chain = new ArrayDeque<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            chain.push(c);
        }
        StringBuilder path = new StringBuilder("$");
        for (JsonStreamContext c : chain) {
            if (c.inArray() && c.getEntryCount() > 0) {
                // getCurrentIndex() says 0 before the first element too; only name entries that exist.
                path.append('[').append(c.getCurrentIndex()).append(']');
            } else if (c.inObject() && c.getCurrentName() != null) {
                appendName(path, c.getCurrentName());
            }
        }
        return path.toString();
    }

    private static void appendName(StringBuilder path, String name) {
        if (isPlain(name)) {
            path.append('.').append(name);
            return;
        }
        String shown = name.length() > MAX_NAME_SHOWN ? name.substring(0, MAX_NAME_SHOWN) + "..." : name;
        path.append("['").append(shown.replace("\\", "\\\\").replace("'", "\\'")).append("']");
    }

    private static boolean isPlain(String name) {
        if (name.isEmpty() || name.length() > MAX_NAME_SHOWN) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** "a string", "a number", ... for "expected X, found Y" messages. */
    static String describe(JsonToken token) {
        if (token == null) {
            return "the end of the body";
        }
        switch (token) {
            case START_OBJECT: return "an object";
            case START_ARRAY: return "an array";
            case VALUE_STRING: return "a string";
            case VALUE_NUMBER_INT: case VALUE_NUMBER_FLOAT: return "a number";
            case VALUE_TRUE: case VALUE_FALSE: return "a boolean";
            case VALUE_NULL: return "null";
            default: return token.name();
        }
    }
}
