package org.buildhook.runner.rules;

import java.util.Objects;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.Run;

/**
 * What one match is about: the endpoint and event, and for {@code match: each} the run a job is for.
 * The project and factory are derived from the build URL at most once per delivery, on first use,
 * instead of once per rule. Not thread-safe; one per {@link RuleSet#match} call.
 */
final class JobSubject {

    private final String endpoint;
    private final BuildEvent event;
    private final Run run;
    private final JobSubject build; // where the derived values are cached; this for the build itself
    private final FollowUpParent parent;
    private String project;
    private String factory;

    private JobSubject(String endpoint, BuildEvent event, Run run, JobSubject build) {
        this(endpoint, event, run, build, null);
    }

    private JobSubject(String endpoint, BuildEvent event, Run run, JobSubject build, FollowUpParent parent) {
        this.parent = parent;
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.event = Objects.requireNonNull(event, "event");
        this.run = run;
        this.build = build == null ? this : build;
    }

    static JobSubject of(String endpoint, BuildEvent event) {
        return new JobSubject(endpoint, event, null, null);
    }

    JobSubject forRun(Run run) {
        return new JobSubject(endpoint, event, run, build);
    }

    /** The subject of the run named {@code runName} of the event, or this one when it is null or the event has none. */
    JobSubject forRunNamed(String runName) {
        if (runName != null) {
            for (Run r : event.runs()) {
                if (runName.equals(r.name())) {
                    return forRun(r);
                }
            }
        }
        return this;
    }

    /**
     * The subjects of every run named {@code runName} of the event, in the event's order; this one alone when it is
     * null or the event has no run of that name. JobServ names each run of a build once, but a sender's body may
     * repeat a name, and a stored job keeps only its run's name (tryout44 F12).
     */
    java.util.List<JobSubject> forEachRunNamed(String runName) {
        java.util.List<JobSubject> subjects = new java.util.ArrayList<>();
        if (runName != null) {
            for (Run r : event.runs()) {
                if (runName.equals(r.name())) {
                    subjects.add(forRun(r));
                }
            }
        }
        if (subjects.isEmpty()) {
            subjects.add(this);
        }
        return subjects;
    }

    /** The same subject for a follow-up of {@code followed}. */
    JobSubject forFollowUpOf(FollowUpParent followed) {
        return new JobSubject(endpoint, event, run, build, followed);
    }

    /** For a follow-up, the job it follows; else null. */
    FollowUpParent parent() {
        return parent;
    }

    String endpoint() {
        return endpoint;
    }

    BuildEvent event() {
        return event;
    }

    /** The run of a {@code match: each} job, else null. */
    Run run() {
        return run;
    }

    String project() {
        if (build.project == null) {
            build.project = event.project();
        }
        return build.project;
    }

    String factory() {
        if (build.factory == null) {
            String p = project();
            int slash = p.indexOf('/');
            build.factory = slash < 0 ? p : p.substring(0, slash);
        }
        return build.factory;
    }
}
