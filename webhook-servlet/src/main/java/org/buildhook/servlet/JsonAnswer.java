package org.buildhook.servlet;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small JSON answers: {@code {"error": "..."}} and friends. */
final class JsonAnswer {

    // No thread-local buffer recycling: request threads belong to the container, and a
    // ThreadLocal left on them would pin this web application's class loader after undeploy.
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build());

    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);

    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final Map<String, String> headers = new LinkedHashMap<>();

    static JsonAnswer error(String message) {
        return new JsonAnswer().with("error", message);
    }

    JsonAnswer with(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    /** A header the answer carries beside its JSON (e.g. {@code Deprecation}). */
    JsonAnswer header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    /**
     * An error answer whose message never changes, encoded once: the same bytes {@code
     * error(message).send(...)} writes, without serialising them at every request.
     */
    static final class Fixed {
        private final byte[] bytes;

        private Fixed(byte[] bytes) {
            this.bytes = bytes;
        }

        void send(HttpServletResponse response, int status) throws IOException {
            head(response, status, bytes.length);
            response.getOutputStream().write(bytes);
        }
    }

    /** {@link #error(String)}'s answer with its final newline, encoded once. */
    static Fixed fixedError(String message) {
        byte[] json;
        try {
            json = error(message).bytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + message, e);
        }
        byte[] bytes = Arrays.copyOf(json, json.length + 1);
        bytes[json.length] = '\n';
        return new Fixed(bytes);
    }

    void send(HttpServletResponse response, int status) throws IOException {
        headers.forEach(response::setHeader);
        byte[] plain = plain(1);
        if (plain != null) {
            // The final newline is in the array: one write, not two.
            plain[plain.length - 1] = '\n';
            head(response, status, plain.length);
            response.getOutputStream().write(plain);
            return;
        }
        byte[] bytes = JSON.writeValueAsBytes(fields);
        head(response, status, bytes.length + 1);
        response.getOutputStream().write(bytes);
        response.getOutputStream().write('\n');
    }

    /** The JSON object, without the final newline. */
    byte[] bytes() throws IOException {
        byte[] plain = plain(0);
        return plain != null ? plain : JSON.writeValueAsBytes(fields);
    }

    /**
     * The object written directly when every value is a string, a boolean or a list of strings, and
     * every key and string needs no escaping (printable ASCII other than {@code "} and {@code \\}): the
     * bytes Jackson writes for it, without its generator (a few µs under C1, per answer; the ids of the
     * accept's answer always qualify); {@code null} for any other answer.
     *
     * @param spare bytes left free at the end (for the final newline)
     */
    private byte[] plain(int spare) {
        int length = fields.isEmpty() ? 2 : 1;
        for (Map.Entry<String, Object> field : fields.entrySet()) {
            int value = plainLength(field.getValue());
            if (value < 0) {
                return null;
            }
            length += field.getKey().length() + 4 + value;
        }
        byte[] out = new byte[length + spare];
        int at = 0;
        out[at++] = '{';
        for (Map.Entry<String, Object> field : fields.entrySet()) {
            if (at > 1) {
                out[at++] = ',';
            }
            at = putString(out, at, field.getKey());
            if (at < 0) {
                return null;
            }
            out[at++] = ':';
            at = putValue(out, at, field.getValue());
            if (at < 0) {
                return null;
            }
        }
        out[at] = '}';
        return out;
    }

    /** The length of {@code value} written as JSON if it needs no escaping, or -1 when it is of another kind. */
    private static int plainLength(Object value) {
        if (value instanceof String) {
            return ((String) value).length() + 2;
        }
        if (value instanceof Boolean) {
            return ((Boolean) value) ? 4 : 5;
        }
        if (value instanceof List) {
            List<?> items = (List<?>) value;
            int length = items.isEmpty() ? 2 : 1;
            for (Object item : items) {
                if (!(item instanceof String)) {
                    return -1;
                }
                length += ((String) item).length() + 3;
            }
            return length;
        }
        return -1;
    }

    /** Writes {@code value} at {@code at}; the index after it, or -1 when a string needs escaping. */
    private static int putValue(byte[] out, int at, Object value) {
        if (value instanceof String) {
            return putString(out, at, (String) value);
        }
        if (value instanceof Boolean) {
            byte[] word = ((Boolean) value) ? TRUE : FALSE;
            System.arraycopy(word, 0, out, at, word.length);
            return at + word.length;
        }
        out[at++] = '[';
        List<?> items = (List<?>) value;
        for (int i = 0; i < items.size() && at >= 0; i++) {
            if (i > 0) {
                out[at++] = ',';
            }
            at = putString(out, at, (String) items.get(i));
        }
        if (at < 0) {
            return -1;
        }
        out[at++] = ']';
        return at;
    }

    /** Writes {@code s} quoted at {@code at}; the index after it, or -1 when it needs escaping. */
    private static int putString(byte[] out, int at, String s) {
        out[at++] = '"';
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return -1;
            }
            out[at++] = (byte) c;
        }
        out[at++] = '"';
        return at;
    }

    private static void head(HttpServletResponse response, int status, int length) {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(length);
    }
}
