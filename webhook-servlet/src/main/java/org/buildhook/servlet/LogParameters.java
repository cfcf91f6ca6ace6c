package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.core.LogSafe;

/**
 * The query parameters of {@code GET /api/jobs/{id}/log}, checked before anything is read. A value a parameter cannot
 * take ({@code attempt=0}, {@code from=abc}, a {@code length} out of range with {@code notes=1}) is a 400, as it always
 * was. What the log answered as if it were not there (tryout35 F5): an unknown name ({@code ?offset=…}, a
 * cache-buster), a {@code follow} or {@code notes} that is not a flag (taken as 0), a {@code from} without {@code
 * follow=1} or {@code notes=1}, a {@code length} without {@code notes=1}, {@code notes=1} with {@code follow=1} (the
 * follow wins), is still answered so, and said in {@link #ignored}: the answer carries a {@code Deprecation} header and
 * the server logs it ({@link IgnoredLogParameters}); a later version answers it 400 (review37: 57a20b03 made these a
 * 400 at once, which broke a script that had worked the day before: HTTP answers are a contract, deprecated before
 * they change).
 *
 * @param attempt the attempt asked for, or null for the last one
 * @param follow  {@code follow=1}
 * @param notes   {@code notes=1} (false with {@code follow=1})
 * @param state   {@code state=1} with {@code follow=1}: a follow of a job that has ended ends with a line saying its state
 *                ({@link JobLogSender#endLine}), so that its client need not ask after the answer (false without
 *                {@code follow=1})
 * @param mark    {@code mark=1} with {@code follow=1}: the lines the server writes itself in the follow begin with a
 *                mark only its client learns ({@link FollowMarks}; false without {@code follow=1})
 * @param from    the byte offset to start at (0 when not given)
 * @param length  the most bytes of a {@code notes=1} answer, or 0 for a page ending at a line's end
 * @param ignored what of the query the answer does not follow, one entry per kind ({@link Ignored}), in the order
 *                found; empty for a query every part of which is followed
 */
record LogParameters(Integer attempt, boolean follow, boolean notes, boolean state, boolean mark, long from,
        int length, List<Ignored> ignored) {

    /** The parameters the log takes, in the order the messages list them. */
    static final List<String> NAMES = List.of("attempt", "follow", "from", "notes", "length", "state",
            "mark");

    /** The most bytes of one {@code ?notes=1} answer: the piece is read whole into memory. */
    static final int NOTES_PAGE = 4 << 20;

    /**
     * One part of the query the answer does not follow (deprecated since 2026-12-04).
     *
     * @param kind what kind of mistake it is ({@code unknown}, {@code follow}, {@code notes}, {@code from}, {@code
     *             length}, {@code notes+follow}, {@code state}, {@code mark}): the server logs the first of each kind once per start
     * @param what what was ignored and what to send instead, in the caller's words (query text made log-safe)
     */
    record Ignored(String kind, String what) {
    }

    static LogParameters of(HttpServletRequest request) {
        List<Ignored> ignored = new ArrayList<>();
        for (String name : request.getParameterMap().keySet()) {
            if (!NAMES.contains(name)) {
                ignored.add(new Ignored("unknown", "unknown parameter '" + LogSafe.of(name) + "' of the log,"
                        + " ignored; known: " + String.join(", ", NAMES) + " (from=N starts at byte N with follow=1"
                        + " or notes=1; to read the log from byte N, send the header 'Range: bytes=N-')"));
            }
        }
        boolean follow = flag(request, "follow", ignored);
        boolean notes = flag(request, "notes", ignored);
        boolean state = flag(request, "state", ignored);
        boolean mark = flag(request, "mark", ignored);
        String from = given(request, "from");
        String length = given(request, "length");
        Integer attempt = attempt(given(request, "attempt"));
        long start = from(from);
        if (follow && notes) {
            ignored.add(new Ignored("notes+follow", "'notes=1' does not go with 'follow=1', ignored: a follow sends"
                    + " the log's bytes as they are written; ask for the notes of what it sent with"
                    + " notes=1&from=N&length=M"));
            notes = false;
        }
        if (from != null && !follow && !notes) {
            ignored.add(new Ignored("from", "'from' applies with follow=1 or notes=1 only, ignored: the whole log is"
                    + " sent; to read the log from byte N, send the header 'Range: bytes=N-' (or add notes=1)"));
        }
        if (state && !follow) {
            ignored.add(new Ignored("state", "'state' applies with follow=1 only, ignored: the log is sent as it is"));
            state = false;
        }
        if (mark && !follow) {
            ignored.add(new Ignored("mark", "'mark' applies with follow=1 only, ignored: the log is sent as it is"));
            mark = false;
        }
        int most = 0;
        if (length != null && !notes) {
            ignored.add(new Ignored("length", "'length' applies with notes=1 only, ignored; to read M bytes from"
                    + " byte N, send the header 'Range: bytes=N-(N+M-1)'"));
        } else {
            most = length(length);
        }
        return new LogParameters(attempt, follow, notes, state, mark, start, most, List.copyOf(ignored));
    }

    /** The parameter's value, or null when it is not given or empty (as every admin API parameter). */
    private static String given(HttpServletRequest request, String name) {
        String value = request.getParameter(name);
        return value == null || value.isEmpty() ? null : value;
    }

    /** {@code 1}/{@code true}, else false; a value that is not a flag is taken as 0, as it always was, and said. */
    private static boolean flag(HttpServletRequest request, String name, List<Ignored> ignored) {
        String value = given(request, name);
        if (value == null || value.equals("0") || value.equalsIgnoreCase("false")) {
            return false;
        }
        if (value.equals("1") || value.equalsIgnoreCase("true")) {
            return true;
        }
        ignored.add(new Ignored(name, "'" + name + "=" + LogSafe.of(value) + "' is taken as " + name + "=0: '" + name
                + "' must be 1 (or true), 0 (or false), or left out"));
        return false;
    }

    private static Integer attempt(String value) {
        if (value == null) {
            return null;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw ApiError.badRequest("'attempt' must be an attempt number, 1 or more");
    }

    private static long from(String value) {
        if (value == null) {
            return 0;
        }
        try {
            long n = Long.parseLong(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw ApiError.badRequest("'from' must be a byte offset in the log, 0 or more");
    }

    /** {@code length} of a {@code ?notes=1} answer: 0 when not given, else 1 to {@link #NOTES_PAGE}. */
    private static int length(String value) {
        if (value == null) {
            return 0;
        }
        try {
            int n = Integer.parseInt(value);
            if (n >= 1 && n <= NOTES_PAGE) {
                return n;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw ApiError.badRequest("'length' must be a number of bytes from 1 to " + NOTES_PAGE + " (4 MiB), or left"
                + " out for a page of up to 4 MiB ending at a line's end");
    }
}
