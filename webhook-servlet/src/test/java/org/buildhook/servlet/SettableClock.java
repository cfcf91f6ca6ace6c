package org.buildhook.servlet;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A UTC clock that stands still until a test moves it; safe to read from any thread. */
final class SettableClock extends Clock {

    private final AtomicReference<Instant> now;

    SettableClock(String start) {
        this.now = new AtomicReference<>(Instant.parse(start));
    }

    /** Moves the clock forward by {@code by}. */
    void advance(Duration by) {
        now.updateAndGet(at -> at.plus(by));
    }

    @Override
    public ZoneOffset getZone() {
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
}
