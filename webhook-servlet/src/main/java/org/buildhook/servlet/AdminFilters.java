package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import org.buildhook.runner.store.ActionQuery;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.DeliveryQuery;
import org.buildhook.runner.store.Ids;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;

/** Turns the admin API's query parameters into store queries; a bad one is a 400 saying which and why. */
final class AdminFilters {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;
    private static final Set<String> DELIVERY_PARAMS = Set.of("outcome", "endpoint", "project", "trigger", "build",
            "from", "to", "before", "limit");
    private static final Set<String> JOB_PARAMS = Set.of("state", "rule", "delivery", "parent", "run", "before",
            "limit");
    private static final Set<String> ACTION_PARAMS = Set.of("job", "delivery", "before", "limit");

    private AdminFilters() {
    }

    static DeliveryQuery deliveries(HttpServletRequest r) {
        known(r, DELIVERY_PARAMS);
        Instant from = instant(r, "from");
        Instant to = instant(r, "to");
        if (from != null && to != null && !from.isBefore(to)) {
            throw ApiError.badRequest("'from' (" + from + ") must be before 'to' (" + to + ")");
        }
        return new DeliveryQuery(enumValue(r, "outcome", DeliveryOutcome.class), text(r, "endpoint"),
                text(r, "project"), text(r, "trigger"), from, to, id(r, "before"), limit(r), build(r));
    }

    private static Long build(HttpServletRequest r) {
        try {
            return buildNumber(text(r, "build"));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /**
     * The {@code build} filter of the admin API and the status page: a build number as JobServ numbers
     * builds, a whole number, 0 or more; {@code null} for none.
     *
     * @throws IllegalArgumentException saying what a build number is
     */
    static Long buildNumber(String v) {
        if (v == null) {
            return null;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw new IllegalArgumentException("'build' must be a build number (the build_id JobServ sends, e.g. 67)");
    }

    static JobQuery jobs(HttpServletRequest r) {
        known(r, JOB_PARAMS);
        return new JobQuery(enumValue(r, "state", JobState.class), text(r, "rule"), id(r, "delivery"),
                id(r, "before"), limit(r), id(r, "parent"), text(r, "run"));
    }

    static ActionQuery actions(HttpServletRequest r) {
        known(r, ACTION_PARAMS);
        return new ActionQuery(id(r, "job"), id(r, "delivery"), id(r, "before"), limit(r));
    }

    /**
     * The optional bound {@code name} (1 to 500) of a list inside one delivery's or job's answer
     * ({@code ?actions=100}, {@code ?jobs=100}); {@code null} when not asked for: the whole list, as before.
     */
    static Integer newest(HttpServletRequest r, String name) {
        String v = text(r, name);
        if (v == null) {
            return null;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw ApiError.badRequest("'" + name + "' must be a number from 1 to " + MAX_LIMIT
                + " (the newest " + name + " shown); leave it out for all of them");
    }

    private static void known(HttpServletRequest r, Set<String> allowed) {
        for (String name : r.getParameterMap().keySet()) {
            if (!allowed.contains(name)) {
                throw ApiError.badRequest("unknown filter '" + name + "'; known: " + allowed.stream().sorted().toList());
            }
        }
    }

    private static String text(HttpServletRequest r, String name) {
        String v = r.getParameter(name);
        return v == null || v.isEmpty() ? null : v;
    }

    private static String id(HttpServletRequest r, String name) {
        String v = text(r, name);
        String id = Ids.typed(v);
        if (v != null && id == null) {
            throw ApiError.badRequest("'" + name + "' is not an id: expected 26 letters and digits (Crockford base32, in any case) as in the 'id' fields");
        }
        return id;
    }

    private static Instant instant(HttpServletRequest r, String name) {
        String v = text(r, name);
        try {
            return v == null ? null : Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw ApiError.badRequest("'" + name + "' must be an ISO-8601 instant such as 2026-11-29T04:00:00Z");
        }
    }

    private static <E extends Enum<E>> E enumValue(HttpServletRequest r, String name, Class<E> type) {
        String v = text(r, name);
        if (v == null) {
            return null;
        }
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("'" + name + "' must be one of " + Arrays.stream(type.getEnumConstants())
                    .map(Enum::name).toList() + " (any case)");
        }
    }

    private static int limit(HttpServletRequest r) {
        String v = text(r, "limit");
        if (v == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(v);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw ApiError.badRequest("'limit' must be a number from 1 to " + MAX_LIMIT);
    }
}
