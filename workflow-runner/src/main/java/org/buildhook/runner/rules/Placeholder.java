package org.buildhook.runner.rules;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.buildhook.core.Run;

/**
 * The values of an event a command may receive, each under its {@code ${…}} placeholder name and
 * its {@code BUILDHOOK_*} environment variable. An absent optional value is the empty string.
 */
enum Placeholder {
    BUILD_ID("build.id", "BUILDHOOK_BUILD_ID", s -> Long.toString(s.event().buildId())),
    BUILD_STATUS("build.status", "BUILDHOOK_STATUS", s -> s.event().status().value()),
    BUILD_PROJECT("build.project", "BUILDHOOK_PROJECT", JobSubject::project),
    BUILD_FACTORY("build.factory", "BUILDHOOK_FACTORY", JobSubject::factory),
    BUILD_TRIGGER("build.trigger", "BUILDHOOK_TRIGGER", s -> orEmpty(s.event().triggerName())),
    BUILD_URL("build.url", "BUILDHOOK_BUILD_URL", s -> s.event().url()),
    BUILD_WEB_URL("build.web_url", "BUILDHOOK_WEB_URL", s -> orEmpty(s.event().webUrl())),
    /** JobServ's {@code name}: a promoted build's release tag ({@code v95}); tryout47b F1. */
    BUILD_NAME("build.name", "BUILDHOOK_BUILD_NAME", s -> orEmpty(s.event().name())),
    RUN_NAME("run.name", "BUILDHOOK_RUN_NAME", s -> run(s, Run::name)),
    RUN_STATUS("run.status", "BUILDHOOK_RUN_STATUS", s -> run(s, r -> r.status().value())),
    RUN_HOST_TAG("run.host_tag", "BUILDHOOK_RUN_HOST_TAG", s -> run(s, Run::hostTag)),
    RUN_URL("run.url", "BUILDHOOK_RUN_URL", s -> run(s, Run::url)),
    RUN_LOG_URL("run.log_url", "BUILDHOOK_RUN_LOG_URL", s -> run(s, Run::logUrl)),
    JOB_ID("job.id", "BUILDHOOK_JOB_ID", s -> parent(s, FollowUpParent::id)),
    JOB_RULE("job.rule", "BUILDHOOK_JOB_RULE", s -> parent(s, FollowUpParent::rule)),
    JOB_OUTCOME("job.outcome", "BUILDHOOK_JOB_OUTCOME", s -> parent(s, FollowUpParent::outcome)),
    JOB_EXIT_CODE("job.exit_code", "BUILDHOOK_JOB_EXIT_CODE",
            s -> parent(s, p -> p.exitCode() == null ? "" : Integer.toString(p.exitCode()))),
    JOB_ATTEMPTS("job.attempts", "BUILDHOOK_JOB_ATTEMPTS", s -> parent(s, p -> Integer.toString(p.attempts()))),
    JOB_LOG_PATH("job.log_path", "BUILDHOOK_JOB_LOG", s -> parent(s, FollowUpParent::logPath)),
    /**
     * The followed job's page on the status page, from {@code admin.public-url}: a link a person can open, where
     * {@code job.log_path} is a path on buildhook's host (tryout47b F18); empty when no public address is configured.
     */
    JOB_URL("job.url", "BUILDHOOK_JOB_URL", s -> parent(s, FollowUpParent::url));

    /** Set on every job besides the placeholders' variables. */
    static final String ENDPOINT_VARIABLE = "BUILDHOOK_ENDPOINT";
    static final String RULE_VARIABLE = "BUILDHOOK_RULE";
    /** Reserved for the runner, which sets it to the path of the file holding the exact body. */
    static final String PAYLOAD_VARIABLE = "BUILDHOOK_PAYLOAD";
    static final String RESERVED_PREFIX = "BUILDHOOK_";

    private static final Map<String, Placeholder> BY_NAME = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(p -> p.name, p -> p));

    private final String name;
    private final String variable;
    private final Function<JobSubject, String> value;

    Placeholder(String name, String variable, Function<JobSubject, String> value) {
        this.name = name;
        this.variable = variable;
        this.value = value;
    }

    static Optional<Placeholder> byName(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    static java.util.Set<String> names() {
        return BY_NAME.keySet();
    }

    String placeholderName() {
        return name;
    }

    String variable() {
        return variable;
    }

    /** Whether the value belongs to one run, so only {@code match: each} rules can use it. */
    boolean isPerRun() {
        return name.startsWith("run.");
    }

    /** Whether the value describes the job a follow-up follows, so only follow-ups can use it. */
    boolean isFollowUp() {
        return name.startsWith("job.");
    }

    /**
     * Whether the value is text from the build's payload that whoever names a project, trigger or run (a factory's
     * configuration, a developer's {@code .jobserv.yml}), or whoever sends the event, chooses: a name, a URL, a status
     * kept verbatim. Such a value must never be written into shell code, where the shell would run it (tryout41 F4).
     * The build's id (a number) and a follow-up's {@code job.*} values (made by buildhook: ids, outcomes, numbers,
     * the operator's own rule names and log folder) are not.
     */
    boolean isPayloadText() {
        return this != BUILD_ID && !isFollowUp();
    }

    /**
     * Whether the value is a single name of the build's own text (a status, factory, trigger, build name, run name, run
     * status or host tag), which holds no {@code /} in any JobServ delivery: unlike {@code build.project} ({@code factory/project})
     * and the URLs, such a value may not hold one ({@link PayloadValues}, tryout44 F5).
     */
    boolean isName() {
        return this == BUILD_STATUS || this == BUILD_FACTORY || this == BUILD_TRIGGER || this == BUILD_NAME
                || this == RUN_NAME
                || this == RUN_STATUS || this == RUN_HOST_TAG;
    }

    String valueFor(JobSubject subject) {
        return value.apply(subject);
    }

    private static String run(JobSubject subject, Function<Run, String> field) {
        return subject.run() == null ? "" : orEmpty(field.apply(subject.run()));
    }

    private static String parent(JobSubject subject, Function<FollowUpParent, String> field) {
        return subject.parent() == null ? "" : orEmpty(field.apply(subject.parent()));
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }
}
