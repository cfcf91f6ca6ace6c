package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The shape of the list commands ({@code deliveries}, {@code jobs}): GET one page of an admin API
 * list with the command's filters, then print the API's JSON as it came ({@code --json}) or a
 * table with one row per item and one column per chosen field.
 */
final class PagePrinter {

    /** One table column: its header and how an item's cell is written (by default, one JSON field as it came). */
    record Column(String header, Function<JsonNode, String> text) {
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

    /**
     * Queries with the non-null {@code filters} and prints the page; returns the exit code. Under a
     * table that is not the last page, says on {@code err} how to get the next one: a list cut at
     * {@code --limit} must not read as the whole list (3,000 failed jobs are not 500).
     */
    int print(AdminOptions admin, Map<String, Object> filters, PrintWriter out, PrintWriter err) {
        JsonNode page = admin.client().get(AdminClient.withQuery(path, filters));
        if (admin.json) {
            out.println(AdminClient.pretty(page));
            out.flush();
            return ExitCodes.OK;
        }
        Table table = new Table(columns.stream().map(Column::header).toArray(String[]::new));
        for (JsonNode item : page.path("items")) {
            table.row(columns.stream().map(c -> c.text().apply(item)).toArray(String[]::new));
        }
        table.print(out);
        out.flush();
        JsonNode next = page.path("next");
        if (next.isTextual()) {
            err.println("(more: add --before " + next.asText() + " for the next page)");
            err.flush();
        }
        return ExitCodes.OK;
    }
}
