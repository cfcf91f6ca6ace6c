package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;

/**
 * Where the status page's list of deliveries is in the history, newest first: the cursor it was
 * asked for ({@code null} on the newest page) and the cursor of the next older page ({@code null}
 * on the oldest). Cursors are delivery ids, as the admin API's {@code before} and {@code next}.
 */
record StatusPagePaging(String before, String older) {

    /** The only page: no link either way. */
    static final StatusPagePaging ONLY = new StatusPagePaging(null, null);

    /**
     * "Newest" back to the first page and "Older" to the next, both keeping the filters; empty when
     * the list has one page.
     *
     * @param filterQuery the set filters as URL-encoded query parameters, possibly empty
     */
    String links(String filterQuery) {
        if (before == null && older == null) {
            return "";
        }
        StringBuilder h = new StringBuilder("<p class=\"paging\">");
        if (before != null) {
            h.append("<a id=\"newest\" href=\"").append(escape(filterQuery.isEmpty() ? "./" : "./?" + filterQuery))
                    .append("\">&laquo; Newest</a> ");
        }
        if (older != null) {
            h.append("<a id=\"older\" href=\"?").append(escape(filterQuery.isEmpty() ? "" : filterQuery + "&"))
                    .append("before=").append(escape(older)).append("\">Older &raquo;</a>");
        }
        return h.append("</p>").toString();
    }
}
