package org.buildhook.distribution.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The trace file read back: for every delivery, the runs of its job as intervals in file order
 * (lines are appended with O_APPEND, each under PIPE_BUF, so the file order is the real order).
 */
final class Trace {

    /** One run of a job: the line numbers of its start and end (-1 while unfinished). */
    record RunSpan(String delivery, String pid, int start, int end) {
    }

    final List<RunSpan> runs = new ArrayList<>();
    /** Deliveries whose new run found an earlier run of its job still alive as it started. */
    final Set<String> overlapping = new HashSet<>();
    /** How many times a new run found an earlier run's pid alive as another process (pid reuse). */
    int reusedPids;
    /** Every line, for {@link #linesOf}. */
    private List<String> lines = List.of();

    static Trace read(Path file) throws IOException {
        Trace trace = new Trace();
        Map<String, Integer> open = new HashMap<>();
        List<String> lines = Files.readAllLines(file);
        trace.lines = lines;
        for (int i = 0; i < lines.size(); i++) {
            String[] parts = lines.get(i).split(" ");
            if (parts.length != 4) {
                continue;
            }
            String key = parts[0] + " " + parts[3];
            if (parts[2].equals("overlap")) {
                trace.overlapping.add(parts[0]);
            } else if (parts[2].equals("reused")) {
                trace.reusedPids++;
            } else if (parts[2].equals("start")) {
                open.put(key, trace.runs.size());
                trace.runs.add(new RunSpan(parts[0], parts[3], i, -1));
            } else if (parts[2].equals("end") && open.containsKey(key)) {
                int index = open.remove(key);
                RunSpan span = trace.runs.get(index);
                trace.runs.set(index, new RunSpan(span.delivery(), span.pid(), span.start(), i));
            }
        }
        return trace;
    }

    Set<String> completed() {
        Set<String> out = new HashSet<>();
        runs.stream().filter(r -> r.end() >= 0).forEach(r -> out.add(r.delivery()));
        return out;
    }

    Set<String> started() {
        Set<String> out = new HashSet<>();
        runs.forEach(r -> out.add(r.delivery()));
        return out;
    }

    /** Runs beyond the first per delivery. */
    long reruns() {
        return runs.size() - started().size();
    }

    /**
     * Deliveries whose job ran twice at once: two finished runs whose intervals overlap, or a run
     * that found an earlier one still alive as it started. A run without an end line (killed with
     * its server) has no known end in the file; the check at the start of the next run covers it.
     */
    Set<String> concurrentlyRun() {
        Map<String, List<RunSpan>> byDelivery = new HashMap<>();
        runs.forEach(r -> byDelivery.computeIfAbsent(r.delivery(), d -> new ArrayList<>()).add(r));
        Set<String> out = new HashSet<>();
        byDelivery.forEach((delivery, spans) -> {
            for (int i = 0; i < spans.size(); i++) {
                for (int j = i + 1; j < spans.size(); j++) {
                    RunSpan a = spans.get(i);
                    RunSpan b = spans.get(j);
                    if (a.end() >= 0 && b.end() >= 0 && a.start() < b.end() && b.start() < a.end()) {
                        out.add(delivery);
                    }
                }
            }
        });
        out.addAll(overlapping);
        return out;
    }

    /** The trace's lines of these deliveries, numbered, for a failure's message. */
    String linesOf(Set<String> deliveries) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String delivery = lines.get(i).split(" ", 2)[0];
            if (deliveries.contains(delivery)) {
                out.append('\n').append(i).append(": ").append(lines.get(i));
            }
        }
        return out.toString();
    }
}
