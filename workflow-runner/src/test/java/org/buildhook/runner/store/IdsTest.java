package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdsTest {

    @Test
    void idsFromOneMillisecondStillStrictlyIncrease() {
        Ids ids = new Ids(Clock.fixed(Instant.parse("2026-11-29T03:00:00Z"), ZoneOffset.UTC));
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            made.add(ids.next());
        }

        assertThat(made).isSorted().doesNotHaveDuplicates();
        assertThat(made).allMatch(Ids::isValid).allMatch(id -> id.matches("[A-Za-z0-9_-]{26}"));
    }

    @Test
    void laterMillisecondsSortAfterEarlierOnes() {
        String early = new Ids(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)).next();
        String late = new Ids(Clock.fixed(Instant.parse("2026-01-01T00:00:00.001Z"), ZoneOffset.UTC)).next();

        assertThat(early).isLessThan(late);
        assertThat(Ids.isValid("../../etc/passwd")).isFalse();
    }

    /** tryout42 F15: an id copied from a lower-cased log or URL, or misread by a person, is the same id. */
    @Test
    void anIdTypedInAnyCaseOrWithCrockfordsLookalikesIsTheSameId() {
        String id = "01M93AZKNRHKXWCRAY2S69HCBD";

        assertThat(Ids.typed(id)).isEqualTo(id);
        assertThat(Ids.typed("01m93azknrhkxwcray2s69hcbd")).isEqualTo(id);
        assertThat(Ids.typed("O1M93AZKNRHKXWCRAY2S69HCBD")).isEqualTo(id);
        assertThat(Ids.typed("0iM93AZKNRHKXWCRAY2S69HCBD")).isEqualTo(id);
        assertThat(Ids.typed("0LM93AZKNRHKXWCRAY2S69HCBD")).isEqualTo(id);
        assertThat(Ids.typed("0\u0131M93AZKNRHKXWCRAY2S69HCBD")).as("a dotless i is no I").isNull();
        assertThat(Ids.typed("01M93AZKNRHKXWCRAY2S69HCBU")).as("U is not in Crockford's alphabet").isNull();
        assertThat(Ids.typed("not-an-id")).isNull();
        assertThat(Ids.typed(null)).isNull();
        assertThat(Ids.typed("../../../../../../etc/pass")).isNull();
    }
}
