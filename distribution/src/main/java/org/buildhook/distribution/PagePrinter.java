package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.buildhook.core.LogSafe;

/**
 * The shape of the list commands ({@code deliveries}, {@code jobs}): GET one page of an admin API
 * list with the command's filters, then print the API's JSON as it came ({@code --json}) or a
 * table with one row per item and one column per chosen field.
 */
final class PagePrinter {

    /**
     * One table column: its header and how an item's cell is written (by default, one JSON field as it came); {@code
     * message} when that is a message buildhook wrote, whose payload values already show escaped ({@link
     * Table#withMessages}).
     */
    record Column(String header, Function<JsonNode, String> text, boolean message) {

        Column(String header, Function<JsonNode, String> text) {
            this(header, text, false);
        }
    }

    /**
     * {@code no jobs match --rule deploy-tst --state failed} ({@code no jobs} without filters), the filters as the
     * command's options (each option is named as the API's parameter), their values escaped as a table's cells are. A
     * value with {@code *}, {@code ?} or {@code [} is said to be matched whole: the rules take patterns, these
     * filters do not ({@code --project 'andy-corp/*'}, tryout47b F12). {@code --limit} is left out.
     */
    static String nothingMatched(String path, Map<String, Object> filters) {
        StringBuilder given = new StringBuilder();
        String pattern = null;
        for (Map.Entry<String, Object> filter : filters.entrySet()) {
            if (filter.getValue() == null || filter.getKey().equals("limit")) {
                continue;
            }
            String value = String.valueOf(filter.getValue());
            given.append(" --").append(filter.getKey()).append(' ').append(LogSafe.escape(value));
            if (pattern == null && !filter.getKey().equals("before") && value.matches(".*[*?\\[].*")) {
                pattern = filter.getKey();
            }
        }
        String noun = path.replace('-', ' ');
        if (given.isEmpty()) {
            return "no " + noun;
        }
        return "no " + noun + " match" + given + (pattern == null ? "" : "; --" + pattern + " is matched whole, as"
                + " written: '*', '?' and '[' are no patterns here (unlike in the rules), so write the whole value");
    }

    private final String path;
    private final List<Column> columns;

    /** @param path the list's API path under {@code /api/}, e.g. {@code deliveries} */
    PagePrinter(String path, Column... columns) {
        this.path = path;
        this.columns = List.of(columns);
    }

    static Column column(String header, String field) {
        return new Column(header, item -> item.path(field).asText());
    }

    static Column column(String header, Function<JsonNode, String> text) {
        return new Column(header, text);
    }

    /** A column of a message buildhook wrote (a job's message), whose payload values already show escaped. */
    static Column message(String header, Function<JsonNode, String> text) {
        return new Column(header, text, true);
    }

    /**
     * Queries with the non-null {@code filters} and prints the page; returns the exit code. Under a
     * table that is not the last page, says on {@code err} how to get the next one: a list cut at
     * {@code --limit} must not read as the whole list (3,000 failed jobs are not 500).
     */
    int print(AdminOptions admin, Map<String, Object> filters, PrintWriter out, PrintWriter err) {
        return print(admin, filters, out, err, page -> "");
    }

    /**
     * As {@link #print(AdminOptions, Map, PrintWriter, PrintWriter)}; under an empty table, says on {@code err} that
     * nothing matched, and with which filters, followed by what {@code whyEmpty} makes of the API's answer (e.g. that
     * the rule asked for is no rule's name): a bare header read as "nothing ran" (tryout47b F12). Standard output and
     * the exit code stay as they were; {@code --json} prints the answer alone, as before.
     *
     * @param whyEmpty from the API's answer of an empty page, more words for the note ({@code ""} for none)
     */
    int print(AdminOptions admin, Map<String, Object> filters, PrintWriter out, PrintWriter err,
            Function<JsonNode, String> whyEmpty) {
        return print(admin, filters, out, err, whyEmpty, page -> "");
    }

    /**
     * As {@link #print(AdminOptions, Map, PrintWriter, PrintWriter, Function)}; then says on {@code err}, in
     * brackets, what {@code note} makes of the API's answer, whether the table is empty or not ({@code ""} for
     * nothing): what the table is of, e.g. one node's list of a cluster's (tryout51 F1).
     *
     * @param note from the API's answer, a line for {@code err} after the table ({@code ""} for none)
     */
    int print(AdminOptions admin, Map<String, Object> filters, PrintWriter out, PrintWriter err,
            Function<JsonNode, String> whyEmpty, Function<JsonNode, String> note) {
        JsonNode page = admin.client().get(AdminClient.withQuery(path, filters));
        if (admin.json) {
            out.println(AdminClient.pretty(page));
            out.flush();
            return ExitCodes.OK;
        }
        Table table = new Table(columns.stream().map(Column::header).toArray(String[]::new)).withMessages(
                java.util.stream.IntStream.range(0, columns.size()).filter(i -> columns.get(i).message()).toArray());
        for (JsonNode item : page.path("items")) {
            table.row(columns.stream().map(c -> c.text().apply(item)).toArray(String[]::new));
        }
        table.print(out);
        out.flush();
        if (page.path("items").isEmpty()) {
            err.println("(" + nothingMatched(path, filters) + whyEmpty.apply(page) + ")");
            err.flush();
        }
        JsonNode next = page.path("next");
        if (next.isTextual()) {
            err.println("(more: add --before " + next.asText() + " for the next page)");
            err.flush();
        }
        String said = note.apply(page);
        if (!said.isEmpty()) {
            err.println("(" + said + ")");
            err.flush();
        }
        return ExitCodes.OK;
    }
}
