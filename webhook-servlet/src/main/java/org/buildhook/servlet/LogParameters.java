package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import java.util.List;

/**
 * The query parameters of {@code GET /api/jobs/{id}/log}, checked before anything is read: an unknown name ({@code
 * ?offset=…}), a value that is not one of a parameter's, or a parameter given where it does nothing ({@code from}
 * without {@code follow=1} or {@code notes=1}) is a 400 that says what to send instead, as a bad list filter is; it
 * was ignored, and the whole log answered as if the log had been read from where it was asked (tryout35 F5).
 *
 * @param attempt the attempt asked for, or null for the last one
 * @param follow  {@code follow=1}
 * @param notes   {@code notes=1}
 * @param from    the byte offset to start at (0 when not given)
 * @param length  the most bytes of a {@code notes=1} answer, or 0 for a page ending at a line's end
 */
record LogParameters(Integer attempt, boolean follow, boolean notes, long from, int length) {

    /** The parameters the log takes, in the order the messages list them. */
    static final List<String> NAMES = List.of("attempt", "follow", "from", "notes", "length");

    /** The most bytes of one {@code ?notes=1} answer: the piece is read whole into memory. */
    static final int NOTES_PAGE = 4 << 20;

    static LogParameters of(HttpServletRequest request) {
        for (String name : request.getParameterMap().keySet()) {
            if (!NAMES.contains(name)) {
                throw ApiError.badRequest("unknown parameter '" + name + "' of the log; known: " + String.join(", ",
                        NAMES) + " (from=N starts at byte N with follow=1 or notes=1; to read the log from byte N,"
                        + " send the header 'Range: bytes=N-')");
            }
        }
        boolean follow = flag(request, "follow");
        boolean notes = flag(request, "notes");
        String from = given(request, "from");
        String length = given(request, "length");
        LogParameters parameters = new LogParameters(attempt(given(request, "attempt")), follow, notes, from(from),
                length(length));
        if (follow && notes) {
            throw ApiError.badRequest("'notes=1' does not go with 'follow=1': a follow sends the log's bytes as they"
                    + " are written; ask for the notes of what it sent with notes=1&from=N&length=M");
        }
        if (from != null && !follow && !notes) {
            throw ApiError.badRequest("'from' applies with follow=1 or notes=1 only; to read the log from byte N,"
                    + " send the header 'Range: bytes=N-' (or add notes=1)");
        }
        if (length != null && !notes) {
            throw ApiError.badRequest("'length' applies with notes=1 only; to read M bytes from byte N, send the"
                    + " header 'Range: bytes=N-(N+M-1)'");
        }
        return parameters;
    }

    /** The parameter's value, or null when it is not given or empty (as every admin API parameter). */
    private static String given(HttpServletRequest request, String name) {
        String value = request.getParameter(name);
        return value == null || value.isEmpty() ? null : value;
    }

    private static boolean flag(HttpServletRequest request, String name) {
        String value = given(request, name);
        if (value == null || value.equals("0") || value.equalsIgnoreCase("false")) {
            return false;
        }
        if (value.equals("1") || value.equalsIgnoreCase("true")) {
            return true;
        }
        throw ApiError.badRequest("'" + name + "' must be 1 (or true), 0 (or false), or left out");
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
