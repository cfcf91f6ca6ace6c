package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deprecated parts of a {@code GET /api/jobs/{id}/log} query, which the answer does not follow ({@link
 * LogParameters#ignored}): the answer is the one it always was, with {@code Deprecation: @1796342400} (RFC 9745
 * §2.1: 2026-12-04T00:00:00Z), and the first of each kind since this servlet started is logged once at {@code WARN},
 * naming the caller and what to send, so an operator finds the script to change; a later version answers {@code 400}.
 * One instance per servlet, as {@link UnboundedDetails} ({@link DeprecationMark}).
 */
final class IgnoredLogParameters {

    /** The {@code Deprecation} header's value: 2026-12-04T00:00:00Z (RFC 9745 §2.1). */
    static final String DEPRECATION = "@1796342400";

    private static final Logger LOG = LoggerFactory.getLogger(IgnoredLogParameters.class);

    private final DeprecationMark deprecated = new DeprecationMark(DEPRECATION);

    /**
     * Marks the answer deprecated when the query has a part it does not follow.
     *
     * @param asked the query as read
     * @param actor the caller, {@code <user or token>@<address>}
     */
    void mark(LogParameters asked, HttpServletResponse response, String actor) {
        if (asked.ignored().isEmpty()) {
            return;
        }
        for (LogParameters.Ignored ignored : asked.ignored()) {
            if (deprecated.mark(response, ignored.kind())) {
                LOG.warn("GET /api/jobs/{id}/log (from {}): {}; answered as before 2026-12-04, deprecated since then:"
                        + " a later version answers 400 (docs/operations.md); logged once per start", actor,
                        ignored.what());
            }
        }
    }
}
