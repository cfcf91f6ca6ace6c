package org.buildhook.runner.engine;

import java.util.Optional;
import org.buildhook.runner.store.SqliteServer;

/**
 * What a {@code runner.node-id} cannot be, and why (drill35). A node id is a key of {@code node_leases}, a word of the
 * space-separated lines of the data folder's {@code stops-not-recorded} file, and a path segment of {@code DELETE
 * /api/nodes/{id}} ({@code buildhook nodes forget ID}). An id that cannot work at all is refused by the configuration
 * check ({@code buildhook check} and every start); one that an earlier version accepted and that breaks only one of
 * those uses is deprecated: the check warns, with what to write instead, and the node starts (configuration is a
 * contract with operators: an upgrade must not stop a node that ran the day before).
 */
public final class NodeIds {

    /** The most characters of a node id (db-scheduler's {@code picked_by}). */
    public static final int MAX_LENGTH = 50;

    private static final String WHAT_TO_DO = "; write letters, digits, '-', '_' or '.', e.g. the host's name"
            + " (node-1, build-host-2.example.com)";

    private NodeIds() {
    }

    /**
     * Why {@code id} cannot be a node id at all, or empty when it can.
     *
     * @param id the configured {@code runner.node-id}
     * @return the reason, in the operator's words, ending with what to write instead
     */
    public static Optional<String> refusal(String id) {
        if (id.length() > MAX_LENGTH) {
            return Optional.of("must be at most " + MAX_LENGTH + " characters, got " + id.length());
        }
        if (id.equals(SqliteServer.KEY)) {
            return Optional.of("'" + id + "' is the name under which a SQLite store records the server that serves"
                    + " it (in node_leases), not a node's: a node with this id would be taken for that record, left"
                    + " out of buildhook nodes and of the nodes' comparison of their rules" + WHAT_TO_DO);
        }
        return Optional.empty();
    }

    /**
     * Why {@code id} should not be a node id although it is accepted (deprecated since 2026-12-04: a later version
     * refuses it), or empty when nothing is wrong with it.
     *
     * @param id a configured {@code runner.node-id} that {@link #refusal} accepts
     * @return the warning, in the operator's words, ending with what to write instead
     */
    public static Optional<String> deprecation(String id) {
        return breaksAUse(id).map(why -> why + " (accepted for now; deprecated since 2026-12-04: a later version"
                + " refuses it)");
    }

    private static Optional<String> breaksAUse(String id) {
        // A control or invisible character first, wherever it is: the other reasons quote the id, which must then
        // hold none (review37: 'a b<ESC>[31m' was said to hold a space, its escape sequence written to the terminal).
        for (int i = 0; i < id.length(); i = id.offsetByCodePoints(i, 1)) {
            int c = id.codePointAt(i);
            if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
                return Optional.of("holds the control or invisible character U+" + String.format("%04X", c)
                        + ", which logs, tables and the data folder's files cannot show as it is" + WHAT_TO_DO);
            }
        }
        for (int i = 0; i < id.length(); i = id.offsetByCodePoints(i, 1)) {
            int c = id.codePointAt(i);
            if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                // The data folder's stops-not-recorded lines encode it since review37 F3; words apart remain.
                return Optional.of("'" + id + "' holds a space: logs, buildhook nodes and the scripts that read them"
                        + " take it for two words" + WHAT_TO_DO);
            }
            if (c == '/' || c == '\\' || c == '%') {
                return Optional.of("'" + id + "' holds '" + (char) c + "', which a web server refuses in a URL's path:"
                        + " 'buildhook nodes forget' (DELETE /api/nodes/{id}) could never name this node" + WHAT_TO_DO);
            }
        }
        if (id.equals(".") || id.equals("..")) {
            return Optional.of("'" + id + "' is a path segment of its own in a URL: 'buildhook nodes forget'"
                    + " (DELETE /api/nodes/{id}) could never name this node" + WHAT_TO_DO);
        }
        return Optional.empty();
    }
}
