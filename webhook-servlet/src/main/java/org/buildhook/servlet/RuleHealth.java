package org.buildhook.servlet;

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
 * @param rule    the rule's name
 * @param recent  its newest jobs, newest first (possibly none)
 */
record RuleHealth(String rule, List<JobTiming> recent) {

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
