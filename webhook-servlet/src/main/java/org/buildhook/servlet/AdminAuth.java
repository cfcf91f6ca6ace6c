package org.buildhook.servlet;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.buildhook.core.Secret;

/**
 * Checks a request's admin token against the configured one, in constant time
 * ({@link Secret#equals}): either {@code Authorization: Bearer <token>} or the status page's
 * cookie {@value #COOKIE}. A request made with the cookie that changes something (anything but
 * GET and HEAD) must also carry {@value #CSRF_HEADER}{@code : 1}, which the page's own
 * JavaScript sets and another site's form cannot. The token itself is never logged.
 */
final class AdminAuth {

    /** The HttpOnly cookie holding the admin token for the status page. */
    static final String COOKIE = "buildhook_admin";
    /** The header a cookie-authenticated POST needs, against cross-site request forgery. */
    static final String CSRF_HEADER = "X-Buildhook-Request";
    private static final String BEARER = "bearer ";

    private final Secret token;

    AdminAuth(Secret token) {
        this.token = token;
    }

    /** Why the request is refused, or null when it carries the right token. */
    String refusal(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        if (header == null) {
            return cookieRefusal(request);
        }
        if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return "Authorization header is not 'Bearer <token>'";
        }
        return accepts(header.substring(BEARER.length()).strip()) ? null : "wrong token";
    }

    /** Whether {@code presented} is the admin token (constant time). */
    boolean accepts(String presented) {
        return presented != null && !presented.isEmpty() && token.equals(Secret.of(presented));
    }

    private String cookieRefusal(HttpServletRequest request) {
        String cookie = cookie(request);
        if (cookie == null) {
            return "no Authorization header and no admin cookie";
        }
        if (!accepts(cookie)) {
            return "wrong token in the admin cookie";
        }
        boolean reading = request.getMethod().equals("GET") || request.getMethod().equals("HEAD");
        if (!reading && !"1".equals(request.getHeader(CSRF_HEADER))) {
            return "a " + request.getMethod() + CSRF_MISSING;
        }
        return null;
    }

    private static final String CSRF_MISSING = " authenticated by the admin cookie needs the header " + CSRF_HEADER
            + ": 1";

    /**
     * What the client of a refused request is told: for a change whose cookie holds the token but that lacks
     * {@value #CSRF_HEADER}, that header (tryout36 F12: it was told to send a Bearer header, which it need not);
     * for anything else the one generic line, which says nothing of why the token was not accepted.
     */
    static String answer(String refusal) {
        if (refusal.endsWith(CSRF_MISSING)) {
            return refusal + " (protection against cross-site request forgery; the status page's own buttons send"
                    + " it), or send 'Authorization: Bearer <admin token>' instead of the cookie";
        }
        return "a valid 'Authorization: Bearer <admin token>' header is required";
    }

    /** The token in the admin cookie (stored URL-encoded, as cookie values allow few characters), or null. */
    static String cookie(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie c : cookies) {
            if (COOKIE.equals(c.getName())) {
                try {
                    return URLDecoder.decode(c.getValue(), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
