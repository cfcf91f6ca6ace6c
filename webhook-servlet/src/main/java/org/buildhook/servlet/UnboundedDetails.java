package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deprecated unbounded form of the two detail answers: {@code GET /api/jobs/{id}} without
 * {@code ?actions=N}, and {@code GET /api/deliveries/{id}} without {@code ?jobs=N} or {@code ?actions=N},
 * which list every action and job however many re-runs and replays made (lists14). They answer as
 * they always did; a later version will bound them to the newest {@value #LATER_BOUND} with the cursor
 * of the rest. Deprecated since 2026-12-01 (README, "Deprecations").
 *
 * <p>Each such answer carries {@code Deprecation: @1796083200} (RFC 9745, section 2.1: the moment of
 * deprecation as a structured-field date, seconds since the epoch; here 2026-12-01T00:00:00Z), and the
 * first use of each form since this servlet started is logged once at {@code INFO}, naming the caller,
 * so an operator finds the script to change ({@link DeprecationMark}). One instance per servlet: the log once per
 * start.
 */
final class UnboundedDetails {

    /** The {@code Deprecation} header's value: 2026-12-01T00:00:00Z (RFC 9745 §2.1). */
    static final String DEPRECATION = "@1796083200";

    /** The bound a later version will give an answer asked without one. */
    static final int LATER_BOUND = AdminFilters.MAX_LIMIT;

    private static final Logger LOG = LoggerFactory.getLogger(UnboundedDetails.class);

    private final DeprecationMark deprecated = new DeprecationMark(DEPRECATION);

    /**
     * Marks the answer deprecated when one of {@code bounds} is missing from the request's query.
     *
     * @param answer   the call, e.g. {@code GET /api/jobs/{id}}, as the log names it
     * @param actor    the caller, {@code <user or token>@<address>}
     * @param pageWith the calls that page the rest of this answer's lists, as the log names them
     * @param bounds   the query parameters that bound the answer's lists
     */
    void mark(HttpServletRequest request, HttpServletResponse response, String actor, String answer,
            String pageWith, String... bounds) {
        StringBuilder missing = new StringBuilder();
        for (String bound : bounds) {
            if (request.getParameter(bound) == null) {
                missing.append(missing.length() == 0 ? "?" : "&").append(bound).append("=N");
            }
        }
        if (missing.length() == 0) {
            return;
        }
        if (deprecated.mark(response, answer)) {
            LOG.info("{} without {} (from {}) lists every item: deprecated since 2026-12-01; a later version"
                    + " answers with the newest {} and the cursor of the rest; ask for {} (1 to {}) and page the"
                    + " rest with {} (docs/operations.md); logged once per start", answer, missing, actor, LATER_BOUND,
                    missing, AdminFilters.MAX_LIMIT, pageWith);
        }
    }
}
