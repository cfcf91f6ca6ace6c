package org.buildhook.servlet;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small JSON answers: {@code {"error": "..."}} and friends. */
final class JsonAnswer {

    // No thread-local buffer recycling: request threads belong to the container, and a
    // ThreadLocal left on them would pin this web application's class loader after undeploy.
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build());

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
            json = JSON.writeValueAsBytes(error(message).fields);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + message, e);
        }
        byte[] bytes = java.util.Arrays.copyOf(json, json.length + 1);
        bytes[json.length] = '\n';
        return new Fixed(bytes);
    }

    void send(HttpServletResponse response, int status) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(fields);
        head(response, status, bytes.length + 1);
        response.getOutputStream().write(bytes);
        response.getOutputStream().write('\n');
    }

    private static void head(HttpServletResponse response, int status, int length) {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(length);
    }
}
