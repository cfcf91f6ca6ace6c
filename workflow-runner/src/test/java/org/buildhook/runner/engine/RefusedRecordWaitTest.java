package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.store.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * record53 A: the wait of an outcome whose record and keeping the store both refuse, on a clock its pauses move: tried
 * again, the record first, with the outage wait's backoff, until one goes through; said again each minute; ended only
 * by its stop or an interrupt.
 */
class RefusedRecordWaitTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-07T02:00:00Z"));
    private final List<Duration> pauses = new ArrayList<>();
    private final RefusedRecordWait waits = new RefusedRecordWait(pause -> {
        pauses.add(pause);
        now.updateAndGet(t -> t.plus(pause));
    }, new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    });

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    private static RunnerException refused(String what) {
        return new RunnerException("store failed to " + what, new SQLException("ERROR: refused by a trigger", "P0001"));
    }

    /** Refuses {@code refusals} times, then answers {@code answer}. */
    private static java.util.function.Supplier<String> refusing(int refusals, String answer, AtomicInteger calls) {
        return () -> {
            if (calls.incrementAndGet() <= refusals) {
                throw refused("record an attempt");
            }
            return answer;
        };
    }

    @Test
    void bothAreTriedAgainTheRecordFirstUntilOneGoesThroughAndItIsSaidAgainEachMinute() {
        AtomicInteger records = new AtomicInteger();
        AtomicInteger keeps = new AtomicInteger();
        List<ILoggingEvent> log;
        String done;
        try (AbstractEngineTest.LogCapture capture = new AbstractEngineTest.LogCapture(RefusedRecordWait.class)) {
            done = waits.call("job-1", 1, "exited with 0", refusing(100, "recorded", records), refusal -> {
                assertThat(refusal).hasMessageContaining("record an attempt");
                keeps.incrementAndGet();
                throw refused("keep an attempt's outcome");
            }, refused("record an attempt"), () -> null);
            log = capture.events();
        }

        assertThat(done).isEqualTo("recorded");
        assertThat(records).hasValue(101);
        assertThat(keeps).as("after each refused record").hasValue(100);
        assertThat(pauses.subList(0, 6)).extracting(Duration::toMillis).containsExactly(100L, 200L, 400L, 800L, 1600L,
                2000L);
        List<String> warned = log.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
        // 101 pauses, 2 s apart after the first few: about 195 s, 3 minutes.
        assertThat(warned).hasSize(3).allSatisfy(m -> assertThat(m).contains("job-1 attempt 1: the store has refused")
                .contains("to record what it came to (exited with 0), and to keep it with the attempt")
                .contains("its command is not run again"));
        assertThat(warned.get(0)).contains(" 35 times in 61 s");
        assertThat(warned.get(2)).contains(" 95 times in 181 s");
        List<String> told = log.stream().filter(e -> e.getLevel() == Level.INFO)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(told).hasSize(1);
        assertThat(told.get(0)).contains("the store took its record of what it came to (exited with 0) after refusing"
                + " it 101 times in 195 s");
    }

    @Test
    void aKeepingThatGoesThroughEndsTheWait() {
        AtomicInteger keeps = new AtomicInteger();

        String done = waits.call("job-1", 1, "exited with 0", refusing(100, "recorded", new AtomicInteger()),
                refusal -> keeps.incrementAndGet() < 3 ? failWith(refused("keep")) : "kept", refused("record"),
                () -> null);

        assertThat(done).isEqualTo("kept");
        assertThat(pauses).hasSize(3);
    }

    @Test
    void itsStopEndsItWithTheLastRefusal() {
        AtomicInteger records = new AtomicInteger();

        Throwable last = org.assertj.core.api.Assertions.catchThrowable(() -> waits.call("job-1", 1, "exited with 0",
                refusing(100, "recorded", records), refusal -> failWith(refused("keep")), refused("record"),
                () -> records.get() >= 3 ? "the engine's grace period is over" : null));

        assertThat(last).hasMessageContaining("record an attempt");
        assertThat(last.getSuppressed()).hasSize(1);
        assertThat(last.getSuppressed()[0]).hasMessageContaining("keep");
        assertThat(records).hasValue(3);
    }

    @Test
    void aFailureTheirOwnWaitsGaveUpOnIsThrownAtOnce() {
        StoreUnavailableException outage = new StoreUnavailableException("store unavailable (test)",
                new SQLTransientConnectionException("refused"));
        AtomicInteger keeps = new AtomicInteger();

        assertThatThrownBy(() -> waits.call("job-1", 1, "exited with 0", () -> {
            throw outage;
        }, refusal -> keeps.incrementAndGet(), refused("record"), () -> null)).isSameAs(outage);
        assertThat(keeps).hasValue(0);
        assertThat(pauses).hasSize(1);
    }

    @Test
    void anInterruptEndsItAndStaysSet() {
        RefusedRecordWait interrupted = new RefusedRecordWait(pause -> {
            throw new InterruptedException("shutdown");
        }, Clock.systemUTC());
        RunnerException first = refused("record");

        assertThatThrownBy(() -> interrupted.call("job-1", 1, "exited with 0", () -> "recorded", refusal -> "kept",
                first, () -> null)).isSameAs(first);
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
    }

    private static <T> T failWith(RuntimeException e) {
        throw e;
    }
}
