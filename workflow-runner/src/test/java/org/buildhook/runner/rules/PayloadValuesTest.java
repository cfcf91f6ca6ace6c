package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.buildhook.runner.rules.TestEvents.event;
import static org.buildhook.runner.rules.TestEvents.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.Run;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tryout42 F2, F3: a payload value in a command argument or an env value was read by the program as a path ({@code
 * ../../../../dev/stdin} as bash's script, {@code ../victim} for rm -rf), as code (psql's SQL, make's {@code
 * $(shell …)}, the shell git starts for GIT_SSH_COMMAND) or as an option ({@code --upload-pack=…}). Such a value is
 * now refused where the job is planned ({@link PayloadValues}): the job is stored ended, never started.
 */
class PayloadValuesTest {

    /** The rules every value obeys, checked on ${build.project}'s (a name may not hold '/' besides: tryout44 F5). */
    private static Optional<String> problem(String value) {
        return PayloadValues.problem(Placeholder.BUILD_PROJECT, value, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"containers-devel", "andy-corp/lmp", "v1.2.3+build=b~c", "tëst-ünïcode-ラン",
        "e\u0301te", "zürich", "x..y", "..x", "x..", "a/..b", "release_2026.12", "PASSED", "a-", "x/-y", ""})
    void plainNamesPathsAndUnicodeLettersPass(String value) {
        assertThat(problem(value)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {" ", "'", "\"", "$", "`", ";", "|", "<", ">", "(", ")", "{", "}", "[", "]", "*", "!", "\\",
        "\n", "\r", "\t", "\u0000", "\u001b", "\u0085", "\u202e", "\u200b", "\u2028", "\u2029", "\ufeff", "?", "#", "&",
        "^", "\u00a0", "@", ":", ",", "%"})
    void everyOtherCharacterIsRefusedWhereverItIs(String c) {
        assertThat(problem("x" + c + "y")).get().asString().startsWith("it holds ");
        assertThat(problem(c)).isPresent();
    }

    @Test
    void theRefusedCharacterIsShownEscapedWithItsPlace() {
        assertThat(problem("ab\u001b[31m")).contains("it holds '\\x1b' at character 3");
        assertThat(problem("a b")).contains("it holds a space at character 2");
        assertThat(problem("a;b")).contains("it holds ';' (U+003B) at character 2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://api.foundries.io/projects/a/lmp/builds/7/?x=1&y=2#top", "http://h/a-b"})
    void aUrlPlaceholdersValueMayAlsoHoldQueryAndFragmentCharacters(String url) {
        for (Placeholder p : List.of(Placeholder.BUILD_URL, Placeholder.BUILD_WEB_URL, Placeholder.RUN_URL,
                Placeholder.RUN_LOG_URL)) {
            assertThat(PayloadValues.problem(p, url, true)).as(p.placeholderName()).isEmpty();
        }
        assertThat(PayloadValues.problem(Placeholder.RUN_NAME, "a?b&c#d", true)).isPresent();
        assertThat(PayloadValues.problem(Placeholder.BUILD_URL, "https://h/a b", true)).isPresent();
    }

    /**
     * tryout43 F5: curl reads the file after an {@code @} ({@code -F trigger=@/path}, {@code --data-urlencode x@/path}),
     * so a trigger {@code @/…/admin-token} posted the admin token to the chat endpoint; rsync and scp read a name
     * {@code host:path} as another host's. A URL keeps its {@code :}, never an {@code @}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"@/work/op/data/admin-token", "x@/etc/shadow", "evil.example:/srv"})
    void aFileOrHostThatAProgramWouldReadIsRefused(String value) {
        assertThat(problem(value)).get().asString().startsWith("it holds '");
        assertThat(PayloadValues.problem(Placeholder.RUN_URL, "https://api.foundries.io/x@/etc/shadow", false))
                .get().asString().startsWith("it holds '@'");
        assertThat(PayloadValues.problem(Placeholder.RUN_URL, "https://api.foundries.io:443/a/", true)).isEmpty();
    }

    /**
     * tryout43 F7: written after a '/', a value without a letter or digit names the folder before it: {@code [rm, -rf,
     * "/srv/builds/${build.trigger}"]} with a trigger {@code /}, or with none, removed every build. Not after a '/',
     * an empty value (a field the build does not have) still passes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"", "/", ".", "./", "//", "-"})
    void aValueWithoutALetterOrDigitAfterASlashIsRefused(String value) {
        assertThat(PayloadValues.problem(Placeholder.BUILD_TRIGGER, value, false, true)).get().asString()
                .contains("names the folder before it");
        assertThat(PayloadValues.problem(Placeholder.BUILD_PROJECT, "a" + value, false, true)).isEmpty();
        assertThat(PayloadValues.problem(Placeholder.BUILD_TRIGGER, "", false, false)).isEmpty();
    }

    /**
     * tryout44 F2: gcc hands what follows {@code -Wl,} to the linker split on ',', so {@code
     * -Wl,-rpath,/opt/fleet/${build.trigger}/lib} with a trigger {@code stable,-rpath,/tmp} built a binary that loads
     * its libraries from /tmp; helm's {@code --set}, QEMU's {@code -drive} and {@code mount -o} split the same way. A
     * ',' is refused in every value, a URL's too.
     */
    @Test
    void aCommaIsRefusedInEveryValueSinceProgramsSplitOptionsOnIt() {
        PlannedJob job = rules("      command: [/usr/bin/gcc, -o, /srv/bin/helper, /srv/src/helper.c,"
                + " \"-Wl,-rpath,/opt/fleet/${build.trigger}/lib\"]\n").match("default", trigger("stable,-rpath,/tmp"))
                .get(0);

        assertThat(job.refusal()).contains("into argument 4 of 'command'").contains("it holds ',' (U+002C) at"
                + " character 7").contains("may hold only letters, digits and . _ - + = ~ (no '/' in a name),");
        assertThat(job.argv()).containsExactly("/usr/bin/gcc", "-o", "/srv/bin/helper", "/srv/src/helper.c",
                "-Wl,-rpath,/opt/fleet/${build.trigger}/lib");
        assertThat(problem("v1,image.repository=evil/app")).get().asString().startsWith("it holds ','");
        assertThat(PayloadValues.problem(Placeholder.BUILD_URL, "https://h/a,b", false)).isPresent();
    }

    /**
     * tryout44 F3: curl sends {@code http://…/api/deploy/%2e%2e/%2e%2e/admin/reset} as is, and a server that decodes
     * before it routes serves {@code /admin/reset}: where {@code ../} is refused, its percent-encoded form was not. A
     * '%' is refused in every value, a URL's too.
     */
    @Test
    void aPercentIsRefusedInEveryValueSinceAServerDecodesItIntoDotDot() {
        String url = "http://127.0.0.1:18961/api/deploy/${build.trigger}";
        PlannedJob job = rules("      command: [/usr/bin/curl, -sS, \"" + url + "\"]\n")
                .match("default", trigger("%2e%2e/%2e%2e/admin/reset")).get(0);

        assertThat(job.refusal()).contains("into argument 2 of 'command'").contains("it holds '%' (U+0025) at"
                + " character 1");
        assertThat(job.argv()).containsExactly("/usr/bin/curl", "-sS", url);
        assertThat(PayloadValues.problem(Placeholder.RUN_LOG_URL, "https://h/a/%2e%2e/b", false)).isPresent();
    }

    /**
     * tryout44 F5: {@code https://${build.trigger}.ota.example.com/api/publish/${build.id}} with a trigger {@code
     * attacker.example/x} sent the OTA token's request to attacker.example. A name (trigger, run name, host tag,
     * status, factory) holds no '/' in any delivery and may not; {@code build.project} ({@code factory/project}) and
     * the URLs keep theirs.
     */
    @Test
    void aNameMayNotHoldASlashSinceInAUrlsHostItWouldChooseTheHost() {
        String url = "https://${build.trigger}.ota.example.com/api/publish/${build.id}";
        PlannedJob job = rules("      command: [/usr/bin/curl, -sS, -v, -H, \"@/work/tryout44/vals/ota-auth.hdr\", \""
                + url + "\"]\n").match("default", trigger("attacker.example/x")).get(0);

        assertThat(job.refusal()).contains("into argument 5 of 'command'").contains("it holds '/' at character 17")
                .contains("would end the host").contains("letters, digits and . _ - + = ~ (no '/' in a name),");
        assertThat(job.argv()).last().asString().startsWith("https://${build.trigger}.ota.example.com/api/publish/");
        for (Placeholder p : List.of(Placeholder.BUILD_TRIGGER, Placeholder.RUN_NAME, Placeholder.RUN_HOST_TAG,
                Placeholder.BUILD_STATUS, Placeholder.RUN_STATUS, Placeholder.BUILD_FACTORY)) {
            assertThat(PayloadValues.problem(p, "a/b", false)).as(p.placeholderName()).get().asString()
                    .startsWith("it holds '/' at character 2");
        }
        assertThat(PayloadValues.problem(Placeholder.BUILD_PROJECT, "andy-corp/lmp", true)).isEmpty();
        assertThat(PayloadValues.problem(Placeholder.RUN_URL, "https://h/a/b", true)).isEmpty();
    }

    /**
     * tryout44 F1: a promoted build has no trigger (fixture build-412-promoted.json), so {@code
     * …/${build.trigger}/${build.id}} was refused as "empty after a '/'" and every promotion paged. An empty value (or
     * one without a letter or digit) after a '/' is refused only where nothing but '/' follows it in its argument or
     * env value; the refused job keeps the placeholder, not the value.
     */
    @Test
    void anEmptyValueAfterASlashIsRefusedOnlyWhereItEndsTheFolderPath() {
        RuleSet rules = TestRules.parse("rules:\n"
                + "  - name: artifacts-dir\n"
                + "    run: {command: [mkdir, -p, \"/srv/artifacts/${build.factory}/${build.trigger}/${build.id}\"]}\n"
                + "  - name: git-tag\n"
                + "    run: {command: [echo, git, -C, /srv/repo, tag, \"ci/${build.trigger}/${build.id}\"]}\n"
                + "  - name: release-env\n"
                + "    run: {command: [/opt/release], env: {DIR: \"/srv/releases/${build.trigger}/${build.id}\"}}\n"
                + "  - name: release-notes\n"
                + "    run: {command: [echo, \"/srv/releases/${build.project}/${build.trigger}\"]}\n"
                + "  - name: cleanup-slash\n"
                + "    run: {command: [rm, -rf, \"/srv/builds/${build.trigger}/\"]}\n"
                + "  - name: cleanup\n"
                + "    run: {command: [rm, -rf, \"/srv/builds/${build.trigger}\"]}\n"
                + "  - name: per-host-logs\n"
                + "    when: {runs: {match: each}}\n"
                + "    run: {command: [mkdir, -p, \"/srv/hostlogs/${run.host_tag}\"]}\n");

        List<PlannedJob> jobs = rules.match("default", TestEvents.fixture("build-412-promoted.json"));

        assertThat(jobs).extracting(PlannedJob::ruleName).containsExactly("artifacts-dir", "git-tag", "release-env",
                "release-notes", "cleanup-slash", "cleanup", "per-host-logs");
        assertThat(jobs).extracting(PlannedJob::refused).containsExactly(false, false, false, true, true, true, false);
        assertThat(jobs.get(0).argv()).containsExactly("mkdir", "-p", "/srv/artifacts/acme//412");
        assertThat(jobs.get(1).argv()).last().isEqualTo("ci//412");
        assertThat(jobs.get(3).refusal()).contains("its value \"\" is refused: it is empty").contains("written after"
                + " a '/' with nothing but '/' after it in its argument or env value, a letter or digit (not empty)");
        // What a refused job keeps is the placeholder, never the empty value (a re-run cannot remove /srv/builds).
        assertThat(jobs.get(4).argv()).containsExactly("rm", "-rf", "/srv/builds/${build.trigger}/");
        assertThat(jobs.get(5).argv()).containsExactly("rm", "-rf", "/srv/builds/${build.trigger}");
        // build-7-unusual.json's run without a host_tag, at the end of a path: still refused, as documented.
        List<PlannedJob> unusual = rules.match("default", TestEvents.fixture("build-7-unusual.json")).stream()
                .filter(j -> j.ruleName().equals("per-host-logs")).toList();
        assertThat(unusual).extracting(PlannedJob::refused).contains(true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "../victim", "../../../../dev/stdin", "a/../b", "a/..", "x/../../y"})
    void aDotDotPathSegmentIsRefused(String value) {
        assertThat(problem(value)).get().asString().contains("'..' path segment");
    }

    @Test
    void aLeadingDashIsRefusedOnlyWhereTheValueBeginsItsArgument() {
        String upload = "--upload-pack=touch";
        assertThat(PayloadValues.problem(Placeholder.BUILD_TRIGGER, upload, true)).get().asString()
                .contains("begins with '-'");
        assertThat(PayloadValues.problem(Placeholder.BUILD_TRIGGER, upload, false)).isEmpty();
    }

    /**
     * tryout44 F14: a trigger named {@code +main} made {@code git push origin "${build.trigger}"} a forced push that
     * overwrote origin's main. A leading '+' is refused where the value begins its argument or env value, as a '-' is;
     * inside a value, or after fixed text, it passes.
     */
    @Test
    void aLeadingPlusIsRefusedOnlyWhereTheValueBeginsItsArgument() {
        assertThat(PayloadValues.problem(Placeholder.BUILD_TRIGGER, "+main", true)).get().asString()
                .contains("begins with '+'").contains("git push origin +main");
        assertThat(PayloadValues.problem(Placeholder.BUILD_TRIGGER, "+main", false)).isEmpty();
        assertThat(PayloadValues.problem(Placeholder.BUILD_TRIGGER, "c++17", true)).isEmpty();
        RuleSet rules = rules("      command: [/usr/bin/git, push, origin, \"${build.trigger}\", \"refs/${build.trigger}\"]\n"
                + "      env: {REF: \"${build.trigger}\"}\n");
        PlannedJob job = rules.match("default", trigger("+main")).get(0);
        assertThat(job.refusal()).contains("into argument 3 of 'command'").contains("begins with '+'");
        assertThat(job.argv()).containsExactly("/usr/bin/git", "push", "origin", "${build.trigger}", "refs/+main");
    }

    /** The shared fixtures' values, of the build and of every run, all pass: none of today's real deliveries is refused. */
    @ParameterizedTest
    @ValueSource(strings = {"build-67-passed.json", "build-68-failed.json", "build-7-unusual.json",
        "build-412-promoted.json", "build-9000-1500-runs.json"})
    void everyValueOfTheFixturesPasses(String fixture) {
        BuildEvent event = TestEvents.fixture(fixture);
        JobSubject build = JobSubject.of("default", event);
        List<JobSubject> subjects = new ArrayList<>(List.of(build));
        event.runs().forEach(r -> subjects.add(build.forRun(r)));
        for (JobSubject subject : subjects) {
            for (Placeholder p : Placeholder.values()) {
                if (p.isPayloadText()) {
                    String value = p.valueFor(subject);
                    assertThat(PayloadValues.problem(p, value, true)).as("%s = %s in %s", p.placeholderName(), value,
                            fixture).isEmpty();
                }
            }
        }
    }

    private static final String LETTERS = "abcXYZ019éüßラン中文Ωжא٣ـ";
    private static final String PUNCTUATION = "._-+/=~";
    private static final String REFUSED = " '\"$`;|<>(){}[]*!\\\n\t\u202e\u200b\u2028&?#^@:,%";

    /** Seeded generated values (jqwik is not in the build): allowed ones pass; one refused character anywhere fails. */
    static Stream<Long> seeds() {
        return Stream.of(1L, 2L, 3L, 42L, 4242L, 20261205L);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void generatedValuesPassUnlessTheyHoldARefusedCharacter(long seed) {
        Random random = new Random(seed);
        for (int n = 0; n < 500; n++) {
            StringBuilder value = new StringBuilder(LETTERS.charAt(random.nextInt(LETTERS.length())) + "");
            int length = random.nextInt(40);
            for (int i = 0; i < length; i++) {
                String from = random.nextInt(4) == 0 ? PUNCTUATION : LETTERS;
                value.append(from.charAt(random.nextInt(from.length())));
            }
            String allowed = value.toString();
            while (allowed.contains("..")) {
                allowed = allowed.replace("..", ".x.");
            }
            assertThat(problem(allowed)).as("seed %s: %s", seed, allowed).isEmpty();
            int at = random.nextInt(allowed.length() + 1);
            String refused = allowed.substring(0, at) + REFUSED.charAt(random.nextInt(REFUSED.length()))
                    + allowed.substring(at);
            assertThat(problem(refused)).as("seed %s: %s", seed, refused).isPresent();
        }
    }

    private static RuleSet rules(String run) {
        return TestRules.parse("rules:\n  - name: per-trigger\n    run:\n" + run);
    }

    private static BuildEvent trigger(String trigger) {
        return event("andy-corp/lmp", "PASSED", trigger, List.of());
    }

    @Test
    void aRefusedValueRefusesItsJobSayingWhichRulePlaceholderWhereWhyAndWhatToDo() {
        RuleSet rules = rules("      command: [/bin/rm, -rf, \"/srv/builds/${build.trigger}\"]\n");

        PlannedJob job = rules.match("default", trigger("../victim")).get(0);

        assertThat(job.refused()).isTrue();
        assertThat(job.refusal()).startsWith("not started: rule 'per-trigger' writes ${build.trigger} into argument 2"
                + " of 'command', and its value \"../victim\" is refused: it holds a '..' path segment")
                .contains("docs/rules.md#placeholders").contains("read $BUILDHOOK_TRIGGER in a script")
                .contains("payload-values: as-sent");
        // The stored command never holds the refused value (a re-run cannot run it); the script's variable does.
        assertThat(job.argv()).containsExactly("/bin/rm", "-rf", "/srv/builds/${build.trigger}");
        assertThat(job.env()).containsEntry("BUILDHOOK_TRIGGER", "../victim");
        assertThat(rules.match("default", trigger("nightly")).get(0).refused()).isFalse();
    }

    @Test
    void anEnvValueIsCheckedAndNamedByItsVariable() {
        RuleSet rules = rules("      command: [/opt/deploy]\n"
                + "      env: {DEPLOY_SSH: \"ssh -i /keys/${build.trigger}.key\"}\n");

        PlannedJob job = rules.match("default", trigger("x; touch /tmp/PWNED; #")).get(0);

        assertThat(job.refusal()).contains("writes ${build.trigger} into env DEPLOY_SSH")
                .contains("it holds ';' (U+003B) at character 2");
        assertThat(job.env()).containsEntry("DEPLOY_SSH", "ssh -i /keys/${build.trigger}.key");
    }

    /**
     * tryout44 F11: {@code env: {REF: "${build.trigger}"}} with a trigger {@code --upload-pack=id} made a script's
     * {@code git fetch origin "$REF"} run the program the sender named: a value that begins an env value is refused
     * with a leading '-' as where it begins an argument; after a fixed prefix it is no option.
     */
    @Test
    void aValueThatBeginsAnEnvValueWithADashIsRefused() {
        PlannedJob job = rules("      command: [/opt/fetch.sh]\n      env: {REF: \"${build.trigger}\"}\n")
                .match("default", trigger("--upload-pack=id")).get(0);

        assertThat(job.refusal()).contains("writes ${build.trigger} into env REF").contains("begins with '-'")
                .contains("no leading '-' or '+' where it begins an argument or an env value");
        assertThat(job.env()).containsEntry("REF", "${build.trigger}");
        assertThat(rules("      command: [/opt/deploy]\n      env: {TAG: \"ref-${build.trigger}\"}\n")
                .match("default", trigger("-x")).get(0).refused()).isFalse();
    }

    @Test
    void aControlCharacterInTheValueIsShownEscapedInTheMessage() {
        PlannedJob job = rules("      command: [/usr/bin/git, fetch, origin, \"${build.trigger}\"]\n")
                .match("default", trigger("x\u001b]0;owned\u0007")).get(0);

        assertThat(job.refusal()).contains("\"x\\x1b]0;owned\\x07\"").doesNotContain("\u001b");
    }

    @Test
    void aValueThatBeginsItsArgumentWithADashIsRefusedButNotAfterAFixedPrefix() {
        RuleSet rules = rules("      command: [/usr/bin/git, fetch, origin, \"${build.trigger}\", \"--ref=${build.trigger}\"]\n");

        PlannedJob job = rules.match("default", trigger("--upload-pack=touch")).get(0);

        assertThat(job.refusal()).contains("into argument 3 of 'command'").contains("begins with '-'");
        assertThat(job.argv()).containsExactly("/usr/bin/git", "fetch", "origin", "${build.trigger}",
                "--ref=--upload-pack=touch");
    }

    @Test
    void aRunsValueIsCheckedForItsOwnJobOnly() {
        RuleSet rules = TestRules.parse("rules:\n  - name: each\n    when: {runs: {match: each}}\n"
                + "    run: {command: [/opt/run.sh, \"${run.name}\"]}\n");
        List<Run> runs = List.of(run("build-armhf", "armhf", "PASSED"), run("x$(id)", "x86", "PASSED"));

        List<PlannedJob> jobs = rules.match("default", event("andy-corp/lmp", "PASSED", "t", runs));

        assertThat(jobs).extracting(PlannedJob::refused).containsExactly(false, true);
    }

    @Test
    void theOptOutWritesTheValuesAsSentAndTheLoadWarnsOfIt() {
        RuleSet rules = rules("      command: [/opt/notify, \"${build.trigger}\"]\n      payload-values: as-sent\n");

        PlannedJob job = rules.match("default", trigger("x y; z")).get(0);

        assertThat(job.refused()).isFalse();
        assertThat(job.argv()).containsExactly("/opt/notify", "x y; z");
        assertThat(rules.writingWarnings()).singleElement().asString().startsWith("rules.yaml:5:7: 'run' writes"
                + " payload-values: as-sent: its jobs get the build's own text");
        assertThat(rules.snapshots().get("per-trigger")).contains("\"payload-values\":\"as-sent\"");
    }

    @Test
    void anUnknownOptOutValueIsAnErrorAtItsPlace() {
        assertThatThrownBy(() -> rules("      command: [/opt/notify, \"${build.trigger}\"]\n      payload-values: as-is\n"))
                .hasMessageContaining("rules.yaml:5:23: 'payload-values' is checked (the default) or as-sent, got"
                        + " 'as-is'");
    }

    @Test
    void aFollowUpIsCheckedWhenItIsPlannedAndMayOptOutItself() {
        RuleSet rules = TestRules.parse("rules:\n  - name: deploy\n    run: {command: [/bin/true]}\n"
                + "    on-failure: {command: [/opt/page, \"${build.trigger}\"]}\n"
                + "    on-success: {command: [/opt/page, \"${build.trigger}\"], payload-values: as-sent}\n");
        BuildEvent event = trigger("x;y");
        String spec = rules.match("default", event).get(0).workflow().followUps();

        PlannedJob failed = FollowUps.plan(spec, "default", event, null,
                new FollowUpParent("01J", "deploy", "FAILED", 1, 1, "/x.log")).orElseThrow();
        PlannedJob succeeded = FollowUps.plan(spec, "default", event, null,
                new FollowUpParent("01J", "deploy", "SUCCEEDED", 0, 1, "/x.log")).orElseThrow();

        assertThat(failed.refusal()).startsWith("not started: rule 'deploy/on-failure' writes ${build.trigger}");
        assertThat(succeeded.refused()).isFalse();
    }

    @Test
    void theDryRunShowsTheRefusalAsTheServerStoresIt() {
        DryRun dryRun = rules("      command: [/bin/bash, \"/opt/triggers/${build.trigger}\"]\n")
                .explain("default", trigger("../../../../dev/stdin"));

        assertThat(new DryRunRenderer(true).render(dryRun)).contains("    refused: stored FAILED, not started: rule"
                + " 'per-trigger' writes ${build.trigger} into argument 1 of 'command', and its value"
                + " \"../../../../dev/stdin\" is refused");
    }
}
