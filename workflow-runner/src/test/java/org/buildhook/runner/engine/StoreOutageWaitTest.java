package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.RunnerException;
import org.buildhook.runner.store.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StoreOutageWaitTest {

    private final List<Duration> pauses = new ArrayList<>();
    private final StoreOutageWait waits = new StoreOutageWait(pauses::add, Clock.systemUTC());

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    private static StoreUnavailableException outage() {
        return new StoreUnavailableException("store unavailable (test)", new SQLTransientConnectionException("refused"));
    }

    /** Fails {@code failures} times with {@code failure}, then answers the number of calls. */
    private static java.util.function.Supplier<Integer> failing(int failures, RuntimeException failure,
            AtomicInteger calls) {
        return () -> {
            if (calls.incrementAndGet() <= failures) {
                throw failure;
            }
            return calls.get();
        };
    }

    @Test
    void triesAgainWithABackoffDoublingFrom100MillisecondsUpTo2SecondsUntilTheStoreAnswers() {
        AtomicInteger calls = new AtomicInteger();

        int result = waits.call("job-1", "start an attempt", failing(8, outage(), calls), () -> null);

        assertThat(result).isEqualTo(9);
        assertThat(pauses).extracting(Duration::toMillis).containsExactly(100L, 200L, 400L, 800L, 1600L, 2000L, 2000L,
                2000L);
    }

    @Test
    void anyOtherFailureIsThrownAtOnce() {
        AtomicInteger calls = new AtomicInteger();
        RunnerException broken = new RunnerException("store failed to start an attempt: syntax error");

        assertThatThrownBy(() -> waits.call("job-1", "start an attempt", failing(5, broken, calls), () -> null))
                .isSameAs(broken);
        assertThat(calls).hasValue(1);
        assertThat(pauses).isEmpty();
    }

    @Test
    void givesUpWithTheLastFailureWhenToldToStop() {
        AtomicInteger calls = new AtomicInteger();
        StoreUnavailableException failure = outage();

        assertThatThrownBy(() -> waits.call("job-1", "start an attempt", failing(100, failure, calls),
                () -> calls.get() >= 3 ? "the engine is stopping" : null)).isSameAs(failure);
        assertThat(calls).hasValue(3);
        assertThat(pauses).hasSize(2);
    }

    @Test
    void anInterruptEndsTheWaitAndStaysSet() {
        StoreOutageWait interrupted = new StoreOutageWait(pause -> {
            throw new InterruptedException("shutdown");
        }, Clock.systemUTC());
        AtomicInteger calls = new AtomicInteger();

        assertThatThrownBy(() -> interrupted.call("job-1", "record its attempt", failing(100, outage(), calls),
                () -> null)).isInstanceOf(StoreUnavailableException.class);
        assertThat(calls).hasValue(1);
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
    }

    @Test
    void anAlreadyInterruptedThreadDoesNotWait() {
        Thread.currentThread().interrupt();
        AtomicInteger calls = new AtomicInteger();

        assertThatThrownBy(() -> waits.call("job-1", "record its attempt", failing(100, outage(), calls), () -> null))
                .isInstanceOf(StoreUnavailableException.class);
        assertThat(calls).hasValue(1);
        assertThat(pauses).isEmpty();
    }

    @Test
    void dbSchedulersOwnConnectionFailuresCountAsAnOutage() {
        // db-scheduler wraps the pool's SQLException in its own runtime exception.
        RuntimeException poolTimeout = new RuntimeException("Unable to open connection",
                new SQLTransientConnectionException("Connection is not available, request timed out after 5000ms"));
        RuntimeException cut = new RuntimeException("Failed to rollback.",
                new SQLException("An I/O error occurred while sending to the backend.", "08006"));
        AtomicInteger calls = new AtomicInteger();

        assertThat(StoreOutages.isOutage(poolTimeout)).isTrue();
        assertThat(StoreOutages.isOutage(cut)).isTrue();
        assertThat(StoreOutages.isOutage(new RuntimeException("Expected one execution to be removed, but removed 0")))
                .isFalse();
        assertThat(StoreOutages.isOutage(new RunnerException("store failed to read a job: syntax error",
                new SQLException("syntax error", "42601")))).isFalse();
        assertThat(waits.call("job-1", "update its queue entry", failing(2, cut, calls), () -> null)).isEqualTo(3);
    }

    /**
     * review52 F3: a statement PostgreSQL ends every time (57014, a small statement_timeout) was waited on for ever with
     * one WARN at its start and nothing after: it is said again each minute, with the count and what to look at.
     */
    @Test
    void aStatementEndedEveryTimeIsSaidAgainEachMinuteWithWhatToLookAt() {
        RunnerException cancelled = new RunnerException("store failed to record an attempt",
                new SQLException("ERROR: canceling statement due to statement timeout", "57014"));

        // 100 tries: 2 s apart after the first few, 191 s of waiting.
        List<String> warned = warnedWaiting(100, cancelled);

        assertThat(warned).hasSize(4);
        assertThat(warned.get(0)).contains("PostgreSQL ended the statement while trying to record its attempt");
        assertThat(warned.subList(1, 4)).allSatisfy(m -> assertThat(m).contains("PostgreSQL has ended the statement")
                .contains("while trying to record its attempt").contains("statement_timeout")
                .contains("idle in transaction"));
        assertThat(warned.get(1)).contains(" 35 times in 61 s");
        assertThat(warned.get(3)).contains(" 95 times in 181 s");
    }

    @Test
    void anOutageIsSaidOnceHoweverLongItLasts() {
        assertThat(warnedWaiting(100, outage())).hasSize(1);
    }

    /** The WARNs of a wait of the steps after a command on {@code failures} failures, its clock moved by its pauses. */
    private static List<String> warnedWaiting(int failures, RuntimeException failure) {
        java.util.concurrent.atomic.AtomicReference<java.time.Instant> now =
                new java.util.concurrent.atomic.AtomicReference<>(java.time.Instant.parse("2026-12-06T23:00:00Z"));
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return now.get();
            }
        };
        StoreOutageWait records = new StoreOutageWait(pause -> now.updateAndGet(t -> t.plus(pause)), clock,
                StoreOutages::passes);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(StoreOutageWait.class);
        logger.addAppender(log);
        try {
            assertThat(records.call("job-1", "record its attempt", failing(failures, failure, new AtomicInteger()),
                    () -> null)).isEqualTo(failures + 1);
        } finally {
            logger.detachAppender(log);
        }
        return log.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }
}
