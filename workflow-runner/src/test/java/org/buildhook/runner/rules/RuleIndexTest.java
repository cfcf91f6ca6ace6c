package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.buildhook.core.BuildEvent;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;

class RuleIndexTest {

    /** Rules the index binds to factories, interleaved with rules it must check for every event. */
    private static final RuleSet MIXED = TestRules.parse("""
            rules:
              - {name: a-everything, run: {command: [/bin/true]}}
              - {name: b-andy-project, when: {project: "andy-corp/*"}, run: {command: [/bin/true]}}
              - {name: c-acme-factory, when: {factory: acme}, run: {command: [/bin/true]}}
              - {name: d-regex, when: {project: "/(andy-corp|acme)/.*/"}, run: {command: [/bin/true]}}
              - {name: e-two-factories, when: {factory: [acme, andy-corp]}, run: {command: [/bin/true]}}
              - {name: f-factory-glob, when: {factory: "andy*"}, run: {command: [/bin/true]}}
              - {name: g-project-star, when: {project: "*/lmp"}, run: {command: [/bin/true]}}
              - {name: h-unicode, when: {project: "zürich/lmp"}, run: {command: [/bin/true]}}
              - {name: i-each, when: {project: "andy-corp/lmp", runs: {match: each, name: "build-*"}}, run: {command: [/bin/true]}}
              - {name: j-other, when: {factory: nobody}, run: {command: [/bin/true]}}
            """);

    @Test
    void theIndexNeverChangesWhichJobsArePlannedNorTheirOrder() {
        List<BuildEvent> events = List.of(TestEvents.seed(), TestEvents.fixture("build-68-failed.json"),
                TestEvents.fixture("build-412-promoted.json"), TestEvents.fixture("build-7-unusual.json"),
                TestEvents.event("nobody/x", "PASSED", null, List.of()),
                new BuildEvent(1, "not a url", org.buildhook.core.BuildStatus.of("PASSED"), List.of(), null, null,
                        null, null, null, null));

        for (BuildEvent event : events) {
            // explain() checks every rule in file order without the index.
            assertThat(MIXED.match("default", event)).as("build %s", event.buildId())
                    .isEqualTo(MIXED.explain("default", event).jobs());
        }
        assertThat(MIXED.match("default", TestEvents.seed())).extracting(PlannedJob::ruleName).containsExactly(
                "a-everything", "b-andy-project", "d-regex", "e-two-factories", "f-factory-glob", "g-project-star",
                "i-each", "i-each", "i-each");
        assertThat(MIXED.match("default", TestEvents.fixture("build-7-unusual.json"))).extracting(PlannedJob::ruleName)
                .containsExactly("a-everything", "g-project-star", "h-unicode");
    }
}
