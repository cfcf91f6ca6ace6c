package org.buildhook.runner.rules;

import java.util.Objects;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.Run;

/**
 * What one match is about: the endpoint and event, with the derived values computed once per
 * delivery instead of once per rule, and for {@code match: each} the run a job is for.
 */
record JobSubject(String endpoint, BuildEvent event, String project, String factory, Run run) {

    JobSubject {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(event, "event");
    }

    static JobSubject of(String endpoint, BuildEvent event) {
        return new JobSubject(endpoint, event, event.project(), event.factory(), null);
    }

    JobSubject forRun(Run run) {
        return new JobSubject(endpoint, event, project, factory, run);
    }
}
