package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The list of builds answered 503 to re-send: one entry per build, off when stored, bounded, dismissable. */
class RefusedBuildsTest {

    private final RefusedBuilds list = new RefusedBuilds(Clock.fixed(Instant.parse("2026-12-02T17:00:00Z"),
            ZoneOffset.UTC), 3);

    @Test
    void aBuildIsListedOnceWithItsRefusalsAndLeavesWhenStored() {
        list.refused("default", 1313, "andy-corp/lmp", "PASSED", "containers-devel");
        list.refused("default", 1313, "andy-corp/lmp", "PASSED", "containers-devel");
        list.refused("default", 1313, "andy-corp/lmp", "RUNNING", "containers-devel"); // another delivery of it
        assertThat(list.view().builds()).extracting(RefusedBuilds.Build::status, RefusedBuilds.Build::refusals)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("PASSED", 2),
                        org.assertj.core.groups.Tuple.tuple("RUNNING", 1));

        list.stored("default", 1313, "andy-corp/lmp", "PASSED", "containers-devel");
        list.stored("other", 1313, "andy-corp/lmp", "RUNNING", "containers-devel"); // another endpoint: stays

        assertThat(list.view().builds()).extracting(RefusedBuilds.Build::status).containsExactly("RUNNING");
        assertThat(list.size()).isEqualTo(1);
    }

    @Test
    void itsTimesAreInMillisecondsAsTheApisOthers() {
        // tryout28 F4: LAST REFUSED 2026-12-03T02:45:22.046802276Z where every other time of the API and the
        // commands is in milliseconds (createdAt 2026-12-03T02:46:08.624Z).
        RefusedBuilds precise = new RefusedBuilds(Clock.fixed(Instant.parse("2026-12-03T02:45:22.046802276Z"),
                ZoneOffset.UTC));
        precise.refused("default", 70, "andy-corp/lmp", "PASSED", "containers-devel");
        RefusedBuilds.Build build = precise.view().builds().get(0);
        assertThat(build.first()).hasToString("2026-12-03T02:45:22.046Z");
        assertThat(build.last()).hasToString("2026-12-03T02:45:22.046Z");
    }

    @Test
    void theOldestAreDroppedBeyondTheLimitAndCountedUntilDismissed() {
        for (long build = 1; build <= 5; build++) {
            list.refused("default", build, "p/q", "PASSED", "t");
        }
        RefusedBuilds.View view = list.view();
        assertThat(view.builds()).extracting(RefusedBuilds.Build::buildId).containsExactly(3L, 4L, 5L);
        assertThat(view.dropped()).isEqualTo(2);

        assertThat(list.dismiss()).isEqualTo(3);
        assertThat(list.view().isEmpty()).isTrue();
    }

    @Test
    void aDeliveryThatMayBeStoredIsLookedForABoundedNumberOfTimesSpacedAndAFewAtOnce() {
        // review50b R15: every status-page poll asked the store about every such delivery, for as long as listed.
        SettableClock clock = new SettableClock("2026-12-06T20:00:00Z");
        RefusedBuilds many = new RefusedBuilds(clock);
        int builds = RefusedBuilds.LOOKS_AT_ONCE + 10;
        for (int i = 0; i < builds; i++) {
            many.refused("default", i, "andy-corp/lmp", "PASSED", "t", clock.instant().plusMillis(i));
        }

        assertThat(many.due(RefusedBuilds.LOOKS_AT_ONCE)).hasSize(RefusedBuilds.LOOKS_AT_ONCE);
        List<RefusedBuilds.Uncertain> rest = many.due(RefusedBuilds.LOOKS_AT_ONCE);
        assertThat(rest).hasSize(10);
        assertThat(many.due(RefusedBuilds.LOOKS_AT_ONCE)).as("each looked at within the interval").isEmpty();

        // One of them not found at each look: after LOOKS looks it is no longer looked for, and stays listed.
        RefusedBuilds.Uncertain notStored = rest.get(0);
        for (int look = 1; look <= RefusedBuilds.LOOKS; look++) {
            if (look > 1) {
                clock.advance(RefusedBuilds.LOOK_AGAIN_AFTER);
                List<RefusedBuilds.Uncertain> due = new java.util.ArrayList<>();
                for (List<RefusedBuilds.Uncertain> next; !(next = many.due(RefusedBuilds.LOOKS_AT_ONCE)).isEmpty(); ) {
                    due.addAll(next);
                }
                assertThat(due).hasSize(builds).contains(notStored);
            }
            many.notFound(notStored);
        }
        clock.advance(RefusedBuilds.LOOK_AGAIN_AFTER);
        List<RefusedBuilds.Uncertain> due = new java.util.ArrayList<>();
        for (List<RefusedBuilds.Uncertain> next; !(next = many.due(RefusedBuilds.LOOKS_AT_ONCE)).isEmpty(); ) {
            due.addAll(next);
        }
        assertThat(due).hasSize(builds - 1).doesNotContain(notStored);
        assertThat(many.view().builds()).hasSize(builds);
    }
}
