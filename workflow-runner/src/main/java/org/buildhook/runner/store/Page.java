package org.buildhook.runner.store;

import java.util.List;

/**
 * One page of a list, newest first. Pass {@code nextCursor} as the next query's {@code before} to
 * get the following page; it is {@code null} on the last page.
 */
public record Page<T>(List<T> items, String nextCursor) {

    public Page {
        items = List.copyOf(items);
    }
}
