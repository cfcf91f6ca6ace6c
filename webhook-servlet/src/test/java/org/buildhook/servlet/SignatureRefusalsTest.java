package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SignatureRefusalsTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-29T04:00:00Z"));
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    @Test
    void countsTheRefusalsOfTheLast24HoursAndKeepsTheLastReason() {
        SignatureRefusals refusals = new SignatureRefusals(clock);
        refusals.record("default", "10.0.0.1", "no X-JobServ-Sig header");
        now.set(now.get().plus(Duration.ofHours(23)));
        refusals.record("default", "10.0.0.2", "no configured secret matches X-JobServ-Sig");
        refusals.record("default", "10.0.0.2", "no configured secret matches X-JobServ-Sig");

        assertThat(refusals.lastDay()).isEqualTo(3);
        assertThat(refusals.last()).hasValueSatisfying(l -> assertThat(l.remote()).isEqualTo("10.0.0.2"));

        now.set(now.get().plus(Duration.ofHours(2)));
        assertThat(refusals.lastDay()).isEqualTo(2);
        assertThat(refusals.total()).isEqualTo(3);

        now.set(now.get().plus(Duration.ofDays(1)));
        assertThat(refusals.lastDay()).isZero();
        assertThat(refusals.last()).isEmpty();
    }
}
