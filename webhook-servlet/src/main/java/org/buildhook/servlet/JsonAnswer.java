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

    void send(HttpServletResponse response, int status) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(fields);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length + 1);
        response.getOutputStream().write(bytes);
        response.getOutputStream().write('\n');
    }
}
