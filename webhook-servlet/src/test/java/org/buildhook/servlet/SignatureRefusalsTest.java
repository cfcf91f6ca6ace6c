package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SignatureRefusalsTest {

    private final SettableClock clock = new SettableClock("2026-11-29T04:00:00Z");

    @Test
    void countsTheRefusalsOfTheLast24HoursAndKeepsTheLastReason() {
        SignatureRefusals refusals = new SignatureRefusals(clock);
        refusals.record("default", "10.0.0.1", "no X-JobServ-Sig header");
        clock.advance(Duration.ofHours(23));
        refusals.record("default", "10.0.0.2", "no configured secret matches X-JobServ-Sig");
        refusals.record("default", "10.0.0.2", "no configured secret matches X-JobServ-Sig");

        assertThat(refusals.lastDay()).isEqualTo(3);
        assertThat(refusals.last()).hasValueSatisfying(l -> assertThat(l.remote()).isEqualTo("10.0.0.2"));

        clock.advance(Duration.ofHours(2));
        assertThat(refusals.lastDay()).isEqualTo(2);
        assertThat(refusals.total()).isEqualTo(3);

        clock.advance(Duration.ofDays(1));
        assertThat(refusals.lastDay()).isZero();
        assertThat(refusals.last()).isEmpty();
    }
}
