package org.buildhook.servlet;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small JSON answers: {@code {"error": "..."}} and friends. */
final class JsonAnswer {

    // No thread-local buffer recycling: request threads belong to the container, and a
    // ThreadLocal left on them would pin this web application's class loader after undeploy.
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build());

    private static final byte[] ERROR_PREFIX = "{\"error\":\"".getBytes(StandardCharsets.US_ASCII);

    private final Map<String, Object> fields = new LinkedHashMap<>();

    static JsonAnswer error(String message) {
        return new JsonAnswer().with("error", message);
    }

    JsonAnswer with(String key, Object value) {
        fields.put(key, value);
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
        byte[] bytes = bytes();
        head(response, status, bytes.length + 1);
        response.getOutputStream().write(bytes);
        response.getOutputStream().write('\n');
    }

    /** The JSON object, without the final newline. */
    byte[] bytes() throws IOException {
        byte[] plain = plainError();
        return plain != null ? plain : JSON.writeValueAsBytes(fields);
    }

    /**
     * {@code {"error":"..."}} written directly when the message needs no escaping (printable ASCII
     * other than {@code "} and {@code \}): the bytes Jackson writes for it, without its generator
     * (a few µs under C1, per refused delivery); {@code null} for any other answer.
     */
    private byte[] plainError() {
        if (fields.size() != 1 || !(fields.get("error") instanceof String)) {
            return null;
        }
        String message = (String) fields.get("error");
        int n = message.length();
        byte[] out = new byte[ERROR_PREFIX.length + n + 2];
        System.arraycopy(ERROR_PREFIX, 0, out, 0, ERROR_PREFIX.length);
        for (int i = 0; i < n; i++) {
            char c = message.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return null;
            }
            out[ERROR_PREFIX.length + i] = (byte) c;
        }
        out[out.length - 2] = '"';
        out[out.length - 1] = '}';
        return out;
    }

    private static void head(HttpServletResponse response, int status, int length) {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(length);
    }
}
