package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import org.buildhook.core.Secret;

/**
 * Checks the admin API's {@code Authorization: Bearer <token>} header against the configured
 * token, in constant time ({@link Secret#equals}). The token itself is never logged.
 */
final class AdminAuth {

    private static final String BEARER = "bearer ";

    private final Secret token;

    AdminAuth(Secret token) {
        this.token = token;
    }

    /** Why the request is refused, or null when it carries the right token. */
    String refusal(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        if (header == null) {
            return "no Authorization header";
        }
        if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return "Authorization header is not 'Bearer <token>'";
        }
        String presented = header.substring(BEARER.length()).strip();
        return token.equals(Secret.of(presented)) ? null : "wrong token";
    }
}
