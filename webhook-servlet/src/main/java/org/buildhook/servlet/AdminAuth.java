package org.buildhook.servlet;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import org.buildhook.core.Secret;

/**
 * Checks a request's admin token against the configured one, in constant time
 * ({@link Secret#equals}): either {@code Authorization: Bearer <token>} or the status page's
 * cookie {@value #COOKIE}, which holds a value derived from the token ({@link AdminSession}), not the token, and
 * which the Bearer header does not accept. A request made with the cookie that changes something (anything but
 * GET and HEAD) must also carry {@value #CSRF_HEADER}{@code : 1}, which the page's own
 * JavaScript sets and another site's form cannot. The token itself is never logged.
 */
final class AdminAuth {

    /** The HttpOnly cookie of the status page, holding an {@link AdminSession} value. */
    static final String COOKIE = "buildhook_admin";
    /** The header a cookie-authenticated POST needs, against cross-site request forgery. */
    static final String CSRF_HEADER = "X-Buildhook-Request";
    private static final String BEARER = "bearer ";

    private final Secret token;
    private final AdminSession session;

    AdminAuth(Secret token) {
        this(token, Clock.systemUTC());
    }

    AdminAuth(Secret token, Clock clock) {
        this.token = token;
        this.session = new AdminSession(token, clock);
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
        if (session.issued(cookie).isEmpty() && !accepts(cookie)) {
            return "the admin cookie is not valid (signed in with another admin token, more than "
                    + AdminSession.LIFETIME.toDays() + " days ago, or altered)";
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
     * What the client of a refused request is told: for a change whose cookie is valid but that lacks
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

    /**
     * Signs the browser in: sets the cookie to a new value, for the application's context path, {@code Secure} when
     * the request came over HTTPS. A session cookie: the browser drops it when it closes.
     */
    void setCookie(HttpServletRequest request, HttpServletResponse response) {
        setCookie(request, response, session.issue());
    }

    private static void setCookie(HttpServletRequest request, HttpServletResponse response, String value) {
        String path = request.getContextPath().isEmpty() ? "/" : request.getContextPath();
        response.addHeader("Set-Cookie", COOKIE + "=" + value + "; Path=" + path + "; HttpOnly;"
                + " SameSite=Strict" + (request.isSecure() ? "; Secure" : ""));
    }

    /**
     * For a request {@link #refusal} accepted by its cookie: when the cookie holds the token itself (older builds),
     * sets a signed value instead ({@link AdminSession#replacement}). A signed value is not renewed: it expires
     * {@link AdminSession#LIFETIME} after the sign-in, also on a page in use, which then asks for the token again.
     */
    void replaceTokenCookie(HttpServletRequest request, HttpServletResponse response) {
        String cookie = cookie(request);
        if (cookie == null || request.getHeader("Authorization") != null) {
            return;
        }
        session.replacement(cookie).ifPresent(value -> setCookie(request, response, value));
    }

    /**
     * The value of the admin cookie, URL-decoded (older builds stored the token itself URL-encoded, as cookie values
     * allow few characters; an {@link AdminSession} value decodes to itself), or null.
     */
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
