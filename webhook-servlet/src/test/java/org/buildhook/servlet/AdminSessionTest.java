package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.buildhook.core.Secret;
import org.junit.jupiter.api.Test;

/** The status page cookie's value over its lifetime (tryout55 F2); StatusPageCookieTest has it over real HTTP. */
class AdminSessionTest {

    private static final Secret TOKEN = Secret.of("admin-token-0123456789abcdef");

    @Test
    void aValueLastsSevenDaysFromTheSignInAndNoUseRenewsIt() {
        SettableClock clock = new SettableClock("2026-12-07T08:00:00Z");
        AdminSession session = new AdminSession(TOKEN, clock);
        String value = session.issue();

        assertThat(value).matches("v1\\.1796630400\\.[A-Za-z0-9_-]{43}").doesNotContain("admin-token");
        assertThat(session.issued(value)).hasValue(Instant.parse("2026-12-07T08:00:00Z"));
        assertThat(session.replacement(value)).isEmpty();
        // review56 F6: a value two days old is accepted and not renewed (its holder, maybe not the one who signed
        // in, would otherwise get a fresh 7-day value before each expiry, for ever).
        clock.advance(Duration.ofDays(2));
        assertThat(session.issued(value)).isPresent();
        assertThat(session.replacement(value)).isEmpty();
        clock.advance(Duration.ofDays(5).minusSeconds(1));
        assertThat(session.issued(value)).isPresent();
        assertThat(session.replacement(value)).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        assertThat(session.issued(value)).isEmpty();
        clock.advance(Duration.ofDays(1));
        assertThat(session.issued(value)).as("eight days old").isEmpty();
    }

    @Test
    void aCookieOfTheTokenItselfFromAnOlderBuildIsReplacedByAValueIssuedNow() {
        SettableClock clock = new SettableClock("2026-12-07T08:00:00Z");
        AdminSession session = new AdminSession(TOKEN, clock);

        String replacement = session.replacement("admin-token-0123456789abcdef").orElseThrow();

        assertThat(session.issued(replacement)).hasValue(Instant.parse("2026-12-07T08:00:00Z"));
        assertThat(session.replacement("admin-token-0123456789abcdeF")).isEmpty();
        assertThat(session.replacement("")).isEmpty();
    }

    @Test
    void aValueIsAnotherNodesWithTheSameTokenAndNoneOfAnotherToken() {
        Clock at = Clock.fixed(Instant.parse("2026-12-07T08:00:00Z"), ZoneOffset.UTC);
        String value = new AdminSession(TOKEN, at).issue();

        assertThat(new AdminSession(Secret.of("admin-token-0123456789abcdef"), at).issued(value)).isPresent();
        assertThat(new AdminSession(Secret.of("admin-token-0123456789abcdeF"), at).issued(value)).isEmpty();
    }

    @Test
    void aValueFromANodeWhoseClockIsAFewMinutesAheadIsAcceptedButNotOneFromTheFuture() {
        Instant now = Instant.parse("2026-12-07T08:00:00Z");
        AdminSession here = new AdminSession(TOKEN, Clock.fixed(now, ZoneOffset.UTC));

        assertThat(here.issued(new AdminSession(TOKEN, Clock.fixed(now.plusSeconds(299), ZoneOffset.UTC)).issue()))
                .isPresent();
        assertThat(here.issued(new AdminSession(TOKEN, Clock.fixed(now.plusSeconds(301), ZoneOffset.UTC)).issue()))
                .isEmpty();
    }

    @Test
    void theTokenItselfAndMalformedValuesAreNoValue() {
        AdminSession session = new AdminSession(TOKEN, Clock.systemUTC());
        String value = session.issue();

        assertThat(session.issued("admin-token-0123456789abcdef")).isEmpty();
        assertThat(session.issued("")).isEmpty();
        assertThat(session.issued("v1.99999999999999999999." + value.substring(value.lastIndexOf('.') + 1))).isEmpty();
        assertThat(session.issued(value + "=")).isEmpty();
        assertThat(session.issued(" " + value)).isEmpty();
    }
}
