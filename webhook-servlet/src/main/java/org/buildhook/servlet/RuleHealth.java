package org.buildhook.servlet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.store.JobTiming;

/**
 * How a rule has been doing over its newest jobs: the last one's state, the share of ended jobs
 * that succeeded, and the median and 95th percentile of their durations (nearest rank) against the
 * newest job's timeout.
 *
 * @param rule    the rule's name, or a follow-up step's ({@code rule/on-success/on-failure} …, as its jobs are named)
 * @param recent  its newest jobs, newest first (possibly none)
 */
record RuleHealth(String rule, List<JobTiming> recent) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> FOLLOW_UPS = List.of("on-success", "on-failure", "on-cancel");

    /**
     * The follow-up steps of rule {@code rule} as its jobs are named, each step before its own follow-ups
     * ({@code deploy/on-success}, {@code deploy/on-success/on-failure}, {@code deploy/on-failure} …), read
     * from the rule's canonical JSON (the rules' snapshot, {@code on-success}, {@code on-failure} and
     * {@code on-cancel} at any depth); empty for a rule without follow-ups or a snapshot that is no JSON object.
     */
    static List<String> followUpSteps(String rule, String snapshot) {
        List<String> steps = new ArrayList<>();
        try {
            addSteps(rule, JSON.readTree(snapshot), steps);
        } catch (JsonProcessingException e) {
            // Every snapshot is written by the rules' own mapper; none to show is the answer to one that is not.
        }
        return steps;
    }

    private static void addSteps(String name, JsonNode node, List<String> steps) {
        for (String key : FOLLOW_UPS) {
            JsonNode step = node.path(key);
            if (step.isObject()) {
                steps.add(name + "/" + key);
                addSteps(name + "/" + key, step, steps);
            }
        }
    }

    /** How deep a follow-up step is (1 for a rule's on-success …), 0 for a rule. */
    int depth() {
        return (int) rule.chars().filter(c -> c == '/').count();
    }

    RuleHealth {
        recent = List.copyOf(recent);
    }

    /** The newest job, if the rule has any. */
    Optional<JobTiming> last() {
        return recent.isEmpty() ? Optional.empty() : Optional.of(recent.get(0));
    }

    /** How many of the recent jobs have ended (their state is final). */
    int ended() {
        return (int) recent.stream().filter(t -> t.state().isFinal()).count();
    }

    /**
     * How many of the recent jobs ended with a verdict: succeeded, or failed / timed out. A job that
     * ended without running to an outcome (cancelled, superseded, rejected, expired) says nothing
     * about the rule's health and is not counted.
     */
    int decided() {
        return (int) recent.stream().filter(t -> t.state().isFinal() && verdict(t)).count();
    }

    /** Of the recent jobs with a verdict ({@link #decided()}), the share that succeeded, 0 to 1; empty when none. */
    Optional<Double> successRate() {
        int decided = decided();
        if (decided == 0) {
            return Optional.empty();
        }
        long ok = recent.stream().filter(t -> t.state().isFinal() && StatusTone.of(t.state()) == StatusTone.OK).count();
        return Optional.of((double) ok / decided);
    }

    private static boolean verdict(JobTiming t) {
        StatusTone tone = StatusTone.of(t.state());
        return tone == StatusTone.OK || tone == StatusTone.BAD;
    }

    /** The timeout of the newest job (the rule's as it was then); empty without jobs. */
    Optional<Duration> timeout() {
        return last().map(JobTiming::timeout);
    }

    /** The {@code percent}-th percentile (1..100, nearest rank) of the ended jobs' durations. */
    Optional<Duration> percentile(int percent) {
        List<Duration> sorted = new ArrayList<>();
        for (JobTiming t : recent) {
            if (t.state().isFinal()) {
                t.duration().ifPresent(sorted::add);
            }
        }
        if (sorted.isEmpty()) {
            return Optional.empty();
        }
        Collections.sort(sorted);
        int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
        return Optional.of(sorted.get(Math.max(0, rank - 1)));
    }
}
