package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletResponse;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the deprecated forms of the admin API's answers share ({@link UnboundedDetails}, {@link IgnoredLogParameters}):
 * such an answer carries RFC 9745's {@code Deprecation} header, the moment of deprecation as a structured-field date
 * ({@code @} and seconds since the epoch, section 2.1), and the first use of each kind since the servlet started is
 * told to the form, which logs it in its own words and at its own level, naming the caller: an operator finds the
 * script to change without a line per request. One instance per form and servlet: the log once per start.
 */
final class DeprecationMark {

    private final String deprecation;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    /** @param deprecation the {@code Deprecation} header's value, {@code @} and seconds since the epoch */
    DeprecationMark(String deprecation) {
        if (!deprecation.matches("@[0-9]+")) {
            throw new IllegalArgumentException("a Deprecation date is @ and seconds since the epoch: " + deprecation);
        }
        this.deprecation = deprecation;
    }

    /**
     * Marks {@code response} deprecated.
     *
     * @param kind which deprecated use it is, as its form tells them apart
     * @return whether it is the first use of {@code kind} since the start, which the form logs
     */
    boolean mark(HttpServletResponse response, String kind) {
        response.setHeader("Deprecation", deprecation);
        return seen.add(kind);
    }
}
