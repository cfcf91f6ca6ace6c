package org.buildhook.runner.store;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A verified delivery as the servlet received it, about to be stored.
 *
 * @param endpoint      the endpoint name ({@code default} for {@code /webhook})
 * @param receivedAt    when the request arrived
 * @param remoteAddress the client address, or {@code null}
 * @param headers       the headers worth keeping (content type, signature, user agent …)
 * @param body          the exact body bytes
 */
public record NewDelivery(String endpoint, Instant receivedAt, String remoteAddress, Map<String, String> headers,
        byte[] body) {

    public NewDelivery {
        Objects.requireNonNull(endpoint, "endpoint");
        if (endpoint.isEmpty() || endpoint.length() > 200) {
            throw new IllegalArgumentException("endpoint must be 1 to 200 characters");
        }
        Objects.requireNonNull(receivedAt, "receivedAt");
        headers = Map.copyOf(headers);
        body = Objects.requireNonNull(body, "body").clone();
    }

    @Override
    public byte[] body() {
        return body.clone();
    }
}
