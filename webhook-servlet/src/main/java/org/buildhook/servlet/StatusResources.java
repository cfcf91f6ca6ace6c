package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;
import static org.buildhook.servlet.StatusFormat.time;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.buildhook.runner.store.ResourceUse;

/**
 * The status page's shared resources panel: each resource with its capacity, the units in use and
 * the jobs holding them (with links), and the jobs waiting for it in the order they will get units.
 * Part of the page's live top, so it follows the pool as the header does.
 */
final class StatusResources {

    /**
     * One resource as the panel shows it.
     *
     * @param name     the resource's name
     * @param capacity its capacity as the rules in force declare it; 0 when they no longer declare it
     *                 (its jobs keep the capacity they were planned with)
     * @param holds    the jobs holding units now, oldest first
     * @param waiting  the jobs waiting for units, first in line first
     */
    record Pool(String name, int capacity, List<ResourceUse> holds, List<ResourceUse> waiting) {
        Pool {
            holds = List.copyOf(holds);
            waiting = List.copyOf(waiting);
        }

        int inUse() {
            return holds.stream().mapToInt(ResourceUse::units).sum();
        }
    }

    /** No resources: the panel is not shown. */
    static final List<Pool> NONE = List.of();

    private StatusResources() {
    }

    /**
     * The pools of the declared resources (by name), plus any resource no longer declared that a job
     * still holds or waits for.
     */
    static List<Pool> of(Map<String, Integer> declared, List<ResourceUse> holds, List<ResourceUse> waiting) {
        Map<String, Integer> names = new TreeMap<>(declared);
        holds.forEach(h -> names.putIfAbsent(h.resource(), 0));
        waiting.forEach(w -> names.putIfAbsent(w.resource(), 0));
        List<Pool> out = new ArrayList<>();
        names.forEach((name, capacity) -> out.add(new Pool(name, capacity,
                holds.stream().filter(h -> h.resource().equals(name)).toList(),
                waiting.stream().filter(w -> w.resource().equals(name)).toList())));
        return Collections.unmodifiableList(out);
    }

    /** The panel; nothing when no resource is declared or used. */
    static void render(StringBuilder h, List<Pool> pools) {
        if (pools.isEmpty()) {
            return;
        }
        h.append("<h2>Shared resources <small>units held by running attempts, and the jobs waiting for them, first"
                + " in line first</small></h2><table id=\"resources\"><thead><tr><th>Resource</th><th>In use</th>"
                + "<th>Held by</th><th>Waiting</th></tr></thead><tbody>");
        for (Pool p : pools) {
            int capacity = p.capacity() > 0 ? p.capacity()
                    : p.holds().stream().mapToInt(ResourceUse::capacity).max().orElse(0);
            // Amber while jobs wait for it, blue while all of it is in use, green while units are free.
            String tone = !p.waiting().isEmpty() ? "tone-waiting" : p.inUse() >= capacity && capacity > 0
                    ? "tone-active" : "tone-ok";
            h.append("<tr class=\"resource\" data-resource=\"").append(escape(p.name())).append("\"><td><code>")
                    .append(escape(p.name())).append("</code>");
            if (p.capacity() == 0) {
                h.append(" <small>no longer declared</small>");
            }
            h.append("</td><td class=\"num\"><span class=\"units ").append(tone).append("\" data-in-use=\"")
                    .append(p.inUse()).append("\" data-capacity=\"").append(capacity).append("\">").append(p.inUse())
                    .append(" of ").append(capacity).append("</span></td><td><ul class=\"jobs holds\">");
            if (p.holds().isEmpty()) {
                h.append("<li class=\"muted\">free</li>");
            }
            for (ResourceUse u : p.holds()) {
                h.append("<li class=\"hold\" data-job=\"").append(escape(u.jobId())).append("\">")
                        .append(StatusPageView.jobLink(u.jobId(), u.rule())).append(' ').append(units(u.units()))
                        .append(" <small>on ").append(escape(u.node())).append(" since ").append(time(u.since()))
                        .append("</small></li>");
            }
            h.append("</ul></td><td>");
            if (p.waiting().isEmpty()) {
                h.append("<span class=\"muted\">none</span></td></tr>");
                continue;
            }
            h.append("<ol class=\"waiting\">");
            for (ResourceUse u : p.waiting()) {
                h.append("<li class=\"waiter\" data-job=\"").append(escape(u.jobId())).append("\">")
                        .append(StatusPageView.jobLink(u.jobId(), u.rule())).append(" wants ").append(units(u.units()))
                        .append(" <small>since ").append(time(u.since())).append("</small></li>");
            }
            h.append("</ol></td></tr>");
        }
        h.append("</tbody></table>");
    }

    private static String units(int n) {
        return n + (n == 1 ? " unit" : " units");
    }
}
