package org.buildhook.distribution;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.core.LogSafe;

/**
 * Aligned text columns for the admin commands' terminal output. A cell longer than 60 characters is cut
 * with {@code …}, except in the last column, which nothing follows: a job's message keeps its reason
 * there (the folder a node could not write, and why), which came after the cut (final18 F9).
 */
final class Table {

    private static final int MAX_CELL = 60;

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();
    /** The columns that hold a message buildhook wrote ({@link #withMessages}). */
    private final java.util.Set<Integer> messages = new java.util.HashSet<>();

    Table(String... header) {
        this.header = List.of(header);
    }

    /**
     * The same table, the columns at {@code indexes} (from 0) holding a message buildhook wrote (a job's message),
     * whose payload values already show escaped: shown with {@link LogSafe#escapeMessage}, which leaves its backslashes
     * as they are ({@link LogSafe#escape} doubled them: a refused value's newline read {@code \\x0a}, tryout50 F3),
     * and never cut.
     */
    Table withMessages(int... indexes) {
        for (int index : indexes) {
            messages.add(index);
        }
        return this;
    }

    Table row(String... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("expected " + header.size() + " cells, got " + cells.length);
        }
        List<String> row = new ArrayList<>();
        for (int i = 0; i < cells.length; i++) {
            String cell = cells[i];
            // Cells hold payload values (a trigger, a project, a reason): a control character in them (ESC
            // starts a terminal's escape sequences: clear the screen, set the title) is shown as \x1b.
            // Its bidirectional and zero-width characters are escaped too (escape29). Cut on the value, not on its
            // escaped text, so that a cut never leaves half an escape or half a surrogate pair.
            String value = cell == null || cell.equals("null") ? null : cell.replaceAll("\\s+", " ");
            if (messages.contains(i)) {
                row.add(value == null ? "-" : LogSafe.escapeMessage(value));
                continue;
            }
            String text = LogSafe.of(value, Integer.MAX_VALUE);
            boolean last = i == cells.length - 1;
            row.add(!last && text.length() > MAX_CELL ? LogSafe.of(value, MAX_CELL - 1) : text);
        }
        rows.add(row);
        return this;
    }

    void print(PrintWriter out) {
        int[] widths = new int[header.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = header.get(i).length();
            for (List<String> row : rows) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        line(out, header, widths);
        for (List<String> row : rows) {
            line(out, row, widths);
        }
        out.flush();
    }

    private static void line(PrintWriter out, List<String> cells, int[] widths) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            b.append(cells.get(i));
            if (i < cells.size() - 1) {
                b.append(" ".repeat(widths[i] - cells.get(i).length() + 2));
            }
        }
        out.println(b);
    }
}
