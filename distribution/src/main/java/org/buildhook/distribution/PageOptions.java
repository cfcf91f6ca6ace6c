package org.buildhook.distribution;

import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The paging options of the list commands ({@code deliveries}, {@code jobs}, {@code actions}):
 * {@code --limit N} (1 to 500, default 50: the admin API's {@code limit}, whose range the server
 * checks) and {@code --before ID} (the API's cursor: the id the previous page's last line gives).
 * Each list command's own name is the noun of its {@code --limit} help ("At most N jobs").
 */
final class PageOptions {

    @Option(names = "--limit", defaultValue = "50", paramLabel = "N",
            description = "At most N ${COMMAND-NAME}, 1 to 500 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--before", paramLabel = "ID", converter = IdConverter.class,
            description = "The next page: the ID the previous page's last line '(more: add --before ID …)' gives.")
    String before;

    /** Adds {@code limit} and {@code before} (null when not given: left out of the query) to {@code params}. */
    void addTo(Map<String, Object> params) {
        params.put("limit", limit);
        params.put("before", before);
    }
}
