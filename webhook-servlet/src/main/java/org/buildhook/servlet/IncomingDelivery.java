package org.buildhook.servlet;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A request as the servlet read it: nothing here is trusted until the signature is checked.
 *
 * @param endpoint  the endpoint name from the path ({@code default} for {@code /webhook})
 * @param body      the exact bytes received
 * @param signatures every {@code X-JobServ-Sig} header received (normally one)
 * @param headers   the headers worth keeping with the delivery (lower-case names)
 * @param remote    the client's address (after trusted proxies)
 */
public record IncomingDelivery(String endpoint, byte[] body, List<String> signatures, Map<String, String> headers,
        String remote) {

    public IncomingDelivery {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(body, "body");
        signatures = List.copyOf(signatures);
        headers = Map.copyOf(headers);
    }
}
