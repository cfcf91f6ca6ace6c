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
}
